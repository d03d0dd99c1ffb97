import type { Context, Hono } from "hono";
import type { z } from "zod";
import type { Hookline } from "../../core/app.ts";
import type { HttpRoutes } from "../../core/contracts/extension.ts";
import { HooklineError } from "../../core/errors.ts";
import { activityKey, parseActivityInput } from "./activity.ts";
import { SubscriberConfig, subscriberName } from "./config.ts";
import { webhookProblem } from "./outcomes.ts";
import {
  deleteSubscriber,
  enqueue,
  listSubscribers,
  queueState,
  type Subscriber,
  saveSubscribers,
  subscriberFrom,
} from "./queue.ts";
import { checkSubscriberUrl, credentialProblem } from "./send.ts";
import { rememberRetryDefaults, retryDefaultsOf, syncConfigSubscribers, wakeSender } from "./sender.ts";

const issues = (e: z.ZodError) =>
  e.issues.slice(0, 50).map((i) => ({ path: i.path.join("."), message: i.message }));

/**
 * Queues activities (eSputnik format) for every subscriber that wants their status; each activity
 * at most once per subscriber. Resolves once they are durable. Throws `HooklineError`
 * `HOOKLINE_ACTIVITY_INVALID` (with `issues`) for activities that do not fit the format.
 *
 * @example await enqueueActivities(app, [{ activityStatus: "DELIVERED", activityDateTime: "2024-05-01T10:00:00", contactId: 7 }])
 */
export async function enqueueActivities(
  app: Hookline,
  activities: unknown,
): Promise<{ received: number; queued: number }> {
  await syncConfigSubscribers(app, retryDefaultsOf(app));
  const parsed = parseActivityInput(activities);
  if (!parsed.success)
    throw Object.assign(new HooklineError("HOOKLINE_ACTIVITY_INVALID", "invalid activities"), {
      issues: issues(parsed.error),
    });
  const items = parsed.data.map((a) => ({ key: activityKey(a), activity: a }));
  const queued = await enqueue(app.store.sql, items);
  if (queued > 0) wakeSender(app);
  return { received: items.length, queued };
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
});

const json = (c: Context, app: Hookline, status: number, body: unknown) =>
  c.json(app.redactor.redactDeep(body) as object, status as 200);

const down = (c: Context, app: Hookline, e: unknown) => {
  app.logger.log("error", "store unavailable", { error: (e as Error).message });
  return c.json({ error: "store unavailable; try again" }, 503);
};

/**
 * The sender side's admin API: `POST /v1/activities`, `GET /v1/subscribers[/:name]`,
 * `PUT /v1/subscribers/:name` (checked with a GET to its URL first), `DELETE /v1/subscribers/:name`.
 *
 * @example c.register(Tokens.HttpRoutes, { useValue: callbackRoutes({ base: 60_000, cap: 3_600_000 }) })
 */
export const callbackRoutes = (retryDefaults: { base: number; cap: number }): HttpRoutes => ({
  name: "activity-callbacks",
  mount(http: Hono, app: Hookline) {
    rememberRetryDefaults(app, retryDefaults);
    http.post("/v1/activities", async (c) => {
      let body: unknown;
      try {
        body = await c.req.json();
      } catch (e) {
        return c.json({ error: `request body is not valid JSON: ${(e as Error).message}` }, 400);
      }
      try {
        return json(c, app, 202, await enqueueActivities(app, body));
      } catch (e) {
        if (e instanceof HooklineError && e.code === "HOOKLINE_ACTIVITY_INVALID")
          return c.json({ error: e.message, issues: (e as unknown as { issues: unknown }).issues }, 400);
        return down(c, app, e);
      }
    });

    http.get("/v1/subscribers", async (c) => {
      try {
        const list = await listSubscribers(app.store.sql);
        const withState = await Promise.all(
          list.map(async (s) => ({ ...shown(s), ...(await queueState(app.store.sql, s.name)) })),
        );
        return json(c, app, 200, { subscribers: withState });
      } catch (e) {
        return down(c, app, e);
      }
    });

    http.get("/v1/subscribers/:name", async (c) => {
      try {
        const s = (await listSubscribers(app.store.sql)).find((x) => x.name === c.req.param("name"));
        if (!s) return c.json({ error: `no subscriber "${c.req.param("name")}"` }, 404);
        return json(c, app, 200, { ...shown(s), ...(await queueState(app.store.sql, s.name)) });
      } catch (e) {
        return down(c, app, e);
      }
    });

    http.put("/v1/subscribers/:name", async (c) => {
      const name = subscriberName.safeParse(c.req.param("name"));
      if (!name.success) return c.json({ error: "invalid subscriber name", issues: issues(name.error) }, 400);
      let body: unknown;
      try {
        body = await c.req.json();
      } catch (e) {
        return c.json({ error: `request body is not valid JSON: ${(e as Error).message}` }, 400);
      }
      const parsed = SubscriberConfig.safeParse(body);
      if (!parsed.success) return c.json({ error: "invalid subscriber", issues: issues(parsed.error) }, 400);
      const subscriber = subscriberFrom(name.data, parsed.data, "api", retryDefaults);
      const problem = credentialProblem(app, subscriber) ?? webhookProblem(app, subscriber);
      if (problem) return c.json({ error: problem }, 400);
      try {
        const fromFile = (app.config.sections.subscribers ?? {}) as Record<string, unknown>;
        if (Object.hasOwn(fromFile, name.data))
          return c.json(
            { error: `subscriber "${name.data}" is defined in the config file; change it there` },
            409,
          );
        // eSputnik's rule: the URL must answer a GET with 200 before it is saved.
        const check = await checkSubscriberUrl(app, subscriber);
        if (!check.ok)
          return json(c, app, 422, {
            error: `${check.error}; not saved`,
            check: { status: check.status ?? null },
          });
        const created = await saveSubscribers(app.store.sql, [subscriber]);
        wakeSender(app);
        return json(c, app, created.length > 0 ? 201 : 200, shown(subscriber));
      } catch (e) {
        return down(c, app, e);
      }
    });

    http.delete("/v1/subscribers/:name", async (c) => {
      try {
        const existing = (await listSubscribers(app.store.sql)).find((s) => s.name === c.req.param("name"));
        if (!existing) return c.json({ error: `no subscriber "${c.req.param("name")}"` }, 404);
        if (existing.source === "config")
          return c.json({ error: `subscriber "${existing.name}" is defined in the config file` }, 409);
        await deleteSubscriber(app.store.sql, existing.name);
        return c.body(null, 204);
      } catch (e) {
        return down(c, app, e);
      }
    });
  },
});
