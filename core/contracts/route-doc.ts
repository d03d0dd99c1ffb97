import type { z } from "zod";
import type { ErrorCodeLike } from "../errors.ts";

// Route documentation is plain data with zod schemas in it: attaching it costs a route nothing at
// run time, and a module that documents its routes does not carry the OpenAPI generator (the edge
// worker bundles the inbound plugin's routes). core/http/openapi.ts turns it into the document.

/** One answer a route gives with a status: what it means and, for a body, its schema. */
export interface AnswerDoc {
  description: string;
  /** The body's schema (JSON unless `contentType` says otherwise); none for an empty answer. */
  schema?: z.ZodType;
  /** Default `application/json`. */
  contentType?: string;
}

/**
 * What the OpenAPI document says of one route. Request bodies and queries validated by `json()` and
 * `query()` document themselves; `body` and `query` here are for routes that read theirs by hand.
 * `errors` are the codes the route throws as `HttpError`s (each answered `{ error, code, requestId }`
 * with the code's status, or the one given); the errors every route of its prefix can answer (401,
 * 413, 415, 503 under `/v1/`, 500 everywhere) are added by the generator.
 */
export interface RouteDoc {
  summary: string;
  description?: string;
  /** Groups in the reference page (`Deliveries`, `Webhooks`, `Inbound`…). */
  tags?: readonly string[];
  /** A body read by hand (`readJson`, or a receiver's own parsing). */
  body?: { schema: z.ZodType; description?: string; contentTypes?: readonly string[] };
  /** Query parameters read by hand, as an object schema (each key one parameter). */
  query?: z.ZodType;
  /** Path parameters' descriptions, by name (each is a string). */
  params?: Readonly<Record<string, string>>;
  /** Success answers (and refusals in a shape of the route's own), by status. */
  answers: Readonly<Record<number, AnswerDoc>>;
  /** Codes the route throws; `{ code, status }` for a code whose status varies (`HOOKLINE_MANAGED`). */
  errors?: ReadonlyArray<ErrorCodeLike | { code: ErrorCodeLike; status: number }>;
  /** Reached without the admin token (a browser, a sender), though under an authenticated prefix. */
  public?: boolean;
}

/**
 * A route's documentation for a plugin to contribute apart from a route (`HttpRoutes.openapi`): for
 * what a plugin serves beneath one wildcard route of its own (`/in/*`). `path` in hono's syntax
 * (`/in/:path`).
 */
export interface ContributedRouteDoc {
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  doc: RouteDoc;
}
