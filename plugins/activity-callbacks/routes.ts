import type { Context, Hono } from "hono";
import { z } from "zod";
import {
  Activity,
  documented,
  HooklineError,
  HttpError,
  type HttpRoutes,
  type PluginHost,
  readJson,
} from "../../core/plugin/index.ts";
import { parseActivityInput } from "./activity.ts";
import { SubscriberConfig, subscriberName } from "./config.ts";
import { subscribersConsole } from "./console.tsx";
import { webhookProblem } from "./outcomes.ts";
import {
  deleteSubscriber,
  findSubscriber,
  listSubscribers,
  queueState,
  type Subscriber,
  saveSubscribers,
  subscriberFrom,
} from "./repository.ts";
import { checkSubscriberUrl, credentialProblem } from "./send.ts";
import {
  ACTIVITY_EVENT,
  activityEvents,
  refreshSubscribers,
  subscribersReady,
  webhookOf,
} from "./webhooks.ts";

const issues = (e: z.ZodError) =>
  e.issues.slice(0, 50).map((i) => ({ path: i.path.join("."), message: i.message }));

const retryDefaults = new WeakMap<PluginHost, { base: number; cap: number }>();

/**
 * The plugin's retry defaults for this app (set when its routes mount or its service starts; 1 min
 * and 1 h otherwise).
 *
 * @example retryDefaultsOf(host) // { base: 60000, cap: 3600000 }
 */
export const retryDefaultsOf = (host: PluginHost) =>
  retryDefaults.get(host) ?? { base: 60_000, cap: 3_600_000 };

/**
 * Remembers the plugin's retry defaults for an app, for library calls that only have its host.
 *
 * @example rememberRetryDefaults(host, { base: 60_000, cap: 3_600_000 })
 */
export const rememberRetryDefaults = (host: PluginHost, retry: { base: number; cap: number }) =>
  void retryDefaults.set(host, retry);

/**
 * The app's subscribers as webhooks (loaded once; see `subscribersReady`).
 *
 * @example await ready(host)
 */
export const ready = (host: PluginHost) => subscribersReady(host, retryDefaultsOf(host), webhookProblem);

/**
 * Activities (eSputnik format) as deliveries of every subscriber webhook that wants their status,
 * each at most once per subscriber (the event id is the activity's key). Resolves once they are
 * durable; an activity no subscriber wants writes nothing. Throws `HooklineError`
 * `HOOKLINE_ACTIVITY_INVALID` (with `issues`) for activities that do not fit the format. `host` is
 * the app's plugin host (or the app, whose `host` it is).
 *
 * @example await enqueueActivities(host, [{ activityStatus: "DELIVERED", activityDateTime: "2024-05-01T10:00:00", contactId: 7 }])
 */
export async function enqueueActivities(
  app: PluginHost | { host: PluginHost },
  activities: unknown,
): Promise<{ received: number; queued: number }> {
  const host = "host" in app ? app.host : app;
  await ready(host);
  const parsed = parseActivityInput(activities);
  if (!parsed.success)
    throw Object.assign(new HooklineError("HOOKLINE_ACTIVITY_INVALID", "invalid activities"), {
      issues: issues(parsed.error),
    });
  // Subscribers saved or deleted a moment ago through another process count now, not after the
  // next poll: activities posted meanwhile would miss a new subscriber (or reach a deleted one).
  await refreshSubscribers(host);
  const result = await host.publish(activityEvents(parsed.data, ACTIVITY_EVENT));
  const queued = result.events.reduce((n, e) => n + e.deliveries.length, 0);
  return { received: parsed.data.length, queued };
}

const shown = (s: Subscriber) => ({
  name: s.name,
  url: s.url,
  integration: s.integration,
  statuses: s.statuses ?? "all",
  webhooks: s.webhooks ?? [],
  batchSize: s.batchSize,
  timeout: s.timeoutMs,
  retry: { base: s.retryBaseMs, cap: s.retryCapMs },
  source: s.source,
  webhook: webhookOf(s.name),
});

const json = (c: Context, host: PluginHost, status: number, body: unknown) =>
  c.json(host.redactor.redactDeep(body) as object, status as 200);

// The answers' shapes, for the OpenAPI document (GET /openapi.json).
const SubscriberView = z.looseObject({
  name: z.string(),
  url: z.string(),
  integration: z.string().optional(),
  statuses: z.union([z.literal("all"), z.array(z.string())]),
  webhooks: z.array(z.string()),
  batchSize: z.number().int().optional(),
  timeout: z.number().optional(),
  retry: z.object({ base: z.number(), cap: z.number() }).strict(),
  source: z.enum(["config", "api"]),
  webhook: z.string().describe("the webhook its callbacks go out through"),
});
const QueueState = {
  queued: z.number().int().describe("callbacks waiting or in flight"),
  deliveredBatches: z.number().int(),
  head: z
    .looseObject({ id: z.string(), attempts: z.number().int() })
    .nullable()
    .describe("the callback at the head of the queue, which the rest wait behind"),
};
const SubscriberWithQueue = SubscriberView.extend(QueueState);
const tags = ["Activity callbacks"];
const params = { name: "the subscriber's name" };

