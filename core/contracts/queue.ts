import type { ClaimedDelivery, DeliveryResult, EndedDelivery, EndedRun, NewDelivery } from "./delivery.ts";

/** How `complete` treats a webhook run's failures, and what it writes for deliveries ended with their run. */
export interface CompleteOptions {
  /** Unrecoverable outcomes in one webhook run that abort the rest of it. */
  abortAfter?: number;
  /** A webhook failing continuously this long is paused. */
  pauseAfterMs?: number;
  /**
   * Deliveries ended unsent with their run (aborted, halted) go through this, in the same
   * transaction: the deliveries it returns (the fail branch's `webhook.failed`) are written with them.
   */
  ended?: (deliveries: EndedDelivery[]) => NewDelivery[];
}

/**
 * The outbox as a queue: deliveries go in, workers lease them, attempts come back and are recorded
 * with their outcome in one transaction.
 *
 * @example
 * const [d] = await queue.claim("worker-1", 1, 30_000);
 * if (d) await queue.complete([{ deliveryId: d.id, leaseOwner: "worker-1", webhook: d.webhook, runId: d.runId, attempt, next: { status: "succeeded" } }]);
 */
export interface DeliveryQueue {
  /** Inserts deliveries; those whose idempotency key exists already are skipped. Returns the ids inserted. */
  enqueue(deliveries: NewDelivery[]): Promise<string[]>;
  /**
   * Leases up to `limit` due deliveries. A delivery of a throughput policy is leased only with one of
   * the policy's slots, taken in the same step (the workers take no slots of their own): a claim holds
   * no more of a policy's deliveries than its limits leave free across all processes. Deliveries of
   * bulk runs (`bulk`) are taken after events' unless due for longer than `bulkMaxWaitMs` (default 30 s).
   */
  claim(owner: string, limit: number, leaseMs: number, bulkMaxWaitMs?: number): Promise<ClaimedDelivery[]>;
  /**
   * Tops up a batch: leases up to `limit` more deliveries of one webhook: with `heads` (the ids of the
   * batch so far), first those waiting behind the ones that head an ordered stream, in stream order;
   * then pending ones that are due or have never been tried (fresh ones still lingering join the batch
   * that is leaving now). Returned in the order they were written.
   */
  claimBatch(
    owner: string,
    webhook: string,
    limit: number,
    leaseMs: number,
    heads?: readonly string[],
  ): Promise<ClaimedDelivery[]>;
  /**
   * Makes in-flight deliveries whose lease expired (their worker died or hung) due again; returns how
   * many. Workers call it on a timer, so a claim never looks for them.
   */
  reclaimExpired(limit?: number): Promise<number>;
  /**
   * Records attempts and applies their outcomes, all in one transaction. Unrecoverable outcomes count
   * per webhook run; at `abortAfter` the rest of that run is aborted. Returns the runs aborted now.
   */
  complete(results: DeliveryResult[], options?: CompleteOptions): Promise<EndedRun[]>;
  /** Gives back leases without counting an attempt (graceful shutdown, no throughput slot free). */
  release(owner: string, ids: string[], delayMs?: number): Promise<void>;
  /** The earliest `nextAt` among pending deliveries, to sleep until. */
  nextDueAt(): Promise<string | undefined>;
}
