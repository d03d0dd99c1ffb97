import { afterAll, describe, expect, it } from "bun:test";
import { SqlDeliveryLog } from "../../../core/store/delivery-log.ts";
import { migrations } from "../../../core/store/migrations.ts";
import { SqlMigrator } from "../../../core/store/migrator.ts";
import { ObserverDispatch } from "../../../core/store/observers.ts";
import { SqlDeliveryQueue } from "../../../core/store/queue.ts";
import { SqlRunHealth } from "../../../core/store/run-health.ts";
import { SqlRunLog } from "../../../core/store/runs.ts";
import { type Driver, delivery, migrated, result, storeKinds } from "./fixture.ts";

const queueOf = (db: Driver) => new SqlDeliveryQueue(db, new SqlRunHealth(db), new ObserverDispatch(db));

/** The schema as the release before migration 10 left it (core migrations 1–9). */
async function beforeNarrowState(db: Driver): Promise<void> {
  await db.query(
    "CREATE TABLE hookline_migrations (id text PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
  );
  for (const m of migrations.filter((m) => m.version <= 9)) {
    for (const statement of m.sql
      .split(/;\s*\n/)
      .map((x) => x.trim())
      .filter(Boolean))
      await db.query(statement);
    await db.query("INSERT INTO hookline_migrations (id, name) VALUES ($1, $2)", [
      `core:${m.version}`,
      m.name,
    ]);
  }
}

for (const kind of storeKinds) {
  describe(`a delivery's content and its narrow state (${kind.name})`, () => {
    const open: Driver[] = [];
    afterAll(async () => {
      for (const db of open) await db.dispose();
    });

    it("upgrading keeps every delivery where it was: due ones are claimed with their content, leased ones stay leased, ended ones keep their outcome", async () => {
      const db = await kind.open();
      open.push(db);
      await beforeNarrowState(db);
      const row = (id: string, key: string, extra: string) =>
        db.query(
          `INSERT INTO hookline_deliveries (id, webhook, idempotency_key, run_id, event_id, event_type, customer_id, context,
                                            max_attempts, ordering_key, status, attempts, next_at, lease_owner, lease_until, reason)
           VALUES ($1, 'crm', $2, 'run-old', 'evt-' || $2, 'signup', 'c-1', $3::text::jsonb, 5, ${extra})`,
          [id, key, JSON.stringify({ event: { id: `evt-${key}`, data: { key } } })],
        );
      const due = crypto.randomUUID();
      const leased = crypto.randomUUID();
      const failed = crypto.randomUUID();
      await row(due, "due", "NULL, 'pending', 1, now() - interval '1 second', NULL, NULL, NULL");
      await row(
        leased,
        "leased",
        "NULL, 'in_flight', 2, now(), 'old-worker', now() + interval '1 hour', NULL",
      );
      await row(failed, "failed", "NULL, 'failed', 5, now(), NULL, NULL, 'HTTP 500'");

      await new SqlMigrator(db).migrate();

      const log = new SqlDeliveryLog(db);
      expect(await log.getDelivery(failed)).toMatchObject({
        status: "failed",
        attempts: 5,
        reason: "HTTP 500",
        runId: "run-old",
        maxAttempts: 5,
        context: { event: { id: "evt-failed", data: { key: "failed" } } },
      });
      expect(await log.getDelivery(leased)).toMatchObject({
        status: "in_flight",
        attempts: 2,
        leaseOwner: "old-worker",
      });
      const claimed = await queueOf(db).claim("new-worker", 10, 30_000);
      expect(claimed.map((c) => [c.id, c.attempts, c.context])).toEqual([
        [due, 2, { event: { id: "evt-due", data: { key: "due" } } }],
      ]);
      // What a plugin's later migration writes as content alone is given its state: pending, due.
      await db.query(
        `INSERT INTO hookline_deliveries (id, webhook, idempotency_key, run_id, event_id, event_type, context, max_attempts)
         VALUES ($1, 'crm', 'late', 'run-late', 'evt-late', 'signup', '{}'::jsonb, 3)`,
        [crypto.randomUUID()],
      );
      const late = { plugin: "late", migrations: [{ version: 1, name: "noop", sql: "SELECT 1" }] };
      await new SqlMigrator(db, [late]).migrate();
      expect((await queueOf(db).claim("new-worker", 10, 30_000)).map((c) => c.runId)).toEqual(["run-late"]);
      // …and counted in its run, as the outbox counts what it writes.
      const runs = new SqlRunLog(db, new SqlRunHealth(db));
      expect((await runs.getRun("run-late"))?.counts).toMatchObject({ total: 1, queued: 1 });
    });

    it("claims and outcomes rewrite only the state row: a delivery's content is written once", async () => {
      const db = await migrated(kind);
      open.push(db);
      const queue = queueOf(db);
      const ids = await queue.enqueue([delivery(), delivery({ maxAttempts: 1 })]);
      const versions = () =>
        db.query<{ id: string; xmin: string }>(
          "SELECT id::text AS id, xmin::text AS xmin FROM hookline_deliveries ORDER BY seq",
        );
      const written = await versions();
      const claimed = await queue.claim("w", 10, 30_000);
      expect(claimed.map((c) => c.id).sort()).toEqual([...ids].sort());
      await queue.complete([
        result(claimed[0]!, { status: "succeeded" }),
        result(claimed[1]!, { status: "pending", delayMs: 0, reason: "HTTP 503" }, 503),
      ]);
      const again = await queue.claim("w", 10, 30_000);
      expect(again.map((c) => c.id)).toEqual([claimed[1]!.id]);
      await queue.complete([result(again[0]!, { status: "failed", reason: "HTTP 500" }, 500)]);
      expect(await versions()).toEqual(written);
      const log = new SqlDeliveryLog(db);
      expect((await log.getDelivery(claimed[0]!.id))?.status).toBe("succeeded");
      expect(await log.getDelivery(claimed[1]!.id)).toMatchObject({ status: "failed", attempts: 2 });
    });
  });
}
