/** Where a delivery stands. */
export type DeliveryStatus = "pending" | "in_flight" | "succeeded" | "failed" | "halted" | "aborted";

/** A delivery as the outbox writes it, before anything is sent. */
export interface NewDelivery {
  id: string;
  webhook: string;
  /** Sent with every attempt (`Idempotency-Key`); unique: a second insert with it is ignored. */
  idempotencyKey: string;
  /** Deliveries published together form a run; a halt stops the rest of the run for that webhook. */
  runId: string;
  eventId: string;
  eventType: string;
  customerId?: string;
  /** The data templates render from: event, customer, params. */
  context: Record<string, unknown>;
  maxAttempts: number;
  /** Not due before this many milliseconds from now (a batch webhook's linger). */
  delayMs?: number;
  /** The throughput policy whose slots it takes (fixed when written: moving the webhook does not move it). */
  policy?: string;
  /** Deliveries of one webhook with one ordering key go out one at a time, in the order written. */
  orderingKey?: string;
}

export interface Delivery extends NewDelivery {
  status: DeliveryStatus;
  /** Attempts started so far. */
  attempts: number;
  nextAt: string;
  createdAt: string;
  updatedAt: string;
  leaseOwner?: string;
  leaseUntil?: string;
  lastStatus?: number;
  /** Why it failed or halted, or why the last attempt is being retried. */
  reason?: string;
}

/** What a worker gets when it claims a delivery: what an attempt needs, nothing more (claims are hot). */
export type ClaimedDelivery = Pick<
  Delivery,
  | "id"
  | "webhook"
  | "idempotencyKey"
  | "runId"
  | "eventId"
  | "eventType"
  | "customerId"
  | "context"
  | "attempts"
  | "maxAttempts"
  | "leaseOwner"
  | "policy"
>;

/** One attempt, as recorded. Headers and bodies are redacted of known secrets before they get here. */
export interface AttemptRecord {
  deliveryId: string;
  /** 1-based. */
  number: number;
  startedAt: string;
  durationMs: number;
  request: {
    method: string;
    url: string;
    headers: Record<string, string>;
    body?: string;
    /** For one item of a batch request: the batch, and the delivery whose attempt holds the body. */
    batch?: { key: string; size: number; recordedOn: string };
  };
  status?: number;
  responseHeaders?: Record<string, string>;
  responseBody?: string;
  responseTruncated?: boolean;
  /** Set when no HTTP answer came (`timeout`, `connection_refused`, …) or nothing was sent (`render`, `scope`). */
  errorClass?: string;
  error?: string;
  outcome: "succeeded" | "retry" | "failed" | "halted";
}

/** What the engine decided after an attempt; the store applies it with the attempt in one write. */
export type DeliveryNext =
  | { status: "succeeded" }
  | { status: "pending"; delayMs: number; reason: string }
  | { status: "failed"; reason: string }
  | { status: "halted"; reason: string };

/** What observers and the fail branch see of a delivery: what it was for, not how it is queued. */
export type OutcomeDelivery = Pick<
  ClaimedDelivery,
  "id" | "webhook" | "runId" | "eventId" | "eventType" | "customerId" | "context"
>;

/**
 * A delivery's outcome as the store recorded it, given to delivery observers (activity-status
 * callbacks, response mapping) inside the transaction that records it.
 */
export interface DeliveryOutcome {
  delivery: OutcomeDelivery;
  /** `pending`: an attempt failed and will be retried; `aborted`/`halted` without an attempt: ended with its run. */
  status: "succeeded" | "pending" | "failed" | "halted" | "aborted";
  reason?: string;
  /** The attempt that came to this; absent for a delivery ended with the rest of its run, unsent. */
  attempt?: AttemptRecord;
}

/** A delivery ended unsent with the rest of its run (aborted after too many failures, or halted). */
export interface EndedDelivery extends OutcomeDelivery {
  status: "aborted" | "halted";
  reason: string;
}

