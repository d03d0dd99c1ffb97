import type { Context, MiddlewareHandler } from "hono";
import type { Logger } from "../contracts/logger.ts";
import { HooklineError, HttpError, isStoreOutage } from "../errors.ts";
import { silentLogger, withFields } from "../logger.ts";
import { unstorableText } from "../model/json-limits.ts";
import { utf8Length } from "../util/body-hash.ts";
import { logAccess } from "./access-log.ts";
import type { AdminApp } from "./admin-app.ts";
import { requestIdFrom } from "./request-id.ts";

/**
 * A JSON answer that states its size (`Content-Length`), which the access line reports as `bytes`.
 *
 * @example return jsonAnswer(c, 200, { status: "ok" })
 */
export function jsonAnswer(c: Context, status: number, body: unknown): Response {
  const text = JSON.stringify(body);
  return c.body(text, status as 200, {
    "content-type": "application/json",
    "content-length": String(utf8Length(text)),
  });
}

/** A JSON answer with every known secret removed. */
export const reply = (app: AdminApp, c: Context, status: number, body: unknown) =>
  jsonAnswer(c, status, app.redactor.redactDeep(body));

const REQUEST_ID = "requestId";
const REQUEST_LOGGER = "requestLogger";

/** The request's id: the caller's `X-Request-Id` when it is sane, else one made for it. */
export const requestIdOf = (c: Context): string => (c.get(REQUEST_ID as never) as string | undefined) ?? "-";

/**
 * The request's logger: the app's, with the request's id on every line. Routes (a plugin's too) log
 * through it, so that every line a request causes can be found by its `X-Request-Id`.
 *
 * @example requestLogger(c).log("warn", "myplugin.refused", { reason })
 */
export const requestLogger = (c: Context): Logger =>
  (c.get(REQUEST_LOGGER as never) as Logger | undefined) ?? silentLogger;

/** Deepest nesting a JSON body may have; deeper bodies are refused before any recursive walk. */
export const MAX_JSON_DEPTH = 64;
/** Largest admin API body (bytes). */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** What the admin API takes of a string: no U+0000 or lone surrogate (the store's rule); its length is the body's. */
const TEXT_LIMITS = { depth: Number.POSITIVE_INFINITY, stringLength: Number.POSITIVE_INFINITY };

/** Where a parsed JSON value breaks the API's rules (too deep, text the store cannot keep), naming the path. */
function bodyProblem(root: unknown): string | undefined {
  const stack: Array<{ v: unknown; path: string; depth: number }> = [{ v: root, path: "", depth: 0 }];
  const at = (path: string) => (path ? `at ${path.length > 120 ? `${path.slice(0, 120)}…` : path}: ` : "");
  while (stack.length > 0) {
    const { v, path, depth } = stack.pop()!;
    if (typeof v === "string") {
      const problem = unstorableText(v, TEXT_LIMITS);
      if (problem) return `${at(path)}a string ${problem}`;
      continue;
    }
    if (typeof v !== "object" || v === null) continue;
    if (depth >= MAX_JSON_DEPTH) return `${at(path)}nests deeper than ${MAX_JSON_DEPTH} levels`;
    for (const [k, child] of Object.entries(v)) {
      const p = path ? `${path}.${k}` : k;
      const problem = unstorableText(k, TEXT_LIMITS);
      if (problem) return `${at(path || "(root)")}a key ${problem}`;
      stack.push({ v: child, path: p, depth: depth + 1 });
    }
  }
  return undefined;
}

const JSON_TYPE = /^(application\/([\w.+-]+\+)?json|text\/plain)\s*(;|$)/i;
const BODY_KEY = "jsonBody";

/**
 * Middleware for the admin API: a POST, PUT or PATCH body must be JSON (`application/json`, a `+json`
 * type, `text/plain` as fetch sends a string, or no type), no larger than `MAX_BODY_BYTES`, nesting
 * at most `MAX_JSON_DEPTH` levels, with no U+0000 in any string or key (Postgres cannot store it);
 * otherwise 413, 415 or 400 naming the problem. An empty body is `{}`. Routes read it with `readJson`.
 */
export const jsonBodies: MiddlewareHandler = async (c, next) => {
  if (!["POST", "PUT", "PATCH"].includes(c.req.method)) return next();
  const type = c.req.header("content-type");
  const text = await c.req.text();
  if (text.trim() === "") {
    keep(c, {});
    return next();
  }
  if (type && !JSON_TYPE.test(type))
    throw new HttpError(
      "HOOKLINE_HTTP_CONTENT_TYPE",
      `request body must be JSON (Content-Type: application/json), not ${type.split(";")[0]}`,
    );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new HttpError("HOOKLINE_HTTP_BODY", `request body is not valid JSON: ${(e as Error).message}`);
  }
  const problem = bodyProblem(value);
  if (problem) throw new HttpError("HOOKLINE_HTTP_BODY", `request body ${problem}`);
  keep(c, value);
  return next();
};

/** Keeps the checked body for `readJson`, and for `c.req.json()` (hono's validator reads it so): no second parse. */
function keep(c: Context, value: unknown): void {
  c.set(BODY_KEY as never, value as never);
  c.req.json = (() => Promise.resolve(value)) as typeof c.req.json;
}

/** The request's JSON body as `jsonBodies` checked it (`{}` when empty). */
export async function readJson(c: Context): Promise<unknown> {
  const checked = c.get(BODY_KEY as never) as unknown;
  if (checked !== undefined) return checked;
  // Outside the admin API (no middleware ran): the same rules, applied here.
  await jsonBodies(c, async () => {});
  return c.get(BODY_KEY as never) as unknown;
}

