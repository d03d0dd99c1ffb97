import type { LeaseTo, NewDelivery } from "../contracts/delivery.ts";
import type { SqlDriver, SqlExecutor } from "../contracts/sql.ts";
import { streamsChanged, streamsOf } from "./streams.ts";
import { run } from "./unavailable.ts";

/**
 * The outbox insert: one statement for any number of rows; a known idempotency key is skipped; a
 * delivery of a halted run is written halted; one of a disabled webhook is not written. With
 * `parents` (row id → parent delivery and status), a row is written only if its parent now has that
 * status: follow-ups follow applied outcomes only.
 * Returns the ids inserted. A delivery with an ordering key is written `waiting` and its stream given
 * a head (`streamsChanged`), so `tx` must be a transaction when any has one (`enqueueDeliveries` sees
 * to it). The queue's `enqueue` and `complete` and the outbox store share it.
 *
 * @example const ids = await insertDeliveries(tx, [delivery]);
 */
export async function insertDeliveries(
  tx: SqlExecutor,
  deliveries: NewDelivery[],
  parents?: Map<string, { id: string; status: string }>,
): Promise<string[]> {
  return (await insertRows(tx, deliveries, parents)).map((r) => r.id);
}

/**
 * Enqueues deliveries, writing those `lease.ids` names leased to `lease.owner` (see `LeaseTo`): one
 * statement, or one transaction when any belongs to an ordered stream.
 *
 * @example const { leased } = await enqueueLeased(db, deliveries, { owner: worker.owner, leaseMs: 60_000, ids });
 */
export async function enqueueLeased(
  db: SqlDriver,
  deliveries: NewDelivery[],
  lease: LeaseTo,
): Promise<{ inserted: string[]; leased: string[] }> {
  const rows = await writeDeliveries(db, deliveries, lease);
  return {
    inserted: rows.map((r) => r.id),
    leased: rows.filter((r) => r.status === "in_flight").map((r) => r.id),
  };
}

async function insertRows(
  tx: SqlExecutor,
  deliveries: NewDelivery[],
  parents?: Map<string, { id: string; status: string }>,
  lease?: LeaseTo,
): Promise<Array<{ id: string; status: string }>> {
  const { sql, params } = outboxInsert(deliveries, parents, lease);
  const inserted = await tx.query<{
    id: string;
    webhook: string;
    ordering_key: string | null;
    status: string;
  }>(sql, params);
  await streamsChanged(tx, streamsOf(inserted));
  return inserted;
}

/**
 * The outbox insert's statement and parameters for `deliveries` (see `insertDeliveries`); it returns
 * the rows written, each with its id, webhook, ordering key and status.
 *
 * @example const { sql, params } = outboxInsert(deliveries); await tx.query(sql, params);
 */
export function outboxInsert(
  deliveries: NewDelivery[],
  parents?: Map<string, { id: string; status: string }>,
  lease?: LeaseTo,
): { sql: string; params: unknown[] } {
  const rows = deliveries.map((d, ord) => ({
    ord,
    id: d.id,
    webhook: d.webhook,
    idempotency_key: d.idempotencyKey,
    run_id: d.runId,
    event_id: d.eventId,
    event_type: d.eventType,
    customer_id: d.customerId,
    context: d.context,
    max_attempts: d.maxAttempts,
    delay_ms: d.delayMs ?? 0,
    parent: parents?.get(d.id)?.id,
    parent_status: parents?.get(d.id)?.status,
    policy: d.policy,
    ordering_key: d.orderingKey,
    traceparent: d.traceparent,
    ...(d.bulk ? { bulk: true } : {}),
    ...(lease?.ids.has(d.id) && d.orderingKey == null ? { lease: true } : {}),
  }));
  return rows.some((r) => "lease" in r)
    ? { sql: INSERT_LEASED, params: [JSON.stringify(rows), lease!.owner, lease!.leaseMs] }
    : { sql: INSERT, params: [JSON.stringify(rows)] };
}

/**
 * The outbox insert: the content rows (`hookline_deliveries`, written once; a known idempotency key is
 * skipped, and so is a disabled webhook's) and, for those inserted, their state rows, their runs
 * (each written once) and the runs'
 * tallies (`created`, and `halted` for a halted run's). With `leased`, rows marked `lease` are written in
 * flight to the owner ($2) for $3 ms, their first attempt counted (a halted run's are written halted
 * all the same).
 *
 * The disabled webhooks are read once (an array), not anti-joined: an anti join against that small,
 * never-analysed table made the planner expect one row out of `x`, and join `x` to `c` in a nested
 * loop — a million comparisons for a thousand rows, 2.5 times the statement's time.
 */
