import type { Context } from "hono";
import type { Logger } from "../contracts/logger.ts";

/**
 * Writes a request's access line, `http.request` at info: method, path (never the query: an inbound
 * API key may travel there), status, duration, and the answer's size when it states one (`bytes`).
 * Never headers or bodies. The request's logger adds its id (`requestId`).
 *
 * @example logAccess(requestLogger(c), c, performance.now() - startedAt)
 */
export function logAccess(logger: Logger, c: Context, elapsedMs: number): void {
  const length = c.res.headers.get("content-length");
  logger.log("info", "http.request", {
    method: c.req.method,
    path: c.req.path,
    status: c.res.status,
    durationMs: Math.round(elapsedMs * 100) / 100,
    ...(length !== null && length !== "" ? { bytes: Number(length) } : {}),
  });
}
