import type { DeliveryObserver, DeliveryOutcome, PluginHost } from "../../core/plugin/index.ts";
import type { Activity } from "./activity.ts";
import type { Subscriber } from "./repository.ts";
import { activityEvents, OUTCOME_EVENT, webhookOf } from "./webhooks.ts";

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
 * What the observer shares with the rest of the plugin in one app: the webhooks subscribers name
 * (unknown until the subscribers are first loaded), and how to wake the delivery workers.
 */
export interface OutcomeLink {
  watched?: () => ReadonlySet<string> | undefined;
  wake?: () => void;
}

/**
 * Delivery outcomes as activity-status callbacks: each recorded outcome of a webhook that a
 * subscriber names in `webhooks` becomes a DELIVERED or UNDELIVERED activity (`outcomeActivity`)
 * published as an event in the transaction that records the outcome, so the subscriber's delivery
 * exists exactly when the outcome does (its trigger applies `webhooks` and `statuses`); the workers
 * are woken once it has committed. Outcomes of webhooks no subscriber names cost nothing.
 *
 * @example const link: OutcomeLink = {}; c.register(Tokens.DeliveryObserver, { useValue: outcomeActivities(link) })
 */
export const outcomeActivities = (link: OutcomeLink): DeliveryObserver => ({
  name: "activity-callbacks",
  accepts: (outcome) => {
    if (outcome.status === "pending") return false;
    const watched = link.watched?.();
    return watched === undefined || watched.has(outcome.delivery.webhook);
  },
  async observe(tx, outcomes, context) {
    const at = new Date().toISOString();
    const activities: Activity[] = [];
    for (const outcome of outcomes) {
      const activity = outcomeActivity(outcome, at);
      if (activity) activities.push(activity);
    }
    if (activities.length === 0) return;
    await context.publish(tx, activityEvents(activities, OUTCOME_EVENT));
    if (link.wake) context.afterCommit(link.wake);
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
  // A subscriber's own webhook is no source: its outcomes would feed subscribers without end.
  const own = (s.webhooks ?? []).filter((w) => w.startsWith(webhookOf("")));
  if (own.length > 0)
    return `webhooks may not name subscribers' webhooks (${own.map((w) => JSON.stringify(w)).join(", ")})`;
  const unknown = (s.webhooks ?? []).filter((w) => !webhooks.has(w));
  if (unknown.length === 0) return undefined;
  const names = unknown.map((w) => JSON.stringify(w)).join(", ");
  return `unknown webhook${unknown.length > 1 ? "s" : ""} ${names} in webhooks; expected one of: ${[...webhooks.keys()].filter((w) => !w.startsWith(webhookOf(""))).join(", ") || "(none configured)"}`;
}