const insertSql = (leased: boolean) => `
     WITH x AS (
       SELECT x.*,
              CASE WHEN h.run_id IS NOT NULL THEN 'halted' WHEN x.ordering_key IS NOT NULL THEN 'waiting'
                   ${leased ? "WHEN x.lease THEN 'in_flight'" : ""} ELSE 'pending' END AS status,
              CASE WHEN h.run_id IS NULL THEN NULL ELSE 'run halted: ' || h.reason END AS reason${
                leased ? ", x.lease AND h.run_id IS NULL AS leased" : ""
              }
         FROM jsonb_to_recordset($1::text::jsonb) AS x(ord int, id uuid, webhook text, idempotency_key text, run_id text, event_id text,
                                                 event_type text, customer_id text, context jsonb, max_attempts int, delay_ms int, parent uuid, parent_status text,
                                                 policy text, ordering_key text, traceparent text, bulk boolean${leased ? ", lease boolean" : ""})
         LEFT JOIN hookline_halted_runs h ON h.webhook = x.webhook AND h.run_id = x.run_id
        WHERE (x.parent IS NULL OR EXISTS (SELECT 1 FROM hookline_delivery_state p WHERE p.id = x.parent AND p.status = x.parent_status))
          AND x.webhook <> ALL (ARRAY(SELECT webhook FROM hookline_webhook_health WHERE disabled_at IS NOT NULL))
     ), c AS (
       INSERT INTO hookline_deliveries (id, webhook, idempotency_key, run_id, event_id, event_type, customer_id, context, max_attempts,
                                        policy, ordering_key, traceparent)
       SELECT id, webhook, idempotency_key, run_id, event_id, event_type, customer_id, context, max_attempts, policy, ordering_key,
              traceparent
         FROM x ORDER BY ord
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING id, seq
     ), s AS (
     INSERT INTO hookline_delivery_state (id, seq, webhook, run_id, policy, ordering_key, max_attempts, next_at, status, reason, bulk${
       leased ? ", lease_owner, lease_until, attempts" : ""
     })
     SELECT x.id, c.seq, x.webhook, x.run_id, x.policy, x.ordering_key, x.max_attempts,
            now() + x.delay_ms * interval '1 millisecond', x.status, x.reason, coalesce(x.bulk, false)${
              leased
                ? `,
            CASE WHEN x.leased THEN $2 END,
            CASE WHEN x.leased THEN now() + $3 * interval '1 millisecond' END,
            CASE WHEN x.leased THEN 1 ELSE 0 END`
                : ""
            }
       FROM x JOIN c ON c.id = x.id
      ORDER BY c.seq
     RETURNING id, webhook, ordering_key, status, run_id
     ), r AS (
       INSERT INTO hookline_runs (id) SELECT DISTINCT run_id FROM s ON CONFLICT (id) DO NOTHING
     ), t AS (
       INSERT INTO hookline_run_tallies (run_id, webhook, status, n)
       SELECT run_id, webhook, 'created', count(*) FROM s GROUP BY run_id, webhook
       UNION ALL
       SELECT run_id, webhook, status, count(*) FROM s WHERE status = 'halted' GROUP BY run_id, webhook, status
     )
     SELECT id, webhook, ordering_key, status FROM s`;
const INSERT = insertSql(false);
const INSERT_LEASED = insertSql(true);

/**
 * Enqueues deliveries on their own: one statement, or one transaction when any belongs to an ordered
 * stream (its head is settled with the insert). Returns the ids inserted (a known idempotency key is
 * skipped).
 *
 * @example const ids = await enqueueDeliveries(db, deliveries);
 */
export async function enqueueDeliveries(db: SqlDriver, deliveries: NewDelivery[]): Promise<string[]> {
  return (await writeDeliveries(db, deliveries)).map((r) => r.id);
}

/** One statement, or one transaction when any delivery belongs to an ordered stream (its head is settled with the insert). */
async function writeDeliveries(
  db: SqlDriver,
  deliveries: NewDelivery[],
  lease?: LeaseTo,
): Promise<Array<{ id: string; status: string }>> {
  if (deliveries.length === 0) return [];
  return run(db, "enqueue deliveries", () =>
    deliveries.some((d) => d.orderingKey != null)
      ? db.transaction((tx) => insertRows(tx, deliveries, undefined, lease))
      : insertRows(db, deliveries, undefined, lease),
  );
}
