import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { consoleRoutes } from "../console/routes.tsx";
import type { HttpRoutes } from "../contracts/extension.ts";
import type { PluginHost } from "../contracts/host.ts";
import { validatedEvent } from "../engine/outbox.ts";
import { HttpError } from "../errors.ts";
import { EventInput, EventsBatch, EventsBody } from "../model/event.ts";
import type { AdminApp } from "./admin-app.ts";
import {
  DeliveryPage,
  DeliveryWithAttempts,
  OpenApiDocument,
  Published,
  RerenderedRequest,
  RetriedDelivery,
} from "./answer-schemas.ts";
import { apiReference } from "./api-reference.ts";
import { healthRoutes, type Readiness } from "./health.ts";
import { callbackRoutes, exportRoutes, integrationRoutes } from "./integrations.ts";
import { countInbound, type MetricsRouteOptions, metricsRoutes } from "./metrics.ts";
import { openApiRoute } from "./openapi.ts";
import { policyRoutes } from "./policies.ts";
import { presetRoutes } from "./presets.ts";
import {
  errorAnswer,
  jsonBodies,
  MAX_BODY_BYTES,
  noNulInUrl,
  reply,
  requestIdInErrors,
  withRequestId,
} from "./respond.ts";
import { apiTokens } from "./roles.ts";
import { documented } from "./route-docs.ts";
import { bulkRetryRoute, retryOne, runRoutes } from "./runs.ts";
import { tokenRoutes } from "./tokens.ts";
import { json, query } from "./validate.ts";
import { webhookRoutes } from "./webhooks.ts";

const datetime = z.iso.datetime({ offset: true, error: "an ISO 8601 date-time, e.g. 2024-05-01T10:00:00Z" });
const DeliveryQuery = z
  .object({
    webhook: z.string().optional(),
    run: z.string().min(1).optional(),
    customer: z.string().min(1).max(200).optional().describe("deliveries of this customer id"),
    status: z
      .enum([
        "pending",
        "waiting",
        "paused",
        "in_flight",
        "succeeded",
        "failed",
        "halted",
        "aborted",
        "skipped",
      ])
      .optional(),
    since: datetime.optional(),
    until: datetime.optional(),
    // Digits only: `Number()` would take " ", "0x10" and "1e3" too.
    limit: z
      .string()
      .regex(/^\d{1,4}$/, "a whole number from 1 to 1000")
      .transform(Number)
      .pipe(z.number().min(1, "a whole number from 1 to 1000").max(1000, "a whole number from 1 to 1000"))
      .optional(),
    before: z.uuid("a delivery id (UUID) from a previous page's `next`").optional(),
  })
  .strict();

const isBatch = (body: unknown) => typeof body === "object" && body !== null && "events" in body;

/**
 * The HTTP app: events API, admin API (`/v1/*`, Bearer token) and health. Every answer carries an
 * `X-Request-Id`; every error answer is `{ error, code?, issues?, requestId }`, made in one place
 * (`errorAnswer`) from what a handler throws.
 *
 * @example Bun.serve({ fetch: createHttpApp(app, { adminToken }).fetch })
 */
