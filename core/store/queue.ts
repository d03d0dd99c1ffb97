import type { ClaimedDelivery, DeliveryResult, EndedRun, NewDelivery } from "../contracts/delivery.ts";
import type { CompleteOptions, DeliveryQueue } from "../contracts/queue.ts";
import type { SqlDriver, SqlExecutor } from "../contracts/sql.ts";
import { enqueueDeliveries, insertDeliveries } from "./enqueue.ts";
import type { OutcomeDispatch } from "./observers.ts";
import { recordOutcomes } from "./outcomes.ts";
import { freeSlots, takeSlots } from "./policies.ts";
import { iso, type Row } from "./rows.ts";
import type { RunSteps } from "./run-health.ts";
import { promoteHeads, streamsChanged, streamsOf } from "./streams.ts";
import { run } from "./unavailable.ts";

/**
 * The outbox as a queue, in SQL: deliveries in (`enqueue`), leased out (`claim`, `claimBatch`), given
 * back (`release`) and recorded with their outcome (`complete`). `complete` is one transaction that
 * also takes run health's steps (halts, aborts, pauses) and calls the observers, so that an outcome,
 * what it ends and what observers write of it commit together or not at all.
 *
 * @example
 * const queue = new SqlDeliveryQueue(db, runs, observers);
 * const claimed = await queue.claim("worker-1", 10, 30_000);
 */
/** How long a due delivery of a bulk run waits behind events' deliveries at most (`engine.bulkMaxWait`). */
export const BULK_MAX_WAIT_MS = 30_000;

export class SqlDeliveryQueue implements DeliveryQueue {
  constructor(
    private readonly db: SqlDriver,
    private readonly runs: RunSteps,
    private readonly observers: OutcomeDispatch,
  ) {}

  enqueue(deliveries: NewDelivery[]): Promise<string[]> {
    return enqueueDeliveries(this.db, deliveries);
  }

  /** Writes deliveries within a transaction a caller holds (an observer's follow-ups). */
  async enqueueIn(tx: SqlExecutor, deliveries: NewDelivery[]): Promise<string[]> {
    return deliveries.length === 0 ? [] : insertDeliveries(tx, deliveries);
  }

  /**
   * Leases the earliest due deliveries; its cost is the batch's, not the backlog's. Deliveries without
   * a policy are walked in due order in their own index; each policy with a slot free (and a token,
   * if rated) has its own walk, no longer than its free slots; the earliest of all the walks are
   * taken. A full policy's deliveries are never read, however many stand before the others in due
   * order. Ordered streams need no check here (only a stream's head is pending); a delivery of a
   * paused (or disabled) webhook met on the way is set aside as `paused` (until the webhook resumes,
   * or is enabled) instead of leased. Expired leases are not looked for here: `reclaimExpired` does
   * that on the worker's timer.
   *
   * A delivery of a policy is leased only with one of its slots, taken in the same statement
   * (`takeSlots`): nothing is claimed to be given back.
   */
  async claim(
    owner: string,
    limit: number,
    leaseMs: number,
    bulkMaxWaitMs = BULK_MAX_WAIT_MS,
  ): Promise<ClaimedDelivery[]> {
    // Each group (no policy; each policy with free slots) is walked twice, events' deliveries and
    // bulk ones apart (the due indexes lead with `bulk`), each in due order; of all the walks the
    // claim takes events' deliveries and bulk ones due longer than bulkMaxWait first, in due order,
    // then the other bulk ones: a bulk run never stands before an event, and never waits behind
    // events for more than bulkMaxWait.
    return this.lease(
      "claim deliveries",
      `WITH free AS (${freeSlots("$2")}), walked AS (
         SELECT * FROM (
           SELECT id, policy, webhook, next_at, seq, bulk FROM hookline_delivery_state
            WHERE status = 'pending' AND policy IS NULL AND NOT bulk AND next_at <= now()
            ORDER BY next_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED) events
         UNION ALL
         SELECT * FROM (
           SELECT id, policy, webhook, next_at, seq, bulk FROM hookline_delivery_state
            WHERE status = 'pending' AND policy IS NULL AND bulk AND next_at <= now()
            ORDER BY next_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED) bulk
         UNION ALL
         SELECT p.* FROM free CROSS JOIN LATERAL (
           SELECT * FROM (
             SELECT id, policy, webhook, next_at, seq, bulk FROM hookline_delivery_state
              WHERE status = 'pending' AND policy = free.name AND NOT bulk AND next_at <= now()
              ORDER BY next_at, seq LIMIT free.n FOR UPDATE SKIP LOCKED) pe
           UNION ALL
           SELECT * FROM (
             SELECT id, policy, webhook, next_at, seq, bulk FROM hookline_delivery_state
              WHERE status = 'pending' AND policy = free.name AND bulk AND next_at <= now()
              ORDER BY next_at, seq LIMIT free.n FOR UPDATE SKIP LOCKED) pb) p
       ), ranked AS (
         SELECT w.*, w.bulk AND w.next_at > now() - $4 * interval '1 millisecond' AS later FROM walked w
       ), met AS (
         SELECT w.id, w.policy, w.next_at, w.seq, w.later,
                NOT EXISTS (SELECT 1 FROM hookline_webhook_health h
                             WHERE h.webhook = w.webhook AND (h.paused_at IS NOT NULL OR h.disabled_at IS NOT NULL)) AS ok
           FROM ranked w ORDER BY w.later, w.next_at, w.seq LIMIT $2
       ), aside AS (
         UPDATE hookline_delivery_state d SET status = 'paused', updated_at = now()
           FROM met WHERE d.id = met.id AND NOT met.ok
       ), want AS (
         SELECT id, policy, row_number() OVER (PARTITION BY policy ORDER BY later, next_at, seq) AS k
           FROM met WHERE ok AND policy IS NOT NULL
       ), ${takeSlots("$1", "$3")}, picked AS (
         SELECT id, ok AND (policy IS NULL OR id IN (SELECT holder FROM slotted)) AS lease FROM met
       )`,
      [owner, limit, leaseMs, bulkMaxWaitMs],
    );
  }