export interface DeliveryResult {
  deliveryId: string;
  /** The lease owner that made the attempt; a result from a lease that was lost is not applied. */
  leaseOwner: string;
  webhook: string;
  runId: string;
  attempt: AttemptRecord;
  next: DeliveryNext;
  /** The delivery attempted (observers read its event and customer). */
  delivery?: OutcomeDelivery;
  /**
   * Deliveries to write if, and only if, this result is applied (a scenario's next step after a
   * success, the fail branch after a failure), in the same transaction.
   */
  followUps?: NewDelivery[];
}

export interface DeliveryFilter {
  webhook?: string;
  status?: DeliveryStatus;
  /** ISO timestamps bounding `createdAt`. */
  since?: string;
  until?: string;
  limit?: number;
  /** Return deliveries created before this delivery id's row (keyset paging). */
  before?: string;
}

/**
 * The durable side of hookline: the outbox of deliveries and their attempts. Implemented once in SQL
 * (core/store/sql-store.ts) over a `SqlDriver`; plugins may register another.
 */
export interface Store {
  migrate(): Promise<void>;
  /** Inserts deliveries; those whose idempotency key exists already are skipped. Returns the ids inserted. */
  enqueue(deliveries: NewDelivery[]): Promise<string[]>;
  /** Leases up to `limit` due deliveries (pending and due, or in flight with an expired lease). */
  claim(owner: string, limit: number, leaseMs: number): Promise<ClaimedDelivery[]>;
  /**
   * Tops up a batch: leases up to `limit` more pending deliveries of one webhook that are due or have
   * never been tried (fresh ones still lingering join the batch that is leaving now).
   */
  claimBatch(owner: string, webhook: string, limit: number, leaseMs: number): Promise<ClaimedDelivery[]>;
  /**
   * Records attempts and applies their outcomes, all in one transaction. Unrecoverable outcomes count
   * per webhook run; at `abortAfter` the rest of that run is aborted. Returns the runs aborted now.
   */
  complete(results: DeliveryResult[], options?: CompleteOptions): Promise<EndedRun[]>;
  /** Lets a paused webhook's deliveries go out again, from where they stopped. */
  resumeWebhook(webhook: string): Promise<boolean>;
  /** Webhooks paused after failing continuously, with when and why. */
  pausedWebhooks(): Promise<Array<{ webhook: string; pausedAt: string; reason: string }>>;
  /** Gives back leases without counting an attempt (graceful shutdown, no throughput slot free). */
  release(owner: string, ids: string[], delayMs?: number): Promise<void>;
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
   */
  acquireSlots(policy: string, owner: string, holders: string[], leaseMs: number): Promise<string[]>;
  getDelivery(id: string): Promise<Delivery | undefined>;
  listDeliveries(filter: DeliveryFilter): Promise<Delivery[]>;
  listAttempts(deliveryId: string): Promise<AttemptRecord[]>;
  /** Puts a finished delivery back in the queue with a fresh set of attempts. */
  retryDelivery(id: string, extraAttempts: number): Promise<Delivery | undefined>;
  /** The earliest `nextAt` among pending deliveries, to sleep until. */
  nextDueAt(): Promise<string | undefined>;
  close(): Promise<void>;
}

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

/** A webhook run aborted or a webhook paused by `complete`. */
export interface EndedRun {
  webhook: string;
  runId?: string;
  reason: string;
  paused?: boolean;
}

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

/** A minimal SQL connection: PGlite and postgres.js both fit it. Parameters are `$1`, `$2`, …. */
export interface SqlExecutor {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

export interface SqlDriver extends SqlExecutor {
  readonly name: string;
  /** Runs several statements without parameters (migrations). */
  exec(text: string): Promise<void>;
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Runs work whose commit may skip waiting for the WAL flush (a server crash may lose it). For writes
   * that are safe to lose, such as claims. Drivers without the notion just run it.
   */
  relaxed<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
