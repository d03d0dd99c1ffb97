import type {
  ClaimedDelivery,
  DeliveryResult,
  EndedDelivery,
  EndedRun,
  NewDelivery,
} from "../contracts/delivery.ts";
import type { CompleteOptions, DeliveryQueue } from "../contracts/queue.ts";
import type { SqlDriver, SqlExecutor } from "../contracts/sql.ts";
import { enqueueDeliveries, insertDeliveries } from "./enqueue.ts";
import type { OutcomeDispatch } from "./observers.ts";
import { iso, type Row } from "./rows.ts";
import type { RunSteps } from "./run-health.ts";
import { promoteHeads, streamsChanged, streamsOf, withStreams } from "./streams.ts";
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
   * Walks the due index in order and leases what it finds: its cost is the batch's, not the backlog's.
   * Ordered streams need no check here (only a stream's head is pending); a delivery of a paused
   * webhook met on the way is set aside as `paused` (until the webhook resumes) instead of leased.
   * Expired leases are not looked for here: `reclaimExpired` does that on the worker's timer.
   */
  async claim(owner: string, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    return this.lease(
      "claim deliveries",
      `WITH picked AS (
         SELECT d.id, NOT EXISTS (SELECT 1 FROM hookline_webhook_health w
                                   WHERE w.webhook = d.webhook AND w.paused_at IS NOT NULL) AS lease
           FROM hookline_deliveries d WHERE d.status = 'pending' AND d.next_at <= now()
          ORDER BY d.next_at, d.seq LIMIT $2 FOR UPDATE OF d SKIP LOCKED
       ), aside AS (
         UPDATE hookline_deliveries d SET status = 'paused', updated_at = now()
           FROM picked WHERE d.id = picked.id AND NOT picked.lease
       )`,
      [owner, limit, leaseMs],
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
               SELECT webhook, ordering_key FROM hookline_deliveries
                WHERE id = ANY(SELECT value::uuid FROM jsonb_array_elements_text($5::text::jsonb))
                  AND ordering_key IS NOT NULL AND status = 'in_flight' AND lease_owner = $1
             ), picked AS (
               SELECT w.id, true AS lease FROM hookline_deliveries w JOIN h USING (webhook, ordering_key)
                WHERE w.status = 'waiting' AND w.webhook = $4
                ORDER BY w.seq LIMIT $2 FOR UPDATE OF w SKIP LOCKED
             )`,
            [owner, limit, leaseMs, webhook, JSON.stringify(heads)],
          );
    const more = await this.lease(
      "claim a batch",
      `WITH picked AS (
         SELECT id, true AS lease FROM hookline_deliveries
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
             SELECT id FROM hookline_deliveries WHERE status = 'in_flight' AND lease_until < now()
              ORDER BY lease_until LIMIT $1 FOR UPDATE SKIP LOCKED
           )
           UPDATE hookline_deliveries d
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
           UPDATE hookline_deliveries d
              SET status = 'in_flight', lease_owner = $1, lease_until = now() + $3 * interval '1 millisecond',
                  attempts = d.attempts + 1, updated_at = now()
             FROM picked WHERE d.id = picked.id AND picked.lease
           RETURNING d.id, d.webhook, d.idempotency_key, d.run_id, d.event_id, d.event_type, d.customer_id,
                     d.context::text AS context, d.attempts, d.max_attempts, d.policy, d.seq`,
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
    }));
  }

  async complete(results: DeliveryResult[], options: CompleteOptions = {}): Promise<EndedRun[]> {
    if (results.length === 0) return [];
    const aborted: EndedRun[] = [];
    const outcomes = results.map((r) => ({
      id: r.deliveryId,
      lease_owner: r.leaseOwner,
      status: r.next.status,
      delay_ms: r.next.status === "pending" ? Math.max(0, Math.round(r.next.delayMs)) : 0,
      reason: r.next.status === "succeeded" ? null : r.next.reason,
      last_status: r.attempt.status ?? null,
    }));
    const attempts = results.map((r) => ({
      delivery_id: r.deliveryId,
      number: r.attempt.number,
      started_at: r.attempt.startedAt,
      duration_ms: Math.round(r.attempt.durationMs),
      request: r.attempt.request,
      status: r.attempt.status ?? null,
      response_headers: r.attempt.responseHeaders ?? null,
      response_body: r.attempt.responseBody ?? null,
      response_truncated: r.attempt.responseTruncated ?? false,
      error_class: r.attempt.errorClass ?? null,
      error: r.attempt.error ?? null,
      outcome: r.attempt.outcome,
    }));
    const halts = results
      .filter((r) => r.next.status === "halted")
      .map((r) => ({ webhook: r.webhook, run_id: r.runId, reason: (r.next as { reason: string }).reason }));
    // Deliveries ended unsent with their run are read back only when someone will look at them.
    const wantEnded = Boolean(options.ended) || this.observers.active;
    const committed: Array<() => void> = [];
    await run(this.db, "record attempts", () =>
      this.db.transaction((tx) =>
        withStreams(tx, async () => {
          const ended: EndedDelivery[] = [];
          if (halts.length > 0) ended.push(...(await this.runs.haltRuns(tx, halts, wantEnded)));
          // An ordered stream's retry goes back behind the head it still is (`withStreams` makes it that again).
          const applied = await tx.query<{
            id: string;
            status: string;
            webhook: string;
            ordering_key: string | null;
          }>(
            `WITH x AS (
             SELECT * FROM jsonb_to_recordset($1::text::jsonb)
               AS x(id uuid, lease_owner text, status text, delay_ms int, reason text, last_status int)
           ), upd AS (
             UPDATE hookline_deliveries d SET
               status = CASE WHEN x.status = 'pending' AND EXISTS (
                          SELECT 1 FROM hookline_halted_runs h WHERE h.webhook = d.webhook AND h.run_id = d.run_id)
                        THEN 'halted'
                        WHEN x.status = 'pending' AND d.ordering_key IS NOT NULL THEN 'waiting'
                        ELSE x.status END,
               next_at = CASE WHEN x.status = 'pending' THEN now() + x.delay_ms * interval '1 millisecond' ELSE d.next_at END,
               lease_owner = NULL, lease_until = NULL, reason = x.reason, last_status = x.last_status,
               updated_at = now()
             FROM x WHERE d.id = x.id AND d.lease_owner = x.lease_owner AND d.status = 'in_flight'
             RETURNING d.id, d.status, d.webhook, d.ordering_key
           ), ins AS (
             INSERT INTO hookline_attempts (delivery_id, number, started_at, duration_ms, request, status, response_headers,
                                            response_body, response_truncated, error_class, error, outcome)
             SELECT a.delivery_id, a.number, a.started_at, a.duration_ms, a.request, a.status, a.response_headers,
                    a.response_body, a.response_truncated, a.error_class, a.error, a.outcome
               FROM jsonb_to_recordset($2::text::jsonb) AS a(delivery_id uuid, number int, started_at timestamptz, duration_ms int,
                    request jsonb, status int, response_headers jsonb, response_body text, response_truncated boolean,
                    error_class text, error text, outcome text)
              WHERE a.delivery_id IN (SELECT id FROM upd)
             ON CONFLICT (delivery_id, number) DO NOTHING
           )
           SELECT id::text AS id, CASE status WHEN 'waiting' THEN 'pending' ELSE status END AS status,
                  webhook, ordering_key
             FROM upd`,
            [JSON.stringify(outcomes), JSON.stringify(attempts)],
          );
          await streamsChanged(tx, streamsOf(applied));
          // A retry whose run was halted meanwhile ended halted: it goes the way of its run's other deliveries.
          if (wantEnded) {
            const halted = new Set(applied.filter((a) => a.status === "halted").map((a) => a.id));
            for (const r of results)
              if (r.next.status === "pending" && r.delivery && halted.has(r.deliveryId))
                ended.push({
                  ...r.delivery,
                  status: "halted",
                  reason: `run halted while retrying: ${r.next.reason}`,
                });
          }
          await tx.query(
            "DELETE FROM hookline_policy_slots WHERE holder IN (SELECT value::uuid FROM jsonb_array_elements_text($1::text::jsonb))",
            [JSON.stringify(results.map((r) => r.deliveryId))],
          );
          // Follow-ups (next steps, the fail branch): written with the outcome they follow, or not at all.
          const parents = new Map<string, { id: string; status: string }>();
          for (const r of results)
            for (const f of r.followUps ?? []) parents.set(f.id, { id: r.deliveryId, status: r.next.status });
          const follow = results.flatMap((r) => r.followUps ?? []);
          if (follow.length > 0) await insertDeliveries(tx, follow, parents);
          if (options.abortAfter) {
            const abort = await this.runs.countFailures(tx, results, options.abortAfter, wantEnded);
            aborted.push(...abort.runs);
            ended.push(...abort.ended);
          }
          if (options.pauseAfterMs)
            aborted.push(...(await this.runs.trackHealth(tx, results, options.pauseAfterMs)));
          if (ended.length > 0 && options.ended) {
            const branch = options.ended(ended);
            if (branch.length > 0) await insertDeliveries(tx, branch);
          }
          if (this.observers.active) await this.observers.notify(tx, results, applied, ended, committed);
        }),
      ),
    );
    this.observers.runCommitted(committed);
    return aborted;
  }

  async release(owner: string, ids: string[], delayMs = 0): Promise<void> {
    if (ids.length === 0) return;
    const list = JSON.stringify(ids);
    await run(this.db, "release leases", () =>
      this.db.transaction(async (tx) => {
        const given = await tx.query<{ webhook: string; ordering_key: string | null }>(
          `UPDATE hookline_deliveries
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
           (SELECT min(next_at) FROM hookline_deliveries WHERE status = 'pending'),
           (SELECT min(lease_until) FROM hookline_deliveries WHERE status = 'in_flight')) AS at`,
      ),
    );
    return iso(rows[0]?.at);
  }
}
