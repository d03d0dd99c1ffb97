import { Hono, type MiddlewareHandler } from "hono";
import { z } from "zod";
import { HttpError } from "../errors.ts";
import { timingSafeEqual } from "../security/constant-time.ts";
import type { Telemetry } from "../telemetry/telemetry.ts";
import { documented } from "./route-docs.ts";

/** What `GET /metrics` serves from, and who may read it. */
export interface MetricsRouteOptions {
  /** The text format of the app's meter; absent when `metrics.enabled` is false (404). */
  scrape?: () => Promise<string>;
  /** Tokens that read it (the admin token, `metrics.token`); none: open, like the admin API without a token. */
  tokens: readonly string[];
}

const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/**
 * `GET /metrics`: the app's metrics in Prometheus text format (exposition 0.0.4), behind a Bearer
 * token — the admin token or `metrics.token`, compared in constant time.
 *
 * @example http.route("/metrics", metricsRoutes({ scrape: () => prometheus.scrape(), tokens: [adminToken] }))
 */
export function metricsRoutes(options: MetricsRouteOptions): Hono {
  const routes = new Hono();
  routes.get(
    "/",
    documented({
      summary: "Metrics in Prometheus text format",
      description:
        "Deliveries, attempts, latency, backlog per webhook, policy slots, paused webhooks, inbound requests and store errors (docs/operations.md). Read with `Authorization: Bearer` and the admin token or `metrics.token`.",
      tags: ["Health"],
      answers: {
        200: {
          description: "the metrics, Prometheus text exposition format 0.0.4",
          schema: z.string(),
          contentType: "text/plain",
        },
      },
      errors: ["HOOKLINE_HTTP_UNAUTHORIZED", "HOOKLINE_HTTP_NOT_FOUND"],
    }),
    async (c) => {
      if (options.tokens.length > 0) {
        const given = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
        // Every token is compared, so the time taken does not say which one came close.
        let ok = false;
        for (const t of options.tokens) if (given !== undefined && timingSafeEqual(given, t)) ok = true;
        if (!ok)
          throw new HttpError(
            "HOOKLINE_HTTP_UNAUTHORIZED",
            "missing or wrong bearer token (HOOKLINE_ADMIN_TOKEN or metrics.token)",
            { headers: { "www-authenticate": "Bearer" } },
          );
      }
      if (!options.scrape)
        throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", "metrics are off (metrics.enabled: false)");
      return c.body(await options.scrape(), 200, { "content-type": CONTENT_TYPE });
    },
  );
  return routes;
}

/**
 * Counts each answer of the inbound endpoints (`/in/<path>`) by endpoint and status. A path no
 * endpoint serves (404) is counted as `(unknown)`: labels never carry what a stranger typed.
 *
 * @example http.use("/in/*", countInbound(telemetry))
 */
export function countInbound(telemetry: Pick<Telemetry, "inboundAnswered">): MiddlewareHandler {
  return async (c, next) => {
    await next();
    const status = c.res.status;
    const path = c.req.path.slice("/in/".length);
    telemetry.inboundAnswered(status === 404 || path.length > 200 ? "(unknown)" : path, status);
  };
}
