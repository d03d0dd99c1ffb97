import type { DeliveryObserver, DeliveryOutcome, PluginHost } from "../../core/plugin/index.ts";
import { type Activity, activityKey } from "./activity.ts";
import { enqueue, type Subscriber } from "./queue.ts";

type Customer = { id?: unknown; email?: unknown; phone?: unknown };

// eSputnik's contactId is an integer: a customer id that is one (7, "7") fills it, any other does not.
const asContactId = (id: unknown): number | undefined => {
  if (typeof id === "number") return Number.isSafeInteger(id) ? id : undefined;
  if (typeof id !== "string" || !/^(0|[1-9]\d{0,15})$/.test(id)) return undefined;
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : undefined;
};

/**
 * The activity (eSputnik's format) an outbound delivery's outcome stands for: a success is DELIVERED
 * (`statusDescription` "HTTP 200"), a delivery that failed, halted or was aborted with its run is
 * UNDELIVERED with the reason; a retry to come (`pending`) is none. `iid` is the delivery id,
 * `messageTag` the webhook, `sourceEventKey`/`sourceEventTypeKey` the event; the customer gives
 * `externalCustomerId`, `contactId` (when its id is an integer), `email` and `sms` (its `phone`).
 *
 * @example outcomeActivity({ delivery, status: "succeeded", attempt }, "2024-05-01T10:00:00.000Z")
 * // { activityStatus: "DELIVERED", iid: delivery.id, mediaType: "WEBHOOK", messageTag: "crm-sync", statusDescription: "HTTP 200", … }
 */
export function outcomeActivity(outcome: DeliveryOutcome, at: string): Activity | undefined {
  if (outcome.status === "pending") return undefined;
  const { delivery } = outcome;
  const delivered = outcome.status === "succeeded";
  const customer = ((delivery.context as { customer?: Customer }).customer ?? {}) as Customer;
  const id = customer.id ?? delivery.customerId;
  const contactId = asContactId(id);
  return {
    activityStatus: delivered ? "DELIVERED" : "UNDELIVERED",
    activityDateTime: at,
    iid: delivery.id,
    ...(contactId === undefined ? {} : { contactId }),
    ...(id === undefined || id === null ? {} : { externalCustomerId: String(id) }),
    ...(typeof customer.email === "string" ? { email: customer.email } : {}),
    ...(typeof customer.phone === "string" ? { sms: customer.phone } : {}),
    sourceEventKey: delivery.eventId,
    sourceEventTypeKey: delivery.eventType,
    mediaType: "WEBHOOK",
    messageTag: delivery.webhook,
    statusDescription: delivered
      ? `HTTP ${outcome.attempt?.status ?? 200}`
      : (outcome.reason ?? outcome.status),
  };
}

/**
 * What the observer and the sender of one app share: the webhooks subscribers name (refreshed by the
 * sender on each poll; unknown until its first), and how to wake the sender.
 */
export interface OutcomeLink {
  watched?: ReadonlySet<string>;
  wake?: () => void;
}

/**
 * Delivery outcomes as activity-status callbacks: each recorded outcome of a webhook that a
 * subscriber names in `webhooks` is queued for that subscriber (its `statuses` filter applies) as a
 * DELIVERED or UNDELIVERED activity (`outcomeActivity`), in the transaction that records the outcome,
 * so the activity exists exactly when the outcome does; the sender is woken once it has committed.
 * Outcomes of webhooks no subscriber names (as of the sender's last poll, ~1 s) cost nothing.
 *
 * @example const link: OutcomeLink = {}; c.register(Tokens.DeliveryObserver, { useValue: outcomeActivities(link) })
 */
export const outcomeActivities = (link: OutcomeLink): DeliveryObserver => ({
  name: "activity-callbacks",
  accepts: (outcome) =>
    outcome.status !== "pending" &&
    (link.watched === undefined || link.watched.has(outcome.delivery.webhook)),
  async observe(tx, outcomes, context) {
    const at = new Date().toISOString();
    const items: Array<{ key: string; activity: Activity; webhook: string }> = [];
    for (const outcome of outcomes) {
      const activity = outcomeActivity(outcome, at);
      if (activity) items.push({ key: activityKey(activity), activity, webhook: outcome.delivery.webhook });
    }
    if ((await enqueue(tx, items)) > 0 && link.wake) context.afterCommit(link.wake);
  },
});

/**
 * Checks that every webhook a subscriber names exists (in the config file, the admin API or a
 * plugin's); returns the problem, or undefined.
 *
 * @example webhookProblem(host, { webhooks: ["nope"] }) // 'unknown webhook "nope" in webhooks; expected one of: crm-sync'
 */
export function webhookProblem(
  host: Pick<PluginHost, "catalogue">,
  s: Pick<Subscriber, "webhooks">,
): string | undefined {
  const { webhooks } = host.catalogue;
  const unknown = (s.webhooks ?? []).filter((w) => !webhooks.has(w));
  if (unknown.length === 0) return undefined;
  const names = unknown.map((w) => JSON.stringify(w)).join(", ");
  return `unknown webhook${unknown.length > 1 ? "s" : ""} ${names} in webhooks; expected one of: ${[...webhooks.keys()].join(", ") || "(none configured)"}`;
}
