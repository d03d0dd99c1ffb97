import type { MiddlewareHandler } from "hono";
import type { z } from "zod";
import type { RouteDoc } from "../contracts/route-doc.ts";

export type { AnswerDoc, ContributedRouteDoc, RouteDoc } from "../contracts/route-doc.ts";

/** Where a route's documentation (or its validator's schema) sits on its handler. */
export const ROUTE_DOC: unique symbol = Symbol.for("hookline.routeDoc");

/** What a validator middleware says of the request part it validates. */
export interface ValidatedPartDoc {
  target: "json" | "query";
  schema: z.ZodType;
}

/**
 * Route middleware that only documents: the route's entry in `GET /openapi.json`. Put it first among
 * the route's handlers; it passes the request on untouched.
 *
 * @example http.get("/v1/things/:id", documented({ summary: "One thing", answers: { 200: { description: "the thing", schema: Thing } }, errors: ["HOOKLINE_HTTP_NOT_FOUND"] }), handler)
 */
export function documented(doc: RouteDoc): MiddlewareHandler {
  const middleware: MiddlewareHandler = (_c, next) => next();
  return Object.assign(middleware, { [ROUTE_DOC]: doc });
}

/**
 * Marks a validator middleware with the schema it validates, so the document takes the request's
 * schema from the validator itself.
 *
 * @example return describesRequest(validator("query", check), { target: "query", schema })
 */
export const describesRequest = <M extends object>(middleware: M, part: ValidatedPartDoc): M =>
  Object.assign(middleware, { [ROUTE_DOC]: part });
