import type { DeliveryResult, EndedRun } from "../contracts/delivery.ts";
import type { Logger, LogLevel } from "../contracts/logger.ts";

/** Each outcome's message key and level: work happening at info, a delivery given up on at warn. */
const LINES: Record<DeliveryResult["next"]["status"], [string, LogLevel]> = {
  succeeded: ["delivery.succeeded", "info"],
  pending: ["delivery.retrying", "info"],
  failed: ["delivery.failed", "warn"],
  halted: ["delivery.halted", "warn"],
  skipped: ["delivery.skipped", "info"],
};

/**
 * One line per recorded outcome (an item of a batch request too): `delivery.succeeded`,
 * `delivery.retrying`, `delivery.failed`, `delivery.halted` or `delivery.skipped` (no consent), with the webhook, the delivery's id,
 * its run, its status as the API shows it, the attempt's number, duration and HTTP status, and why
 * when it did not succeed. Never the request or the answer.
 *
 * @example logOutcomes(logger, recorded)
 */
export function logOutcomes(logger: Logger, results: readonly DeliveryResult[]): void {
  for (const r of results) {
    const next = r.next;
    const [message, level] = LINES[next.status];
    const batch = r.attempt.request.batch;
    logger.log(level, message, {
      webhook: r.webhook,
      delivery: r.deliveryId,
      run: r.runId,
      status: next.status,
      attempt: r.attempt.number,
      durationMs: Math.round(r.attempt.durationMs),
      ...(r.attempt.status !== undefined ? { httpStatus: r.attempt.status } : {}),
      ...(r.attempt.errorClass ? { errorClass: r.attempt.errorClass } : {}),
      ...(next.status === "pending" ? { retryInMs: Math.round(next.delayMs) } : {}),
      ...(next.status !== "succeeded" ? { reason: next.reason } : {}),
      ...(batch ? { batch: batch.key, batchSize: batch.size } : {}),
    });
  }
}

/**
 * A webhook run aborted after too many unrecoverable outcomes (`run.aborted`) or a webhook paused
 * after failing continuously (`webhook.paused`), at warn, with the reason.
 *
 * @example logEnded(logger, aborted)
 */
export function logEnded(logger: Logger, ended: readonly EndedRun[]): void {
  for (const a of ended)
    logger.log("warn", a.paused ? "webhook.paused" : "run.aborted", {
      webhook: a.webhook,
      run: a.runId,
      reason: a.reason,
    });
}
