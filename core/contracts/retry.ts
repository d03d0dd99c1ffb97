import type { FaultClass } from "./transport.ts";

/** What one attempt came to, as the retry policy sees it. */
export type AttemptOutcome =
  | { kind: "response"; status: number; headers: Record<string, string> }
  | { kind: "fault"; faultClass: FaultClass; message: string };

/** What happens next to a delivery after an attempt. */
export type RetryDecision =
  | { action: "succeed" }
  | { action: "retry"; delayMs: number; reason: string }
  | { action: "fail"; reason: string }
  /** Fail this delivery and stop the webhook for the rest of its run. */
  | { action: "halt"; reason: string };

export interface RetryPolicy {
  readonly name: string;
  /** How many attempts a delivery of this webhook gets in all. */
  maxAttempts(webhook: { batchSize?: number }): number;
  /** `attempt` is 1-based: the number of the attempt that just ended. */
  decide(outcome: AttemptOutcome, attempt: { number: number; maxAttempts: number }): RetryDecision;
}
