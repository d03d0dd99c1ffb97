// The records the store keeps and hands out, shared by its jobs (queue, run health, delivery log,
// observers). They live apart from the job interfaces so that each job's contract imports them
// without importing the others.

/**
 * Where a delivery is: `pending` (due at `nextAt`), `waiting` (behind the head of its ordered stream),
 * `paused` (its webhook is paused), `in_flight` (leased to a worker), or ended (`skipped`: not sent,
 * its customer had none of the consent objectives it needs).
 */
export type DeliveryStatus =
  | "pending"
  | "waiting"
  | "paused"
  | "in_flight"
  | "succeeded"
  | "failed"
  | "halted"
  | "aborted"
  | "skipped";

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
  /**
   * The W3C `traceparent` of the span that published it (a caller's, or one hookline started): each
   * attempt is traced as its child, so a trace runs from the caller to the destination.
   */
  traceparent?: string;
  /**
   * Part of a bulk run (a schedule's tick, a segment send, a bulk retry or replay): claimed after due
   * deliveries of events unless it has been due longer than `engine.bulkMaxWait` (see claim).
   */
  bulk?: boolean;
}

/**
 * Deliveries written already leased to a worker of this process, to be sent at once (no claim):
 * those in `ids` are written in flight, their first attempt counted, with `owner`'s lease; another
 * process takes them if this one dies before recording them (the lease expires). One of an ordered
 * stream or of a halted run is never leased.
 */
export interface LeaseTo {
  owner: string;
  leaseMs: number;
  ids: ReadonlySet<string>;
}

/** A delivery as the store holds it: where it stands in the queue, and why. */
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
  | "orderingKey"
  | "traceparent"
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
    /**
     * The body as sent, credentials masked: kept for an attempt that did not succeed. A successful
     * attempt keeps its size and hash instead (`bodyBytes`, `bodyHash`); its full request is rendered
     * again on demand (`GET /v1/deliveries/:id/request`).
     */
    body?: string;
    /** The body's size in UTF-8 bytes (a successful attempt's record, which keeps no body). */
    bodyBytes?: number;
    /** A hash of the body as it would be recorded (`cyrb53:` and 14 hex digits), to compare with a re-render. */
    bodyHash?: string;
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
  /** `skipped`: nothing was attempted (no consent); such a record is not stored. */
  outcome: "succeeded" | "retry" | "failed" | "halted" | "skipped";
}

/** What the engine decided after an attempt; the store applies it with the attempt in one write. */
export type DeliveryNext =
  | { status: "succeeded" }
  | { status: "pending"; delayMs: number; reason: string }
  | { status: "failed"; reason: string }
  | { status: "halted"; reason: string }
  /** Not sent: the customer has none of the objectives the delivery needs (`reason` says `consent: …`). */
  | { status: "skipped"; reason: string };

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
  status: "succeeded" | "pending" | "failed" | "halted" | "aborted" | "skipped";
  reason?: string;
  /** The attempt that came to this; absent for a delivery ended unsent (with the rest of its run, or skipped). */
  attempt?: AttemptRecord;
}

/** A delivery ended unsent with the rest of its run (aborted after too many failures, or halted). */
export interface EndedDelivery extends OutcomeDelivery {
  status: "aborted" | "halted";
  reason: string;
}

/** One attempt's result as a worker hands it to `complete`: the attempt, and what comes next. */
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
  /** The throughput policy whose slot the attempt held, as claimed: the slot is given back with it. */
  policy?: string;
  /** The ordering key, as claimed: the store settles the delivery's stream with the outcome. */
  orderingKey?: string;
  /**
   * Deliveries to write if, and only if, this result is applied (a scenario's next step after a
   * success, the fail branch after a failure), in the same transaction.
   */
  followUps?: NewDelivery[];
}

/** A webhook run aborted or a webhook paused by `complete`. */
export interface EndedRun {
  webhook: string;
  runId?: string;
  reason: string;
  paused?: boolean;
}
