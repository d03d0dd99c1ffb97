import type { AttemptOutcome, RetryDecision, RetryPolicy } from "../contracts/retry.ts";

/** Status codes that stop the webhook for the rest of its run (Bloomreach: "for all chunks"). */
export const HALT_STATUSES: ReadonlySet<number> = new Set([400, 404, 410, 412, 413, 418]);

/** Faults worth another attempt: the peer may answer next time. */
const RETRYABLE_FAULTS = new Set(["timeout", "connection_refused", "connection_reset", "dns", "network"]);

export interface RetryContractOptions {
  /** Delays before the 2nd, 3rd, … attempt; the last repeats. Default 7 s, 45 s, 300 s. */
  delays: number[];
  /** ±fraction of randomisation. Default 0.1. */
  jitter: number;
  /** Multiplies the scheduled delays (not Retry-After): for tests and drills. */
  scale: number;
  /** The longest Retry-After honoured. */
  maxRetryAfter: number;
  /** A source of [0, 1) for the jitter; default Math.random. */
  random?: () => number;
}

/**
 * Parses Retry-After: delta-seconds or an HTTP date. Returns milliseconds, or undefined.
 *
 * @example parseRetryAfter("120") // 120000
 */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * The retry contract the platforms document (Bloomreach): retry on HTTP >= 500, 429 and connection
 * faults; 4 attempts (8 for batch webhooks of batch size >= 10); delays around 7 s, 45 s and 300 s,
 * ±10 %; 400, 404, 410, 412, 413 and 418 halt the webhook for the run; other 4xx fail the delivery;
 * 3xx is not followed and fails.
 *
 * @example const policy = retryContract({ delays: [7000, 45000, 300000], jitter: 0.1, scale: 1, maxRetryAfter: 3_600_000 });
 */
export function retryContract(options: RetryContractOptions): RetryPolicy {
  const random = options.random ?? Math.random;
  const scheduled = (attempt: number) => {
    const base = options.delays[Math.min(attempt - 1, options.delays.length - 1)]! * options.scale;
    return base * (1 + options.jitter * (2 * random() - 1));
  };
  const retryOrGiveUp = (
    attempt: { number: number; maxAttempts: number },
    why: string,
    minDelay = 0,
  ): RetryDecision =>
    attempt.number >= attempt.maxAttempts
      ? { action: "fail", reason: `gave up after ${attempt.number} attempts; last: ${why}` }
      : { action: "retry", delayMs: Math.max(scheduled(attempt.number), minDelay), reason: why };

  return {
    name: "contract",
    maxAttempts: (webhook) => ((webhook.batchSize ?? 1) >= 10 ? 8 : 4),
    decide(outcome: AttemptOutcome, attempt): RetryDecision {
      if (outcome.kind === "fault") {
        const why = `${outcome.faultClass}: ${outcome.message}`;
        return RETRYABLE_FAULTS.has(outcome.faultClass)
          ? retryOrGiveUp(attempt, why)
          : { action: "fail", reason: why };
      }
      const s = outcome.status;
      if (s >= 200 && s < 300) return { action: "succeed" };
      if (s === 429) {
        const after = parseRetryAfter(outcome.headers["retry-after"]);
        return retryOrGiveUp(
          attempt,
          "HTTP 429",
          after === undefined ? 0 : Math.min(after, options.maxRetryAfter),
        );
      }
      if (s >= 500) return retryOrGiveUp(attempt, `HTTP ${s}`);
      if (HALT_STATUSES.has(s))
        return { action: "halt", reason: `HTTP ${s} halts this webhook for the rest of the run` };
      if (s >= 300 && s < 400) {
        const to = outcome.headers.location ? ` to ${outcome.headers.location.split("?")[0]}` : "";
        return { action: "fail", reason: `HTTP ${s}: redirect${to} not followed` };
      }
      return { action: "fail", reason: `HTTP ${s}` };
    },
  };
}

export interface ExponentialRetryOptions {
  /** The first retry's delay, ms; then 2x, 4x, 8x … */
  base: number;
  /** The longest delay between attempts, ms. */
  cap: number;
  /** Attempts in all; without it (and without `maxAge`) a delivery is retried until delivered. */
  attempts?: number;
  /** No attempt starts later than this after the first, ms (turned into a number of attempts). */
  maxAge?: number;
  /** Multiplies the delays (not Retry-After): for tests and drills. */
  scale?: number;
  /** The longest Retry-After honoured. */
  maxRetryAfter?: number;
}

/** Attempts a delivery may have when it is retried without end (the column is a 32-bit integer). */
export const UNLIMITED_ATTEMPTS = 2_147_483_647;

/**
 * The delay after the `failures`-th failed attempt: `base`·2^(failures−1), at most `cap`
 * (eSputnik: 1, 2, 4, 8 minutes … up to one attempt an hour).
 *
 * @example exponentialDelay(1, 60_000, 3_600_000) // 60000; exponentialDelay(4, 60_000, 3_600_000) // 480000
 */
export function exponentialDelay(failures: number, base: number, cap: number): number {
  return Math.min(cap, base * 2 ** Math.min(Math.max(1, failures) - 1, 40));
}

/**
 * eSputnik's retry rule, for any webhook that names `exponential`: every answer but 2xx and every
 * fault is retried after `base`·2ⁿ (capped), honouring a 429's Retry-After; nothing halts. A
 * maximum age becomes the number of attempts whose delays fit in it, so nothing else need know
 * when the first attempt was.
 *
 * @example exponentialRetry({ base: 60_000, cap: 3_600_000 }).maxAttempts({}) // 2147483647 (until delivered)
 */
export function exponentialRetry(options: ExponentialRetryOptions): RetryPolicy {
  const scale = options.scale ?? 1;
  let attempts = options.attempts ?? UNLIMITED_ATTEMPTS;
  if (options.maxAge !== undefined) {
    let waited = 0;
    attempts = 1;
    while (attempts < 10_000) {
      waited += exponentialDelay(attempts, options.base, options.cap);
      if (waited > options.maxAge) break;
      attempts++;
    }
  }
  return {
    name: "exponential",
    maxAttempts: () => attempts,
    decide(outcome, attempt) {
      if (outcome.kind === "response" && outcome.status >= 200 && outcome.status < 300)
        return { action: "succeed" };
      const why =
        outcome.kind === "fault" ? `${outcome.faultClass}: ${outcome.message}` : `HTTP ${outcome.status}`;
      if (attempt.number >= attempt.maxAttempts)
        return { action: "fail", reason: `gave up after ${attempt.number} attempts; last: ${why}` };
      const after =
        outcome.kind === "response" && outcome.status === 429
          ? parseRetryAfter(outcome.headers["retry-after"])
          : undefined;
      const delay = exponentialDelay(attempt.number, options.base, options.cap) * scale;
      const honoured = after === undefined ? 0 : Math.min(after, options.maxRetryAfter ?? options.cap);
      return { action: "retry", delayMs: Math.max(delay, honoured), reason: why };
    },
  };
}
