import type { NewDelivery } from "../contracts/delivery.ts";
import type { SqlDriver, SqlExecutor } from "../contracts/sql.ts";
import { streamsChanged, streamsOf } from "./streams.ts";
import { run } from "./unavailable.ts";

/**
 * The outbox insert: one statement for any number of rows; a known idempotency key is skipped; a
 * delivery of a halted run is written halted. With `parents` (row id → parent delivery and status), a
 * row is written only if its parent now has that status: follow-ups follow applied outcomes only.
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
  const rows = deliveries.map((d, ord) => ({
    ord,
    id: d.id,
    webhook: d.webhook,
    idempotency_key: d.idempotencyKey,
    run_id: d.runId,
    event_id: d.eventId,
    event_type: d.eventType,
    customer_id: d.customerId ?? null,
    context: d.context,
    max_attempts: d.maxAttempts,
    delay_ms: d.delayMs ?? 0,
    parent: parents?.get(d.id)?.id ?? null,
    parent_status: parents?.get(d.id)?.status ?? null,
    policy: d.policy ?? null,
    ordering_key: d.orderingKey ?? null,
  }));
  const inserted = await tx.query<{ id: string; webhook: string; ordering_key: string | null }>(
    `INSERT INTO hookline_deliveries (id, webhook, idempotency_key, run_id, event_id, event_type, customer_id, context, max_attempts,
                                      policy, ordering_key, next_at, status, reason)
     SELECT x.id, x.webhook, x.idempotency_key, x.run_id, x.event_id, x.event_type, x.customer_id, x.context, x.max_attempts,
            x.policy, x.ordering_key,
            now() + x.delay_ms * interval '1 millisecond',
            CASE WHEN h.run_id IS NOT NULL THEN 'halted' WHEN x.ordering_key IS NOT NULL THEN 'waiting' ELSE 'pending' END,
            CASE WHEN h.run_id IS NULL THEN NULL ELSE 'run halted: ' || h.reason END
     FROM jsonb_to_recordset($1::text::jsonb) AS x(ord int, id uuid, webhook text, idempotency_key text, run_id text, event_id text,
                                             event_type text, customer_id text, context jsonb, max_attempts int, delay_ms int, parent uuid, parent_status text,
                                             policy text, ordering_key text)
     LEFT JOIN hookline_halted_runs h ON h.webhook = x.webhook AND h.run_id = x.run_id
     WHERE x.parent IS NULL OR EXISTS (SELECT 1 FROM hookline_deliveries p WHERE p.id = x.parent AND p.status = x.parent_status)
     ORDER BY x.ord
     ON CONFLICT (idempotency_key) DO NOTHING
     RETURNING id, webhook, ordering_key`,
    [JSON.stringify(rows)],
  );
  await streamsChanged(tx, streamsOf(inserted));
  return inserted.map((r) => r.id);
}

/**
 * Enqueues deliveries on their own: one statement, or one transaction when any belongs to an ordered
 * stream (its head is settled with the insert). Returns the ids inserted (a known idempotency key is
 * skipped).
 *
 * @example const ids = await enqueueDeliveries(db, deliveries);
 */
export async function enqueueDeliveries(db: SqlDriver, deliveries: NewDelivery[]): Promise<string[]> {
  if (deliveries.length === 0) return [];
  return run(db, "enqueue deliveries", () =>
    deliveries.some((d) => d.orderingKey != null)
      ? db.transaction((tx) => insertDeliveries(tx, deliveries))
      : insertDeliveries(db, deliveries),
  );
}
