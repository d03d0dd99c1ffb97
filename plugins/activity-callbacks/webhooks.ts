import {
  type Activity,
  activityKey,
  type EventInput,
  exponentialRetry,
  HooklineError,
  type PluginHost,
  type TriggerInstance,
  type WebhookConfig,
} from "../../core/plugin/index.ts";
import type { SubscribersSection } from "./config.ts";
import {
  listSubscribers,
  pruneConfigSubscribers,
  type Subscriber,
  saveSubscribers,
  subscriberFrom,
  subscribersVersion,
} from "./repository.ts";
import { credentialProblem } from "./send.ts";

/** The catalogue webhook a subscriber is: `subscriber.<name>`. */
export const webhookOf = (subscriber: string) => `subscriber.${subscriber}`;

/** Event types activities travel as: posted ones, and delivery outcomes (for subscribers naming the webhook). */
export const ACTIVITY_EVENT = "hookline.activity";
export const OUTCOME_EVENT = "hookline.activity.outcome";

/** eSputnik's body: the JSON array of the activities, each written as the store keeps it. */
const ITEM = "<%~ JSON.stringify(it.event.data) %>";
const ROOT = '[<%~ it.items.join(",") %>]';

/**
 * The webhook a subscriber is: a POST of up to `batchSize` activities as one JSON array, one ordered
 * stream per subscriber (its name is the ordering key), its integration and timeout.
 *
 * @example subscriberWebhook(subscriber).batch // { size: 100, linger: 0, item: "…" }
 */
export function subscriberWebhook(s: Subscriber): WebhookConfig {
  return {
    description: `activity-status callbacks for subscriber "${s.name}"`,
    method: "POST",
    url: s.url,
    headers: {},
    body: ROOT,
    format: "json",
    engine: "eta",
    integration: s.integration,
    params: {},
    timeout: s.timeoutMs,
    response: { format: "text", profile: { match: "id", create: false } },
    orderingKey: s.name,
    batch: { size: s.batchSize, linger: 0, item: ITEM },
  };
}

/**
 * Which activities reach a subscriber: posted ones, and outcomes of the webhooks it names, each only
 * when it wants the status.
 *
 * @example subscriberTrigger(subscriber).matches?.({ type: "hookline.activity", data: activity, … })
 */
export function subscriberTrigger(s: Subscriber): TriggerInstance {
  return {
    webhooks: [webhookOf(s.name)],
    matches(event) {
      if (event.type !== ACTIVITY_EVENT && event.type !== OUTCOME_EVENT) return false;
      const a = event.data as Partial<Activity>;
      if (s.statuses && !s.statuses.includes(String(a.activityStatus))) return false;
      return event.type === ACTIVITY_EVENT || (s.webhooks ?? []).includes(String(a.messageTag));
    },
  };
}

/**
 * Activities as events: one per activity, its id the activity's key, so an activity sent twice makes
 * no second delivery for a subscriber (the outbox's idempotency key is the event id and the webhook).
 *
 * @example await host.publish(activityEvents(activities, ACTIVITY_EVENT))
 */
export const activityEvents = (activities: Activity[], type: string): EventInput[] =>
  activities.map((a) => ({ id: `activity:${activityKey(a)}`, type, data: a as Record<string, unknown> }));

/** What one app knows of its subscribers: the ones in its catalogue, and the store's version it saw. */
export interface SubscriberState {
  loaded: Map<string, string>;
  version?: string;
  /** The webhooks subscribers name (whose outcomes become activities). */
  watched?: ReadonlySet<string>;
}

const states = new WeakMap<PluginHost, SubscriberState>();
const ready = new WeakMap<PluginHost, Promise<void>>();
const refreshing = new WeakMap<PluginHost, Promise<void>>();

/** The subscriber state of an app (one host per app). */
export function stateOf(host: PluginHost): SubscriberState {
  let s = states.get(host);
  if (!s) {
    s = { loaded: new Map() };
    states.set(host, s);
  }
  return s;
}

/**
 * Makes every stored subscriber a webhook of this app: writes the config file's subscribers first
 * (once per app; again after a failure), checking their integrations and webhooks. Runs at start-up,
 * and before the first activities or admin calls if those come first.
 *
 * @example await subscribersReady(host, { base: 60_000, cap: 3_600_000 }, webhookProblem)
 */
export function subscribersReady(
  host: PluginHost,
  retry: { base: number; cap: number },
  webhookProblem: (host: PluginHost, s: Subscriber) => string | undefined,
): Promise<void> {
  let p = ready.get(host);
  if (!p) {
    p = (async () => {
      const section = (host.config.sections.subscribers ?? {}) as NonNullable<SubscribersSection>;
      const list = Object.entries(section).map(([name, c]) => subscriberFrom(name, c, "config", retry));
      for (const s of list) {
        const problem = credentialProblem(host, s);
        if (problem)
          throw new HooklineError("HOOKLINE_SUBSCRIBER_INTEGRATION", `subscribers.${s.name}: ${problem}`);
        const webhooks = webhookProblem(host, s);
        if (webhooks)
          throw new HooklineError("HOOKLINE_SUBSCRIBER_WEBHOOK", `subscribers.${s.name}: ${webhooks}`);
      }
      await saveSubscribers(host.sql, list);
      await pruneConfigSubscribers(
        host.sql,
        list.map((s) => s.name),
      );
      await refreshSubscribers(host, true);
    })();
    p.catch(() => ready.delete(host));
    ready.set(host, p);
  }
  return p;
}

/**
 * Brings this app's subscriber webhooks in line with the store when its version moved (or `force`):
 * sets each subscriber's webhook, trigger and exponential retry policy, and deletes the webhooks of
 * subscribers that are gone (another process's `DELETE`). Calls in one app run one after another.
 *
 * @example await refreshSubscribers(host)
 */
export function refreshSubscribers(host: PluginHost, force = false): Promise<void> {
  // One at a time: a slower reload finishing after a newer one would put back what that one saw gone.
  const previous = refreshing.get(host) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(() => reload(host, force));
  refreshing.set(host, next);
  return next;
}

async function reload(host: PluginHost, force: boolean): Promise<void> {
  const state = stateOf(host);
  const version = await subscribersVersion(host.sql);
  if (!force && version === state.version) return;
  const list = await listSubscribers(host.sql);
  const { scale, maxRetryAfter } = host.config.engine.retry;
  const now = new Map<string, string>();
  for (const s of list) {
    const fingerprint = JSON.stringify(s);
    now.set(s.name, fingerprint);
    if (state.loaded.get(s.name) === fingerprint && host.catalogue.webhooks.has(webhookOf(s.name))) continue;
    try {
      host.catalogue.setWebhook(webhookOf(s.name), subscriberWebhook(s), {
        trigger: subscriberTrigger(s),
        retryPolicy: exponentialRetry({ base: s.retryBaseMs, cap: s.retryCapMs, scale, maxRetryAfter }),
        source: "plugin:activity-callbacks",
      });
    } catch (e) {
      now.delete(s.name);
      host.logger.log("warn", "activity_callbacks.subscriber_invalid", {
        subscriber: s.name,
        error: (e as Error).message,
      });
    }
  }
  for (const name of state.loaded.keys()) if (!now.has(name)) host.catalogue.deleteWebhook(webhookOf(name));
  state.loaded = now;
  state.version = version;
  state.watched = new Set(list.flatMap((s) => s.webhooks ?? []));
}