export function createHttpApp(
  app: AdminApp,
  options: {
    adminToken?: string;
    routes?: readonly HttpRoutes[];
    host: PluginHost;
    /** What `GET /readyz` checks beyond the store (migrations, workers). */
    readiness?: Readiness;
    /** `GET /metrics` (its other tokens beside the admin token) and the inbound requests' counter. */
    metrics?: Partial<MetricsRouteOptions> & { telemetry?: Parameters<typeof countInbound>[0] };
  },
) {
  const http = new Hono();

  http.use("*", withRequestId(app));

  http.route("/", healthRoutes(app, options.host.sql, options.readiness));
  http.get(
    "/openapi.json",
    documented({
      summary: "This OpenAPI 3.1 document",
      tags: ["Reference"],
      answers: { 200: { description: "the document", schema: OpenApiDocument } },
    }),
    openApiRoute(
      () => http.routes,
      () => (options.routes ?? []).flatMap((r) => r.openapi?.() ?? []),
    ),
  );
  http.route("/docs", apiReference());
  http.route(
    "/console",
    consoleRoutes(app, {
      adminToken: options.adminToken,
      host: options.host,
      sections: (options.routes ?? []).flatMap((r) => r.console?.() ?? []),
    }),
  );
  http.route(
    "/metrics",
    metricsRoutes({
      scrape: options.metrics?.scrape,
      tokens: [options.adminToken ?? "", ...(options.metrics?.tokens ?? [])].filter((t) => t !== ""),
    }),
  );
  if (options.metrics?.telemetry) http.use("/in/*", countInbound(options.metrics.telemetry));

  http.use("/v1/*", requestIdInErrors);
  http.use("/v1/*", noNulInUrl);
  http.use("/oauth/*", noNulInUrl);
  // Admin token or an API token with a role (core/http/roles.ts); without an admin token the admin
  // API is open, and served on loopback only.
  const guard = options.adminToken ? apiTokens(options.adminToken, app.store) : undefined;
  if (guard) http.use("/v1/*", guard);
  http.use(
    "/v1/*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: () => {
        throw new HttpError("HOOKLINE_HTTP_TOO_LARGE", `request body is larger than ${MAX_BODY_BYTES} bytes`);
      },
    }),
  );
  http.use("/v1/*", jsonBodies);

  http.post(
    "/v1/events",
    documented({
      summary: "Publish an event, or a batch of up to 1000",
      description:
        "Writes one delivery per webhook whose trigger matches each event; answers once they are durable.",
      tags: ["Events"],
      answers: { 202: { description: "the run and the deliveries written", schema: Published } },
    }),
    json(
      (body) => (isBatch(body) ? [EventsBatch, "invalid events"] : [EventInput, "invalid event"]),
      EventsBody,
    ),
    async (c) => {
      const parsed = c.req.valid("json");
      // Parsed by the body's validator with EventInput itself: not parsed again on publish.
      const events = ("events" in parsed ? parsed.events : [parsed]).map(validatedEvent);
      return reply(app, c, 202, await app.publish(events, { traceparent: c.req.header("traceparent") }));
    },
  );

  http.get(
    "/v1/deliveries",
    documented({
      summary: "List deliveries, newest first",
      tags: ["Deliveries"],
      answers: { 200: { description: "a page of deliveries", schema: DeliveryPage } },
    }),
    query(DeliveryQuery, "invalid query"),
    async (c) => {
      const q = c.req.valid("query");
      const deliveries = await app.store.listDeliveries(q);
      return reply(app, c, 200, {
        deliveries,
        next: deliveries.length === (q.limit ?? 100) ? deliveries.at(-1)?.id : undefined,
      });
    },
  );

  const delivery = { id: "the delivery's id" };
  http.get(
    "/v1/deliveries/:id",
    documented({
      summary: "A delivery and its attempts",
      tags: ["Deliveries"],
      params: delivery,
      answers: { 200: { description: "the delivery", schema: DeliveryWithAttempts } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND"],
    }),
    async (c) => {
      const delivery = await app.store.getDelivery(c.req.param("id"));
      if (!delivery) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no delivery ${c.req.param("id")}`);
      const attempts = await app.store.listAttempts(delivery.id);
      return reply(app, c, 200, { delivery, attempts });
    },
  );

  // A successful attempt keeps its body's size and hash, not the body: this renders the request again
  // from the delivery's data and the webhook as it is now, and says whether the body matches.
  http.get(
    "/v1/deliveries/:id/request",
    documented({
      summary: "A delivery's request, rendered again",
      description:
        "Rendered from the delivery's data and the webhook as it is now; says whether the body matches the one the last attempt recorded.",
      tags: ["Deliveries"],
      params: delivery,
      answers: { 200: { description: "the request (credentials masked)", schema: RerenderedRequest } },
      errors: [
        "HOOKLINE_HTTP_NOT_FOUND",
        "HOOKLINE_HTTP_CONFLICT",
        "HOOKLINE_HTTP_NOT_APPLICABLE",
        "HOOKLINE_HTTP_UNPROCESSABLE",
      ],
    }),
    async (c) => {
      const id = c.req.param("id");
      const delivery = await app.store.getDelivery(id);
      if (!delivery) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no delivery ${id}`);
      const hook = app.catalogue.webhooks.get(delivery.webhook);
      if (!hook)
        throw new HttpError(
          "HOOKLINE_HTTP_CONFLICT",
          `webhook "${delivery.webhook}" is no longer configured`,
        );
      if (hook.config.batch)
        throw new HttpError(
          "HOOKLINE_HTTP_NOT_APPLICABLE",
          `webhook "${delivery.webhook}" sends batches: a batch request is rendered from all its items, so one delivery does not render it again`,
        );
      let again: ReturnType<typeof app.deliverer.rerender>;
      try {
        again = app.deliverer.rerender(hook, delivery);
      } catch (e) {
        throw new HttpError("HOOKLINE_HTTP_UNPROCESSABLE", (e as Error).message);
      }
      const recorded = (await app.store.listAttempts(id)).findLast(
        (a) => a.request.bodyHash !== undefined || a.request.body !== undefined,
      )?.request;
      const { request, bodyHash } = again;
      return reply(app, c, 200, {
        request,
        rerendered: true,
        // Whether the body rendered now is the one the last attempt with a body recorded (its hash or,
        // for an attempt that did not succeed, the body itself); absent when no attempt recorded one.
        matchesRecorded:
          recorded === undefined
            ? undefined
            : recorded.bodyHash !== undefined
              ? recorded.bodyHash === bodyHash
              : recorded.body === request.body,
      });
    },
  );

  http.post(
    "/v1/deliveries/:id/retry",
    documented({
      summary: "Send a finished delivery again",
      description: "A fresh set of attempts; it keeps its idempotency key.",
      tags: ["Deliveries"],
      params: delivery,
      answers: { 202: { description: "the delivery, due now", schema: RetriedDelivery } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND", "HOOKLINE_HTTP_CONFLICT"],
    }),
    async (c) => {
      const id = c.req.param("id");
      const { existing, retried: delivery } = await retryOne(app, id);
      if (!delivery)
        throw new HttpError(
          "HOOKLINE_HTTP_CONFLICT",
          `delivery ${id} is ${existing.status}; only finished deliveries can be retried`,
        );
      return reply(app, c, 202, { delivery });
    },
  );

  http.route("/v1/webhooks", webhookRoutes(app));
  http.route("/v1/integrations", integrationRoutes(app));
  http.route("/v1", exportRoutes(app));
  http.route("/v1/policies", policyRoutes(app));
  http.route("/v1/presets", presetRoutes(app));
  http.route("/v1/runs", runRoutes(app));
  http.route(
    "/v1/tokens",
    tokenRoutes(app, () => guard?.forget()),
  );
  http.route("/v1/deliveries/retry", bulkRetryRoute(app));
  http.route("/oauth/callback", callbackRoutes(app));
  for (const r of options.routes ?? []) r.mount(http, options.host);

  http.onError((e, c) => errorAnswer(app, c, e));
  http.notFound((c) =>
    errorAnswer(app, c, new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no route ${c.req.method} ${c.req.path}`)),
  );
  return http;
}
