import type { PluginMigrations } from "../contracts/extension.ts";
import type { SqlDriver } from "../contracts/sql.ts";
import type { StoreMigrator } from "../contracts/store.ts";
import { HooklineError } from "../errors.ts";
import { migrations } from "./migrations.ts";
import { NORMALIZE_STREAMS } from "./streams.ts";
import { run } from "./unavailable.ts";

/**
 * A state row (pending, due now) for each delivery written without one (see `migrate`), and its run
 * and the run's tally, as the outbox insert writes them.
 */
const GIVE_STATE = `WITH s AS (
  INSERT INTO hookline_delivery_state (id, seq, webhook, run_id, policy, ordering_key, max_attempts)
  SELECT c.id, c.seq, c.webhook, c.run_id, c.policy, c.ordering_key, c.max_attempts FROM hookline_deliveries c
   WHERE NOT EXISTS (SELECT 1 FROM hookline_delivery_state s WHERE s.id = c.id)
   ORDER BY c.seq
  RETURNING run_id, webhook
), r AS (
  INSERT INTO hookline_runs (id) SELECT DISTINCT run_id FROM s ON CONFLICT (id) DO NOTHING
)
INSERT INTO hookline_run_tallies (run_id, webhook, status, n)
SELECT run_id, webhook, 'created', count(*) FROM s GROUP BY run_id, webhook`;

/**
 * Brings the schema up to date: the core's migrations (core/store/migrations.ts), then each plugin's,
 * each step once, recorded in `hookline_migrations`.
 *
 * @example
 * await new SqlMigrator(db, [{ plugin: "inbound", migrations: inboundMigrations }]).migrate();
 */
export class SqlMigrator implements StoreMigrator {
  constructor(
    private readonly db: SqlDriver,
    private readonly pluginMigrations: readonly PluginMigrations[] = [],
  ) {}

  /** Every migration this build knows (the core's, then each plugin's), as `plugin:version`. */
  private known(): string[] {
    return [{ plugin: "core", migrations }, ...this.pluginMigrations].flatMap(
      ({ plugin, migrations: list }) => list.map((m) => `${plugin}:${m.version}`),
    );
  }

  /**
   * Checks, without changing anything, that every migration this build knows has been applied: for a
   * host that must not migrate (the edge worker: the servers own the schema). Throws
   * HOOKLINE_STORE_SCHEMA_BEHIND naming the missing ones.
   */
  async checkMigrated(): Promise<void> {
    const done = await run(this.db, "check migrations", async () => {
      const [table] = await this.db.query<{ present: boolean }>(
        "SELECT to_regclass('hookline_migrations') IS NOT NULL AS present",
      );
      if (!table?.present) return new Set<string>();
      return new Set(
        (await this.db.query<{ id: string }>("SELECT id FROM hookline_migrations")).map((r) => r.id),
      );
    });
    const missing = this.known().filter((id) => !done.has(id));
    if (missing.length > 0)
      throw new HooklineError(
        "HOOKLINE_STORE_SCHEMA_BEHIND",
        `the store's schema is behind this build: ${missing.length > 6 ? `${missing.slice(0, 6).join(", ")} and ${missing.length - 6} more` : missing.join(", ")} not applied; run \`hookline migrate\` (or start \`hookline serve\`) against this database first`,
      );
  }

  async migrate(): Promise<void> {
    await run(this.db, "migrate", () =>
      this.db.transaction(async (tx) => {
        // One migrator at a time when many processes start against one server.
        await tx.query("SELECT pg_advisory_xact_lock(7204519)");
        await tx.query(
          "CREATE TABLE IF NOT EXISTS hookline_migrations (id text PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
        );
        const done = new Set(
          (await tx.query<{ id: string }>("SELECT id FROM hookline_migrations")).map((r) => r.id),
        );
        // The core's series first, then each plugin's, each in version order, each step once.
        let applied = 0;
        for (const { plugin, migrations: list } of [
          { plugin: "core", migrations },
          ...this.pluginMigrations,
        ]) {
          for (const m of [...list].sort((a, b) => a.version - b.version)) {
            const id = `${plugin}:${m.version}`;
            if (done.has(id)) continue;
            for (const statement of m.sql
              .split(/;\s*\n/)
              .map((x) => x.trim())
              .filter(Boolean)) {
              await tx.query(statement);
            }
            await tx.query("INSERT INTO hookline_migrations (id, name) VALUES ($1, $2)", [id, m.name]);
            applied++;
          }
        }
        // A migration may have written deliveries (a plugin moving its own queue in) as content alone:
        // each gets its state row, pending, then ordered streams their one head.
        if (applied > 0) {
          await tx.query(GIVE_STATE);
          await tx.query(NORMALIZE_STREAMS);
        }
      }),
    );
  }
}