const noSubscriber = (name: string) => new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no subscriber "${name}"`);

// A name no subscriber can have (NUL, 200 characters…) is not looked up: the store may refuse the text.
const stored = (host: PluginHost, name: string) =>
  subscriberName.safeParse(name).success ? findSubscriber(host.sql, name) : Promise.resolve(undefined);

/**
 * The sender side's admin API: `POST /v1/activities`, `GET /v1/subscribers[/:name]`,
 * `PUT /v1/subscribers/:name` (checked with a GET to its URL first), `DELETE /v1/subscribers/:name`.
 *
 * @example c.register(Tokens.HttpRoutes, { useValue: callbackRoutes({ base: 60_000, cap: 3_600_000 }) })
 */
export const callbackRoutes = (defaults: { base: number; cap: number }): HttpRoutes => ({
  name: "activity-callbacks",
  console: subscribersConsole,
  mount(http: Hono, host: PluginHost) {
    rememberRetryDefaults(host, defaults);
    // Refusals are thrown; the app's one error handler answers them (and a store outage with 503).
    http.post(
      "/v1/activities",
      documented({
        summary: "Queue activities (eSputnik format) for every subscriber that wants their status",
        tags,
        body: { schema: z.union([Activity, z.array(Activity)]) },
        answers: {
          202: {
            description: "how many came and how many callbacks were queued",
            schema: z.object({ received: z.number().int(), queued: z.number().int() }).strict(),
          },
        },
        errors: ["HOOKLINE_HTTP_INVALID"],
      }),
      async (c) => {
        try {
          return json(c, host, 202, await enqueueActivities(host, await readJson(c)));
        } catch (e) {
          if (e instanceof HooklineError && e.code === "HOOKLINE_ACTIVITY_INVALID")
            throw new HttpError("HOOKLINE_HTTP_INVALID", e.message, {
              details: { issues: (e as unknown as { issues: unknown }).issues },
            });
          throw e;
        }
      },
    );

    http.get(
      "/v1/subscribers",
      documented({
        summary: "List activity-status subscribers, with their queues",
        tags,
        answers: {
          200: {
            description: "every subscriber",
            schema: z.object({ subscribers: z.array(SubscriberWithQueue) }),
          },
        },
      }),
      async (c) => {
        const list = await listSubscribers(host.sql);
        const withState = await Promise.all(
          list.map(async (s) => ({ ...shown(s), ...(await queueState(host.sql, webhookOf(s.name))) })),
        );
        return json(c, host, 200, { subscribers: withState });
      },
    );

    http.get(
      "/v1/subscribers/:name",
      documented({
        summary: "A subscriber, with its queue",
        tags,
        params,
        answers: { 200: { description: "the subscriber", schema: SubscriberWithQueue } },
        errors: ["HOOKLINE_HTTP_NOT_FOUND"],
      }),
      async (c) => {
        const s = await stored(host, c.req.param("name"));
        if (!s) throw noSubscriber(c.req.param("name"));
        return json(c, host, 200, { ...shown(s), ...(await queueState(host.sql, webhookOf(s.name))) });
      },
    );

    http.put(
      "/v1/subscribers/:name",
      documented({
        summary: "Create or replace a subscriber",
        description:
          "Its URL must answer a GET with 200 first (eSputnik's rule); nothing is saved otherwise.",
        tags,
        params,
        body: { schema: SubscriberConfig },
        answers: {
          200: { description: "replaced", schema: SubscriberView },
          201: { description: "created", schema: SubscriberView },
        },
        errors: ["HOOKLINE_HTTP_INVALID", "HOOKLINE_HTTP_CONFLICT", "HOOKLINE_HTTP_UNPROCESSABLE"],
      }),
      async (c) => {
        const name = subscriberName.safeParse(c.req.param("name"));
        if (!name.success)
          throw new HttpError("HOOKLINE_HTTP_PARAM", "invalid subscriber name", {
            details: { issues: issues(name.error) },
          });
        const parsed = SubscriberConfig.safeParse(await readJson(c));
        if (!parsed.success)
          throw new HttpError("HOOKLINE_HTTP_INVALID", "invalid subscriber", {
            details: { issues: issues(parsed.error) },
          });
        const subscriber = subscriberFrom(name.data, parsed.data, "api", retryDefaultsOf(host));
        const problem = credentialProblem(host, subscriber) ?? webhookProblem(host, subscriber);
        if (problem) throw new HttpError("HOOKLINE_HTTP_INVALID", problem);
        const fromFile = (host.config.sections.subscribers ?? {}) as Record<string, unknown>;
        if (Object.hasOwn(fromFile, name.data))
          throw new HttpError(
            "HOOKLINE_HTTP_CONFLICT",
            `subscriber "${name.data}" is defined in the config file; change it there`,
          );
        // eSputnik's rule: the URL must answer a GET with 200 before it is saved.
        const check = await checkSubscriberUrl(host, subscriber);
        if (!check.ok)
          throw new HttpError("HOOKLINE_HTTP_UNPROCESSABLE", `${check.error}; not saved`, {
            details: { check: { status: check.status ?? null } },
          });
        await ready(host);
        const created = await saveSubscribers(host.sql, [subscriber]);
        await refreshSubscribers(host, true);
        return json(c, host, created.length > 0 ? 201 : 200, shown(subscriber));
      },
    );

    http.delete(
      "/v1/subscribers/:name",
      documented({
        summary: "Delete a subscriber of the admin API",
        tags,
        params,
        answers: { 204: { description: "deleted" } },
        errors: ["HOOKLINE_HTTP_NOT_FOUND", "HOOKLINE_HTTP_CONFLICT"],
      }),
      async (c) => {
        const existing = await stored(host, c.req.param("name"));
        if (!existing) throw noSubscriber(c.req.param("name"));
        if (existing.source === "config")
          throw new HttpError(
            "HOOKLINE_HTTP_CONFLICT",
            `subscriber "${existing.name}" is defined in the config file`,
          );
        await deleteSubscriber(host.sql, existing.name);
        await refreshSubscribers(host, true);
        return c.body(null, 204);
      },
    );
  },
});
