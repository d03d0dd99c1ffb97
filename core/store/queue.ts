import type {
  ClaimedDelivery,
  DeliveryResult,
  EndedDelivery,
  EndedRun,
  NewDelivery,
} from "../contracts/delivery.ts";
import type { CompleteOptions, DeliveryQueue } from "../contracts/queue.ts";
import type { SqlDriver, SqlExecutor } from "../contracts/sql.ts";
import { insertDeliveries } from "./enqueue.ts";
import type { OutcomeDispatch } from "./observers.ts";
import { iso, type Row } from "./rows.ts";
import type { RunSteps } from "./run-health.ts";
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

  async enqueue(deliveries: NewDelivery[]): Promise<string[]> {
    if (deliveries.length === 0) return [];
    return run(this.db, "enqueue deliveries", () => insertDeliveries(this.db, deliveries));
  }

  /** Writes deliveries within a transaction a caller holds (an observer's follow-ups). */
  async enqueueIn(tx: SqlExecutor, deliveries: NewDelivery[]): Promise<string[]> {
    return deliveries.length === 0 ? [] : insertDeliveries(tx, deliveries);
  }

  async claim(owner: string, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    return this.lease(
      "claim deliveries",
      // An ordered stream moves one delivery at a time: one whose stream has an earlier delivery pending or
      // in flight (the head, even while it waits for a retry) is not due yet.
      `WITH due AS (
         SELECT id FROM hookline_deliveries d WHERE status = 'pending' AND next_at <= now()
            AND NOT EXISTS (SELECT 1 FROM hookline_webhook_health w WHERE w.webhook = d.webhook AND w.paused_at IS NOT NULL)
            AND (ordering_key IS NULL OR NOT EXISTS (
                  SELECT 1 FROM hookline_deliveries e
                   WHERE e.webhook = d.webhook AND e.ordering_key = d.ordering_key AND e.seq < d.seq
                     AND e.status IN ('pending', 'in_flight')))
          ORDER BY next_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED
       ), expired AS (
         SELECT id FROM hookline_deliveries WHERE status = 'in_flight' AND lease_until < now()
          ORDER BY lease_until LIMIT $2 FOR UPDATE SKIP LOCKED
       ), picked AS (SELECT id FROM expired UNION ALL SELECT id FROM due LIMIT $2)`,
      [owner, limit, leaseMs],
    );
  }

  async claimBatch(
    owner: string,
    webhook: string,
    limit: number,
    leaseMs: number,
  ): Promise<ClaimedDelivery[]> {
    return this.lease(
      "claim a batch",
      `WITH picked AS (
         SELECT id FROM hookline_deliveries
          WHERE status = 'pending' AND webhook = $4 AND (next_at <= now() OR attempts = 0)
          ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED
       )`,
      [owner, limit, leaseMs, webhook],
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
             FROM picked WHERE d.id = picked.id
           RETURNING d.id, d.webhook, d.idempotency_key, d.run_id, d.event_id, d.event_type, d.customer_id,
                     d.context::text AS context, d.attempts, d.max_attempts, d.policy`,
          params,
        ),
      ),
    );
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
      this.db.transaction(async (tx) => {
        const ended: EndedDelivery[] = [];
        if (halts.length > 0) ended.push(...(await this.runs.haltRuns(tx, halts, wantEnded)));
        const applied = await tx.query<{ id: string; status: string }>(
          `WITH x AS (
             SELECT * FROM jsonb_to_recordset($1::text::jsonb)
               AS x(id uuid, lease_owner text, status text, delay_ms int, reason text, last_status int)
           ), upd AS (
             UPDATE hookline_deliveries d SET
               status = CASE WHEN x.status = 'pending' AND EXISTS (
                          SELECT 1 FROM hookline_halted_runs h WHERE h.webhook = d.webhook AND h.run_id = d.run_id)
                        THEN 'halted' ELSE x.status END,
               next_at = CASE WHEN x.status = 'pending' THEN now() + x.delay_ms * interval '1 millisecond' ELSE d.next_at END,
               lease_owner = NULL, lease_until = NULL, reason = x.reason, last_status = x.last_status,
               updated_at = now()
             FROM x WHERE d.id = x.id AND d.lease_owner = x.lease_owner AND d.status = 'in_flight'
             RETURNING d.id, d.status
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
           SELECT id::text AS id, status FROM upd`,
          [JSON.stringify(outcomes), JSON.stringify(attempts)],
        );
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
    );
    this.observers.runCommitted(committed);
    return aborted;
  }

  async release(owner: string, ids: string[], delayMs = 0): Promise<void> {
    if (ids.length === 0) return;
    const list = JSON.stringify(ids);
    await run(this.db, "release leases", () =>
      this.db.transaction(async (tx) => {
        await tx.query(
          `UPDATE hookline_deliveries SET status = 'pending', attempts = GREATEST(attempts - 1, 0), lease_owner = NULL,
                  lease_until = NULL, next_at = now() + $3 * interval '1 millisecond', updated_at = now()
            WHERE lease_owner = $1 AND status = 'in_flight' AND id = ANY(SELECT value::uuid FROM jsonb_array_elements_text($2::text::jsonb))`,
          [owner, list, delayMs],
        );
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
