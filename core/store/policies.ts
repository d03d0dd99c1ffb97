import type { PolicyLimits, PolicyStore, PolicyWrite } from "../contracts/policies.ts";
import type { SqlDriver, SqlExecutor } from "../contracts/sql.ts";
import { run } from "./unavailable.ts";

/**
 * Throughput policies and their slots, in SQL. The limits live in the store so that every process
 * reads the same ones; a slot is a row leased by a delivery, so a dead process's slots come back.
 *
 * @example
 * const policies = new SqlPolicyStore(db);
 * await policies.syncPolicies([{ name: "crm", concurrency: 4, rate: null }]);
 * const granted = await policies.acquireSlots("crm", "worker-1", [deliveryId], 30_000);
 */
export class SqlPolicyStore implements PolicyStore {
  constructor(private readonly db: SqlDriver) {}

  async syncPolicies(policies: PolicyWrite[]): Promise<void> {
    if (policies.length === 0) return;
    await run(this.db, "sync throughput policies", () =>
      this.db.transaction(async (tx) => {
        for (const group of byRateGiven(policies))
          await upsertPolicies(tx, group, "config", "WHERE hookline_policies.source = 'config'");
      }),
    );
  }

  async setPolicy(policy: PolicyWrite): Promise<void> {
    await run(this.db, "set a throughput policy", () => upsertPolicies(this.db, [policy], "api"));
  }

  async deletePolicy(name: string): Promise<boolean> {
    const rows = await run(this.db, "delete a throughput policy", () =>
      this.db.query("DELETE FROM hookline_policies WHERE name = $1 RETURNING name", [name]),
    );
    return rows.length > 0;
  }

  async listPolicies(): Promise<Array<PolicyLimits & { inUse: number }>> {
    const rows = await run(this.db, "list throughput policies", () =>
      this.db.query<{ name: string; concurrency: number; rate: number | null; in_use: string | number }>(
        `SELECT p.name, p.concurrency, p.rate,
                (SELECT count(*) FROM hookline_policy_slots s WHERE s.policy = p.name AND s.lease_until > now()) AS in_use
           FROM hookline_policies p ORDER BY p.name`,
      ),
    );
    return rows.map((r) => ({
      name: r.name,
      concurrency: r.concurrency,
      ...(r.rate === null ? {} : { rate: Number(r.rate) }),
      inUse: Number(r.in_use),
    }));
  }

  /**
   * Takes slots under the policy's advisory lock (one taker per policy at a time, across processes):
   * as many as its concurrency leaves free and, with a rate, as many whole tokens as its bucket holds.
   * The bucket refills at `rate` per second up to one second's worth (at least 1) and is charged for
   * each slot taken.
   */
  async acquireSlots(policy: string, owner: string, holders: string[], leaseMs: number): Promise<string[]> {
    if (holders.length === 0) return [];
    const rows = await run(this.db, "take throughput slots", () =>
      this.db.transaction(async (tx) => {
        await tx.query("SELECT pg_advisory_xact_lock(hashtext('hookline.policy:' || $1))", [policy]);
        const taken = await tx.query<{ holder: string }>(
          `WITH p AS (
             SELECT concurrency, rate,
                    CASE WHEN rate IS NULL THEN NULL ELSE
                      LEAST(GREATEST(rate, 1), tokens + rate * GREATEST(extract(epoch FROM clock_timestamp() - refilled_at), 0))
                    END AS bucket
               FROM hookline_policies WHERE name = $1
           ), free AS (
             SELECT LEAST(
                      GREATEST(coalesce((SELECT concurrency FROM p), 0)
                        - (SELECT count(*) FROM hookline_policy_slots WHERE policy = $1 AND lease_until > now()), 0),
                      coalesce(floor((SELECT bucket FROM p)), 2147483647)) AS n
           ), gone AS (
             DELETE FROM hookline_policy_slots WHERE policy = $1 AND lease_until <= now()
           )
           INSERT INTO hookline_policy_slots (policy, holder, owner, lease_until)
           SELECT $1, h.value::uuid, $2, now() + $4 * interval '1 millisecond'
             FROM jsonb_array_elements_text($3::text::jsonb) WITH ORDINALITY AS h(value, ord), free
            WHERE h.ord <= free.n
           ON CONFLICT (policy, holder) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
           RETURNING holder`,
          [policy, owner, JSON.stringify(holders), leaseMs],
        );
        // A rated policy's bucket: what it held now, less what was taken (also when nothing was).
        await tx.query(
          `UPDATE hookline_policies SET
             tokens = LEAST(GREATEST(rate, 1), tokens + rate * GREATEST(extract(epoch FROM clock_timestamp() - refilled_at), 0)) - $2,
             refilled_at = clock_timestamp()
           WHERE name = $1 AND rate IS NOT NULL`,
          [policy, taken.length],
        );
        return taken;
      }),
    );
    return rows.map((r) => r.holder);
  }
}

/** Policies whose rate is given (a number or null) apart from those that leave it as stored. */
const byRateGiven = (policies: PolicyWrite[]): PolicyWrite[][] =>
  [policies.filter((p) => p.rate !== undefined), policies.filter((p) => p.rate === undefined)].filter(
    (g) => g.length > 0,
  );

/**
 * Inserts or updates policies in one statement. All of one group either give their rate (a number, or
 * null for none) or leave it out, and then an existing row keeps its rate: a writer that does not know
 * a policy's rate never clears it.
 */
async function upsertPolicies(
  tx: SqlExecutor,
  policies: PolicyWrite[],
  source: "config" | "api",
  onlyIf = "",
): Promise<void> {
  const keepRate = policies[0]!.rate === undefined;
  const rows = policies.map((p) => ({ name: p.name, concurrency: p.concurrency, rate: p.rate ?? null }));
  await tx.query(
    `INSERT INTO hookline_policies (name, concurrency, rate, source, updated_at)
     SELECT name, concurrency, rate, $2::text, clock_timestamp()
       FROM jsonb_to_recordset($1::text::jsonb) AS x(name text, concurrency int, rate double precision)
     ON CONFLICT (name) DO UPDATE SET concurrency = EXCLUDED.concurrency,
       ${keepRate ? "" : "rate = EXCLUDED.rate,"} source = EXCLUDED.source, updated_at = EXCLUDED.updated_at
     ${onlyIf}`,
    [JSON.stringify(rows), source],
  );
}
