import type { SqlExecutor } from "../contracts/sql.ts";
import type { GaugeReading } from "../telemetry/telemetry.ts";

/** Rows each state's count reads at most: past it a count says "at least this many". */
export const BACKLOG_CAP = 100_000;

// Each branch's WHERE implies one partial index's predicate (migration 10), so each reads only the
// rows in that state through its index — the queue, never the history of ended deliveries, which is
// nearly all of the table — and stops at the cap. The due branches without a policy walk their index
// (events' and bulk runs' deliveries apart, as it leads with `bulk`) in due order, so the oldest due
// delivery is always among the rows read.
const QUEUE = `
WITH q AS (
  (SELECT webhook, 'due' AS k, next_at FROM hookline_delivery_state
    WHERE status = 'pending' AND policy IS NULL AND NOT bulk AND next_at <= now() ORDER BY next_at LIMIT $1)
  UNION ALL
  (SELECT webhook, 'due' AS k, next_at FROM hookline_delivery_state
    WHERE status = 'pending' AND policy IS NULL AND bulk AND next_at <= now() ORDER BY next_at LIMIT $1)
  UNION ALL
  (SELECT webhook, 'due', next_at FROM hookline_delivery_state
    WHERE status = 'pending' AND policy IS NOT NULL AND next_at <= now() LIMIT $1)
  UNION ALL
  (SELECT webhook, 'scheduled', NULL FROM hookline_delivery_state
    WHERE status = 'pending' AND policy IS NULL AND NOT bulk AND next_at > now() LIMIT $1)
  UNION ALL
  (SELECT webhook, 'scheduled', NULL FROM hookline_delivery_state
    WHERE status = 'pending' AND policy IS NULL AND bulk AND next_at > now() LIMIT $1)
  UNION ALL
  (SELECT webhook, 'scheduled', NULL FROM hookline_delivery_state
    WHERE status = 'pending' AND policy IS NOT NULL AND next_at > now() LIMIT $1)
  UNION ALL
  (SELECT webhook, 'waiting', NULL FROM hookline_delivery_state WHERE status = 'waiting' LIMIT $1)
  UNION ALL
  (SELECT webhook, 'paused', NULL FROM hookline_delivery_state WHERE status = 'paused' LIMIT $1)
  UNION ALL
  (SELECT webhook, 'in_flight', NULL FROM hookline_delivery_state WHERE status = 'in_flight' LIMIT $1)
)
SELECT webhook,
       count(*) FILTER (WHERE k = 'due')::int AS due,
       count(*) FILTER (WHERE k = 'scheduled')::int AS scheduled,
       count(*) FILTER (WHERE k = 'waiting')::int AS waiting,
       count(*) FILTER (WHERE k = 'paused')::int AS paused,
       count(*) FILTER (WHERE k = 'in_flight')::int AS in_flight,
       coalesce(extract(epoch FROM now() - min(next_at) FILTER (WHERE k = 'due')), 0)::float8 AS oldest_due_age
  FROM q GROUP BY webhook`;

// Slots are numbered 1..concurrency per policy (primary key): this reads at most the limits' sum.
const POLICIES = `
SELECT p.name AS policy, p.concurrency AS "limit",
       (SELECT count(*) FROM hookline_policy_slots s WHERE s.policy = p.name AND s.lease_until > now())::int AS in_use
  FROM hookline_policies p`;

const PAUSED = "SELECT webhook FROM hookline_webhook_health WHERE paused_at IS NOT NULL";

/**
 * The store's gauges for a metrics scrape: each webhook's queue by state and the age of its oldest
 * due delivery, each throughput policy's slots held and limit, the webhooks paused. Its cost is the
 * queue's (each state counted through its partial index, at most `cap` rows each), not the number
 * of deliveries ever written; callers cache it between scrapes (core/telemetry/prometheus.ts).
 *
 * @example const { queue } = await readGauges(store.sql); // [{ webhook: "crm", due: 3, … }]
 */
export async function readGauges(
  db: SqlExecutor,
  cap = BACKLOG_CAP,
): Promise<Omit<GaugeReading, "webhooks">> {
  const queue = await db.query<{
    webhook: string;
    due: number;
    scheduled: number;
    waiting: number;
    paused: number;
    in_flight: number;
    oldest_due_age: number;
  }>(QUEUE, [cap]);
  const policies = await db.query<{ policy: string; limit: number; in_use: number }>(POLICIES);
  const paused = await db.query<{ webhook: string }>(PAUSED);
  return {
    queue: queue.map((q) => ({
      webhook: q.webhook,
      due: Number(q.due),
      scheduled: Number(q.scheduled),
      waiting: Number(q.waiting),
      paused: Number(q.paused),
      inFlight: Number(q.in_flight),
      oldestDueAge: Math.max(0, Number(q.oldest_due_age)),
    })),
    policies: policies.map((p) => ({ policy: p.policy, inUse: Number(p.in_use), limit: Number(p.limit) })),
    paused: new Set(paused.map((p) => p.webhook)),
  };
}

/** A delivery's outcomes, as the overview counts them. */
export const OUTCOMES = ["succeeded", "failed", "halted", "aborted", "skipped"] as const;
export type OutcomeCounts = Record<(typeof OUTCOMES)[number], number>;

// Outcomes are tallied as they are recorded (core/store/outcomes.ts, run-health.ts): the rows not
// merged yet are in hookline_run_tallies (through its index of unmerged rows, by time), the merged
// ones in hookline_outcome_minutes by minute. One statement reads both, so a merge running meanwhile
// is seen whole or not at all. Both windows start at a whole minute.
const OUTCOMES_SQL = `
WITH w AS (SELECT date_trunc('minute', now() - interval '1 hour') AS hour,
                  date_trunc('minute', now() - interval '1 day') AS day)
SELECT status, coalesce(sum(n) FILTER (WHERE at >= (SELECT hour FROM w)), 0)::bigint AS hour,
       coalesce(sum(n), 0)::bigint AS day
  FROM (SELECT status, n, minute AS at FROM hookline_outcome_minutes WHERE minute >= (SELECT day FROM w)
        UNION ALL
        SELECT status, n, at FROM hookline_run_tallies
         WHERE NOT merged AND at >= (SELECT day FROM w) AND status IN ('succeeded', 'failed', 'halted', 'aborted', 'skipped')) x
 GROUP BY status`;

/**
 * Deliveries ended in the last hour and the last day, by outcome, counted exactly (a delivery
 * retried counts each time it ends). Its cost is a day's minutes (at most 1,440 rows per outcome)
 * plus the tallies of the last few minutes not merged yet, whatever the number of deliveries.
 *
 * @example const { hour, day } = await readOutcomes(store.sql); // hour.failed === 3
 */
export async function readOutcomes(db: SqlExecutor): Promise<{ hour: OutcomeCounts; day: OutcomeCounts }> {
  const rows = await db.query<{ status: string; hour: string | number; day: string | number }>(OUTCOMES_SQL);
  const hour = { succeeded: 0, failed: 0, halted: 0, aborted: 0, skipped: 0 };
  const day = { ...hour };
  for (const r of rows)
    if ((OUTCOMES as readonly string[]).includes(r.status)) {
      hour[r.status as keyof OutcomeCounts] = Number(r.hour);
      day[r.status as keyof OutcomeCounts] = Number(r.day);
    }
  return { hour, day };
}
