/** A throughput policy's limits: requests in flight at once, and optionally started per second. */
export interface PolicyLimits {
  name: string;
  concurrency: number;
  /** Requests started per second at most (a token bucket holding one second's worth). */
  rate?: number;
}

/**
 * A policy's limits as written: `rate` left out keeps the rate stored (none for a new policy), so
 * that a writer that does not know it cannot clear it; `null` removes it.
 */
export interface PolicyWrite {
  name: string;
  concurrency: number;
  rate?: number | null;
}

/**
 * Throughput policies and the slots deliveries hold under them, shared by every process on the store.
 *
 * @example
 * await policies.setPolicy({ name: "crm", concurrency: 4, rate: 10 });
 * const granted = await policies.acquireSlots("crm", "worker-1", [deliveryId], 30_000);
 */
export interface PolicyStore {
  /**
   * Writes the throughput policies a config declares (limits read by every process). Only those: a
   * policy the list lacks stays, for it may be another process's (its webhooks would get no slot
   * without it); remove one with `deletePolicy`. A policy set through the API (`setPolicy`) wins.
   */
  syncPolicies(policies: PolicyWrite[]): Promise<void>;
  /** Sets a policy's limits; they apply to what starts next, in every process. */
  setPolicy(policy: PolicyWrite): Promise<void>;
  deletePolicy(name: string): Promise<boolean>;
  listPolicies(): Promise<Array<PolicyLimits & { inUse: number }>>;
  /**
   * Takes slots of a policy for these deliveries, as many as its limit leaves free across all processes;
   * returns the ids that got one. A slot is a lease: a dead process's slots come back when it expires.
   * (`DeliveryQueue.claim` takes the slots of the deliveries it leases itself.)
   */
  acquireSlots(policy: string, owner: string, holders: string[], leaseMs: number): Promise<string[]>;
}
