import type { Logger } from "../contracts/logger.ts";

/** What the access line says of one request and its answer. */
export interface Access {
  method: string;
  /** The URL's path, never its query (an inbound API key may travel there). */
  path: string;
  status: number;
  elapsedMs: number;
  /** The answer's `Content-Length`, when it states one. */
  contentLength: string | null;
}

/**
 * Writes a request's access line, `http.request` at info: method, path, status, duration, and the
 * answer's size when it states one (`bytes`). Never headers or bodies. The request's logger adds its
 * id (`requestId`).
 *
 * @example logAccess(requestLogger(c), { method, path, status, elapsedMs, contentLength })
 */
export function logAccess(logger: Logger, a: Access): void {
  logger.log("info", "http.request", {
    method: a.method,
    path: a.path,
    status: a.status,
    durationMs: Math.round(a.elapsedMs * 100) / 100,
    ...(a.contentLength !== null && a.contentLength !== "" ? { bytes: Number(a.contentLength) } : {}),
  });
}