/** Refuses a URL whose path or query holds `%00`: no name or filter can contain it. */
export const noNulInUrl: MiddlewareHandler = async (c, next) => {
  const url = c.req.url;
  const q = url.indexOf("?");
  if (/%00/.test(q < 0 ? url : url.slice(0, q)))
    throw new HttpError("HOOKLINE_HTTP_PARAM", "the URL path holds %00 (NUL); no name can contain it");
  if (q >= 0 && /%00/.test(url.slice(q)))
    throw new HttpError("HOOKLINE_HTTP_PARAM", "the query string holds %00 (NUL); no filter can contain it");
  return next();
};

/** What an error says of its own answer: an `HttpError`'s status, details and headers. */
function ownAnswer(e: unknown) {
  if (e instanceof HttpError)
    return { status: e.status, body: { error: e.message, code: e.code, ...e.details }, headers: e.headers };
  // The managed layer's refusal (code HOOKLINE_MANAGED) carries its status and issues on itself until
  // it is an HttpError; read by shape, so this module needs nothing of the admin layer.
  const own = e as { status?: unknown; issues?: unknown };
  if (e instanceof HooklineError && e.code === "HOOKLINE_MANAGED" && typeof own.status === "number")
    return {
      status: own.status,
      body: { error: e.message, code: e.code, ...(own.issues ? { issues: own.issues } : {}) },
      headers: undefined,
    };
  return undefined;
}

const STORE_AWAY = {
  status: 503,
  body: { error: "store unavailable; nothing was accepted, try again", code: "HOOKLINE_STORE_UNAVAILABLE" },
  headers: undefined,
};
const INTERNAL = {
  status: 500,
  body: { error: "internal error", code: "HOOKLINE_INTERNAL" },
  headers: undefined,
};

/**
 * The one place an error becomes an answer (the app's `onError`): an error that says its own answer
 * (`HttpError`) with its status, a store outage 503, anything else 500 — each `{ error, code,
 * requestId, ... }`, logged with the request id when it is the server's fault. Handlers throw; none
 * catches to answer.
 *
 * @example http.onError((e, c) => errorAnswer(app, c, e))
 */
export function errorAnswer(app: AdminApp, c: Context, e: unknown): Response {
  const requestId = requestIdOf(c);
  const { status, body, headers } = ownAnswer(e) ?? (isStoreOutage(e) ? STORE_AWAY : INTERNAL);
  if (status >= 500) {
    const err = e instanceof Error ? e : new Error(String(e));
    requestLogger(c).log("error", status === 503 ? "http.store_unavailable" : "http.internal_error", {
      method: c.req.method,
      path: c.req.path,
      error: err.message,
      ...(e instanceof HooklineError ? { code: e.code } : {}),
      ...(status === 500 && err.stack ? { stack: err.stack } : {}),
    });
  }
  const answer = jsonAnswer(c, status, app.redactor.redactDeep({ ...body, requestId }));
  for (const [k, v] of Object.entries(headers ?? {})) answer.headers.set(k, v);
  return answer;
}

/**
 * Middleware for routes a plugin answers itself (`c.json({ error }, 4xx)` rather than a thrown
 * `HttpError`): a JSON error answer without `requestId` gets it, so every admin answer has the one
 * shape. Answers made by `errorAnswer` already carry it and pass untouched.
 */
export const requestIdInErrors: MiddlewareHandler = async (c, next) => {
  await next();
  const res = c.res;
  if (res.status < 400 || !/^application\/json/i.test(res.headers.get("content-type") ?? "")) return;
  const text = await res.clone().text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return;
  }
  if (typeof body !== "object" || body === null || Array.isArray(body) || "requestId" in body) return;
  const headers = new Headers(res.headers);
  headers.delete("content-length");
  c.res = undefined;
  c.res = new Response(JSON.stringify({ ...body, requestId: requestIdOf(c) }), {
    status: res.status,
    headers,
  });
};

/**
 * Outermost middleware: gives the request its id (a sane incoming `X-Request-Id`, else a new UUID) and
 * a logger that puts it on every line (`requestLogger`), sets `X-Request-Id` on every answer (admin,
 * health, the inbound receivers', errors), turns anything thrown that hono's `onError` did not see (a
 * non-Error value) into the same answer, and writes the request's access line (`http.request`).
 */
export const withRequestId =
  (app: AdminApp): MiddlewareHandler =>
  async (c, next) => {
    const startedAt = performance.now();
    const id = requestIdFrom(c.req.header("x-request-id"));
    c.set(REQUEST_ID as never, id as never);
    c.set(REQUEST_LOGGER as never, withFields(app.logger, { requestId: id }) as never);
    c.header("X-Request-Id", id);
    try {
      await next();
    } catch (e) {
      const answer = errorAnswer(app, c, e);
      c.res = undefined;
      c.res = answer;
    }
    // A route that answers with its own Response (the inbound receivers) gets the id here. On
    // node-server this turns the answer's header object into Headers; it stays on the fast path.
    if (c.res.headers.get("x-request-id") !== id)
      try {
        c.res.headers.set("X-Request-Id", id);
      } catch {
        c.header("X-Request-Id", id); // immutable headers (a fetched response): a copy it must be
      }
    logAccess(requestLogger(c), {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      elapsedMs: performance.now() - startedAt,
      contentLength: c.res.headers.get("content-length"),
    });
  };
