import type { EndedDelivery, NewDelivery, OutcomeDelivery } from "../contracts/store.ts";
import type { HooklineEvent } from "../model/event.ts";
import { parseResponse } from "./scenario.ts";

/** What the fail branch knows of a delivery that did not make it. */
export interface FailedDelivery {
  delivery: OutcomeDelivery;
  /**
   * `aborted`: ended unsent with the rest of a run that saw too many unrecoverable outcomes;
   * `skipped`: not sent, the customer had none of the consent objectives it needs.
   */
  status: "failed" | "halted" | "aborted" | "skipped";
  reason: string;
  /** The destination's answer, redacted. */
  response?: { status: number; body: string };
}

/** The event type the fail branch raises; triggers on it route failures to follow-up webhooks. */
export const WEBHOOK_FAILED = "webhook.failed";

/**
 * The fail branch (Bloomreach's "fail branch" of a webhook step): a delivery that failed, halted, was
 * aborted or was skipped for want of consent raises a `webhook.failed` event, and the deliveries its triggers make (an SMS when the
 * email failed) are written with the outcome, in the same transaction, or not at all. One level
 * deep: a follow-up that fails raises nothing more, so no chain of fallbacks fails in turn.
 *
 * @example
 * const branch = new FailBranch((event) => outbox.deliveriesFor(event));
 * branch.of({ delivery, status: "failed", reason: "HTTP 422" }) // [the follow-up deliveries]
 */
export class FailBranch {
  constructor(
    /** The deliveries (not written) that an event's triggers make: the outbox's `deliveriesFor`. */
    private readonly deliveriesFor: (event: HooklineEvent) => NewDelivery[],
  ) {}

  /** The follow-up deliveries of one failure (none for a follow-up's own failure). */
  of(failure: FailedDelivery): NewDelivery[] {
    const { delivery } = failure;
    if (delivery.eventType === WEBHOOK_FAILED) return [];
    const context = delivery.context as { customer?: HooklineEvent["customer"]; event?: unknown };
    const response = failure.response
      ? { status: failure.response.status, body: parseResponse("json", failure.response.body) }
      : undefined;
    return this.deliveriesFor({
      id: `failed.${delivery.id}`,
      type: WEBHOOK_FAILED,
      customer: context.customer?.id === undefined ? undefined : context.customer,
      data: {
        webhook: delivery.webhook,
        deliveryId: delivery.id,
        status: failure.status,
        reason: failure.reason,
        response,
        event: context.event,
      },
      timestamp: new Date().toISOString(),
    });
  }

  /** The follow-ups of deliveries ended unsent with their run (aborted, halted). */
  ofEnded = (ended: readonly EndedDelivery[]): NewDelivery[] =>
    ended.flatMap((e) => this.of({ delivery: e, status: e.status, reason: e.reason }));
}
