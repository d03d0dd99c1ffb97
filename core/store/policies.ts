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
   * Takes slots as many as the policy's concurrency leaves free and, with a rate, as many whole tokens
   * as its bucket holds, in one statement (see `takeSlots`). Returns the holders that got one, in order.
   */
  async acquireSlots(policy: string, owner: string, holders: string[], leaseMs: number): Promise<string[]> {
    if (holders.length === 0) return [];
    const rows = await run(this.db, "take throughput slots", () =>
      this.db.query<{ holder: string }>(
        `WITH want AS (
           SELECT h.value::uuid AS id, $4::text AS policy, h.ord AS k
             FROM jsonb_array_elements_text($3::text::jsonb) WITH ORDINALITY AS h(value, ord)
         ), ${takeSlots("$1", "$2")}
         SELECT holder::text AS holder FROM slotted`,
        [owner, leaseMs, JSON.stringify(holders), policy],
      ),
    );
    const got = new Set(rows.map((r) => r.holder));
    return holders.filter((h) => got.has(h));
  }
}

/**
 * The tokens in a rated policy's bucket now (policy row `p`): refilled at `rate` per second since
 * `refilled_at`, up to one second's worth (at least 1).
 */
const BUCKET =
  "LEAST(GREATEST(p.rate, 1), p.tokens + p.rate * GREATEST(extract(epoch FROM clock_timestamp() - p.refilled_at), 0))";

/**
 * The policies with a slot free and, with a rate, a whole token in the bucket, as a statement's
 * snapshot sees them, each with `n`: how many of its deliveries a claim of `limit` could lease (its
 * free slots, its whole tokens, at most `limit`). A claim walks no other policy's deliveries.
 */
export const freeSlots = (limit: string): string => `
  SELECT f.name, LEAST(${limit}, f.free, f.tokens)::int AS n FROM (
    SELECT p.name,
           p.concurrency - (SELECT count(*) FROM hookline_policy_slots s
                             WHERE s.policy = p.name AND s.lease_until > now()) AS free,
           CASE WHEN p.rate IS NULL THEN ${limit} ELSE floor(${BUCKET}) END AS tokens
      FROM hookline_policies p) f
   WHERE f.free > 0 AND f.tokens >= 1`;

/**
 * The CTEs that give deliveries their policies' slots, for a statement that has `want (id uuid, policy
 * text, k bigint)`: the deliveries that need a slot, `k` numbering each policy's in the order they
 * should go. It ends in `slotted (holder)`, the deliveries that got one, leased to `owner` for `leaseMs`.
 *
 * The count of free slots comes from the statement's snapshot, so two claims may both see the same
 * slot free; the slots are numbered and (policy, slot) is the primary key, so only one of them gets it
 * (the other's insert finds the row and skips it, or takes it over only if its lease has expired).
 * The limit holds across processes without a lock. A rated policy's bucket is charged under its row
 * lock (a concurrent claim re-reads the row before it charges): a claim that then loses a slot race
 * has spent a token it did not use, which errs on the side of the limit.
 *
 * @example
 * db.query(`WITH want AS (SELECT $3::uuid AS id, 'crm' AS policy, 1::bigint AS k), ${takeSlots("$1", "$2")}
 *           SELECT holder FROM slotted`, [owner, 30_000, id]);
 */
export const takeSlots = (owner: string, leaseMs: string): string => {
  return `pol AS (
    SELECT p.name, p.concurrency,
           LEAST(GREATEST(p.concurrency - (SELECT count(*) FROM hookline_policy_slots s
                                             WHERE s.policy = p.name AND s.lease_until > now()), 0),
                 (SELECT count(*) FROM want w WHERE w.policy = p.name)) AS n
      FROM hookline_policies p WHERE p.name IN (SELECT policy FROM want)
  ), bucket AS (
    UPDATE hookline_policies p SET taken = LEAST(floor(${BUCKET}), pol.n)::int,
           tokens = ${BUCKET} - LEAST(floor(${BUCKET}), pol.n), refilled_at = clock_timestamp()
      FROM pol WHERE p.name = pol.name AND p.rate IS NOT NULL
    RETURNING p.name, p.taken
  ), granted AS (
    SELECT pol.name, pol.concurrency, coalesce(b.taken, pol.n) AS n FROM pol LEFT JOIN bucket b ON b.name = pol.name
  ), numbered AS (
    SELECT g.name, x.slot, row_number() OVER (PARTITION BY g.name ORDER BY x.slot) AS k
      FROM granted g CROSS JOIN LATERAL generate_series(1, g.concurrency) AS x(slot)
     WHERE g.n > 0 AND NOT EXISTS (SELECT 1 FROM hookline_policy_slots s
                                    WHERE s.policy = g.name AND s.slot = x.slot AND s.lease_until > now())
  ), slotted AS (
    INSERT INTO hookline_policy_slots (policy, slot, holder, owner, lease_until)
    SELECT w.policy, f.slot, w.id, ${owner}, now() + ${leaseMs} * interval '1 millisecond'
      FROM want w JOIN granted g ON g.name = w.policy AND w.k <= g.n
      JOIN numbered f ON f.name = w.policy AND f.k = w.k
    ON CONFLICT (policy, slot) DO UPDATE
       SET holder = EXCLUDED.holder, owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
     WHERE hookline_policy_slots.lease_until <= now()
    RETURNING holder
  )`;
};

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
