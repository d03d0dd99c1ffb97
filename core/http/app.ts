import { Hono } from "hono";
import { z } from "zod";
import type { Hookline } from "../app.ts";
import type { HttpRoutes } from "../contracts/extension.ts";
import { StoreUnavailableError } from "../errors.ts";
import { EventInput, EventsBatch } from "../model/event.ts";
import { timingSafeEqual } from "../security/constant-time.ts";
import { callbackRoutes, exportRoutes, integrationRoutes } from "./integrations.ts";
import { policyRoutes } from "./policies.ts";
import { issues, readJson, reply, storeDown } from "./respond.ts";
import { webhookRoutes } from "./webhooks.ts";

const DeliveryQuery = z
  .object({
    webhook: z.string().optional(),
    status: z.enum(["pending", "in_flight", "succeeded", "failed", "halted", "aborted"]).optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(1000).optional(),
    before: z.string().uuid().optional(),
  })
  .strict();

/**
 * The HTTP app: events API, admin API (`/v1/*`, Bearer token) and health.
 *
 * @example Bun.serve({ fetch: createHttpApp(app, { adminToken }).fetch })
 */
export function createHttpApp(
  app: Hookline,
  options: { adminToken?: string; routes?: readonly HttpRoutes[] },
) {
  const http = new Hono();

  http.get("/healthz", async (c) => {
    try {
      await app.store.nextDueAt();
      return c.json({ status: "ok", worker: app.worker.owner, inFlight: app.worker.active });
    } catch {
      return c.json({ status: "store unavailable" }, 503);
    }
  });

  http.use("/v1/*", async (c, next) => {
    if (!options.adminToken) return next();
    const auth = c.req.header("authorization") ?? "";
    const m = /^Bearer\s+(.+)$/i.exec(auth);
    if (!m || !timingSafeEqual(m[1]!.trim(), options.adminToken)) {
      return c.json({ error: "missing or wrong bearer token (HOOKLINE_ADMIN_TOKEN)" }, 401, {
        "www-authenticate": "Bearer",
      });
    }
    return next();
  });

  http.post("/v1/events", async (c) => {
    const body = await readJson(c);
    if (!body.ok) return body.response;
    // Check against the one shape the body claims, so issues name fields (a union would name none).
    const batch = typeof body.value === "object" && body.value !== null && "events" in body.value;
    const parsed = (batch ? EventsBatch : EventInput).safeParse(body.value);
    if (!parsed.success)
      return c.json({ error: batch ? "invalid events" : "invalid event", issues: issues(parsed.error) }, 400);
    const events = "events" in parsed.data ? parsed.data.events : [parsed.data];
    try {
      return reply(app, c, 202, await app.publish(events));
    } catch (e) {
      if (e instanceof StoreUnavailableError) return storeDown(app, c, e);
      throw e;
    }
  });

  http.get("/v1/deliveries", async (c) => {
    const q = DeliveryQuery.safeParse(c.req.query());
    if (!q.success) return c.json({ error: "invalid query", issues: issues(q.error) }, 400);
    try {
      const deliveries = await app.store.listDeliveries(q.data);
      return reply(app, c, 200, {
        deliveries,
        next: deliveries.length === (q.data.limit ?? 100) ? deliveries.at(-1)?.id : undefined,
      });
    } catch (e) {
      return storeDown(app, c, e);
    }
  });

  http.get("/v1/deliveries/:id", async (c) => {
    try {
      const delivery = await app.store.getDelivery(c.req.param("id"));
      if (!delivery) return c.json({ error: `no delivery ${c.req.param("id")}` }, 404);
      const attempts = await app.store.listAttempts(delivery.id);
      return reply(app, c, 200, { delivery, attempts });
    } catch (e) {
      return storeDown(app, c, e);
    }
  });

  http.post("/v1/deliveries/:id/retry", async (c) => {
    const id = c.req.param("id");
    try {
      const existing = await app.store.getDelivery(id);
      if (!existing) return c.json({ error: `no delivery ${id}` }, 404);
      const delivery = await app.store.retryDelivery(
        id,
        existing.maxAttempts > 0 ? Math.max(1, existing.maxAttempts) : 4,
      );
      if (!delivery)
        return c.json(
          { error: `delivery ${id} is ${existing.status}; only finished deliveries can be retried` },
          409,
        );
      app.worker.wake();
      return reply(app, c, 202, { delivery });
    } catch (e) {
      return storeDown(app, c, e);
    }
  });

  http.route("/v1/webhooks", webhookRoutes(app));
  http.route("/v1/integrations", integrationRoutes(app));
  http.route("/v1", exportRoutes(app));
  http.route("/v1/policies", policyRoutes(app));
  http.route("/oauth/callback", callbackRoutes(app));
  for (const r of options.routes ?? []) r.mount(http, app);

  http.onError((e, c) => {
    app.logger.log("error", "request failed", { path: c.req.path, error: (e as Error).message });
    return c.json({ error: "internal error" }, 500);
  });
  http.notFound((c) => c.json({ error: `no route ${c.req.method} ${c.req.path}` }, 404));
  return http;
}