  /**
   * Tops up a batch of one webhook. With `heads` (the ids of the batch so far), the deliveries waiting
   * behind those of them that head an ordered stream come first, in stream order: they leave in the
   * same request, after their head. Then pending deliveries of the webhook that are due or have never
   * been tried (fresh ones still lingering join the batch that is leaving now).
   */
  async claimBatch(
    owner: string,
    webhook: string,
    limit: number,
    leaseMs: number,
    heads: readonly string[] = [],
  ): Promise<ClaimedDelivery[]> {
    const behind =
      heads.length === 0
        ? []
        : await this.lease(
            "claim a batch's stream",
            `WITH h AS (
               SELECT webhook, ordering_key FROM hookline_delivery_state
                WHERE id = ANY(SELECT value::uuid FROM jsonb_array_elements_text($5::text::jsonb))
                  AND ordering_key IS NOT NULL AND status = 'in_flight' AND lease_owner = $1
             ), picked AS (
               SELECT w.id, true AS lease FROM hookline_delivery_state w JOIN h USING (webhook, ordering_key)
                WHERE w.status = 'waiting' AND w.webhook = $4
                ORDER BY w.seq LIMIT $2 FOR UPDATE OF w SKIP LOCKED
             )`,
            [owner, limit, leaseMs, webhook, JSON.stringify(heads)],
          );
    const more = await this.lease(
      "claim a batch",
      `WITH picked AS (
         SELECT id, true AS lease FROM hookline_delivery_state
          WHERE status = 'pending' AND webhook = $4 AND (next_at <= now() OR attempts = 0)
          ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED
       )`,
      [owner, limit - behind.length, leaseMs, webhook],
    );
    return [...behind, ...more];
  }

  /**
   * Gives expired leases back (a worker died or hung): in-flight deliveries past their lease are due
   * again (an ordered stream's go back behind its head, which they still are). The workers call it on
   * a timer, not in every claim. Returns how many it gave back.
   */
  async reclaimExpired(limit = 1000): Promise<number> {
    return run(this.db, "reclaim expired leases", () =>
      this.db.transaction(async (tx) => {
        const rows = await tx.query<{ webhook: string; ordering_key: string | null }>(
          `WITH x AS (
             SELECT id FROM hookline_delivery_state WHERE status = 'in_flight' AND lease_until < now()
              ORDER BY lease_until LIMIT $1 FOR UPDATE SKIP LOCKED
           )
           UPDATE hookline_delivery_state d
              SET status = CASE WHEN d.ordering_key IS NULL THEN 'pending' ELSE 'waiting' END,
                  lease_owner = NULL, lease_until = NULL, next_at = now(), updated_at = now()
             FROM x WHERE d.id = x.id
           RETURNING d.webhook, d.ordering_key`,
          [limit],
        );
        await promoteHeads(tx, streamsOf(rows));
        return rows.length;
      }),
    );
  }

