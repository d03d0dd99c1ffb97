import type { AttemptRecord, Delivery, DeliveryStatus } from "./delivery.ts";

/** Which deliveries `listDeliveries` returns, newest first. */
export interface DeliveryFilter {
  webhook?: string;
  /** The deliveries published in this run (or, for a retry run, those it retried). */
  run?: string;
  status?: DeliveryStatus;
  /** The deliveries of this customer (the event's customer id). */
  customer?: string;
  /** ISO timestamps bounding `createdAt`. */
  since?: string;
  until?: string;
  limit?: number;
  /** Return deliveries listed after this delivery id's row (keyset paging; with a time bound, in creation order). */
  before?: string;
}

/**
 * The delivery log as the admin API reads it: deliveries, their attempts, and a manual retry.
 *
 * @example
 * const [latest] = await log.listDeliveries({ webhook: "crm", status: "failed", limit: 1 });
 * if (latest) await log.retryDelivery(latest.id, 3);
 */
export interface DeliveryLog {
  getDelivery(id: string): Promise<Delivery | undefined>;
  listDeliveries(filter: DeliveryFilter): Promise<Delivery[]>;
  listAttempts(deliveryId: string): Promise<AttemptRecord[]>;
  /** Puts a finished delivery back in the queue with a fresh set of attempts. */
  retryDelivery(id: string, extraAttempts: number): Promise<Delivery | undefined>;
}