  /**
   * Leases the rows a `picked` CTE selects ($1 owner, $2 limit, $3 lease ms). A claim need not survive a
   * server crash: a lost claim leaves the delivery claimable again, the same at-least-once path as a
   * dead worker's lease. Skipping the WAL flush takes the claim off the commit-latency path (the claim
   * loop is serial); enqueues and results stay fully durable.
   */
  private async lease(what: string, picked: string, params: unknown[]): Promise<ClaimedDelivery[]> {
    if ((params[1] as number) <= 0) return [];
    const owner = params[0] as string;
    const rows = await run(this.db, what, () =>
      this.db.relaxed((tx) =>
        tx.query<Row>(
          `${picked}
           UPDATE hookline_delivery_state d
              SET status = 'in_flight', lease_owner = $1, lease_until = now() + $3 * interval '1 millisecond',
                  attempts = d.attempts + 1, updated_at = now()
             FROM picked, hookline_deliveries c WHERE d.id = picked.id AND picked.lease AND c.id = d.id
           RETURNING d.id, d.webhook, c.idempotency_key, d.run_id, c.event_id, c.event_type, c.customer_id,
                     c.context::text AS context, d.attempts, d.max_attempts, d.policy, d.ordering_key, d.seq,
                     c.traceparent`,
          params,
        ),
      ),
    );
    // In stream order: a batch's items leave in the order of their rows.
    rows.sort((a: Row, b: Row) => Number(a.seq) - Number(b.seq));
    return rows.map((r: Row) => ({
      id: r.id,
      webhook: r.webhook,
      idempotencyKey: r.idempotency_key,
      runId: r.run_id,
      eventId: r.event_id,
      eventType: r.event_type,
      customerId: r.customer_id ?? undefined,
      context: JSON.parse(r.context),
      attempts: r.attempts,
      maxAttempts: r.max_attempts,
      leaseOwner: owner,
      policy: r.policy ?? undefined,
      orderingKey: r.ordering_key ?? undefined,
      ...(r.traceparent ? { traceparent: r.traceparent } : {}),
    }));
  }

  /**
   * Records attempts and applies their outcomes: one statement when nothing else follows from them,
   * else one transaction with run health's steps, follow-ups, ordered streams and observers (see
   * core/store/outcomes.ts).
   */
  complete(results: DeliveryResult[], options: CompleteOptions = {}): Promise<EndedRun[]> {
    return recordOutcomes({ db: this.db, runs: this.runs, observers: this.observers }, results, options);
  }

  async release(owner: string, ids: string[], delayMs = 0): Promise<void> {
    if (ids.length === 0) return;
    const list = JSON.stringify(ids);
    await run(this.db, "release leases", () =>
      this.db.transaction(async (tx) => {
        const given = await tx.query<{ webhook: string; ordering_key: string | null }>(
          `UPDATE hookline_delivery_state
              SET status = CASE WHEN ordering_key IS NULL THEN 'pending' ELSE 'waiting' END,
                  attempts = GREATEST(attempts - 1, 0), lease_owner = NULL,
                  lease_until = NULL, next_at = now() + $3 * interval '1 millisecond', updated_at = now()
            WHERE lease_owner = $1 AND status = 'in_flight' AND id = ANY(SELECT value::uuid FROM jsonb_array_elements_text($2::text::jsonb))
           RETURNING webhook, ordering_key`,
          [owner, list, delayMs],
        );
        // An ordered stream's delivery given back is its head again, behind nothing.
        await streamsChanged(tx, streamsOf(given));
        await tx.query(
          "DELETE FROM hookline_policy_slots WHERE owner = $1 AND holder IN (SELECT value::uuid FROM jsonb_array_elements_text($2::text::jsonb))",
          [owner, list],
        );
      }),
    );
  }

  async nextDueAt(): Promise<string | undefined> {
    const rows = await run(this.db, "find the next due delivery", () =>
      this.db.query<{ at: unknown }>(
        `SELECT LEAST(
           (SELECT min(next_at) FROM hookline_delivery_state WHERE status = 'pending' AND policy IS NULL),
           (SELECT min(d.at) FROM hookline_policies p CROSS JOIN LATERAL (
              SELECT min(next_at) AS at FROM hookline_delivery_state
               WHERE status = 'pending' AND policy = p.name) d),
           (SELECT min(lease_until) FROM hookline_delivery_state WHERE status = 'in_flight')) AS at`,
      ),
    );
    return iso(rows[0]?.at);
  }
}
