import { z } from "zod";
import { Activity, type ContributedRouteDoc, type RouteDoc } from "../../core/plugin/index.ts";

// What `/in/<path>` answers, for the OpenAPI document: one wildcard route serves every endpoint, so
// the plugin describes it apart from the route (`HttpRoutes.openapi`). Only the admin module imports
// this, so the edge worker (built without it) does not carry it.

/**
 * The receivers' documentation: POST and PUT (activities or a profile update), and GET (a sender's
 * check of a callback URL), each in the receiving-endpoint contract's shapes.
 *
 * @example const docs = receiverDocs() // [{ method: "POST", path: "/in/:path", doc }, …]
 */
export function receiverDocs(): ContributedRouteDoc[] {
  const Problem = z.object({ code: z.string(), description: z.string() }).strict();
  const Accepted = z
    .looseObject({
      success: z.boolean().describe("false when a rule failed for this request, which is still taken"),
      endpoint: z.string().optional(),
      result: z.record(z.string(), z.unknown()).optional(),
      errors: z.array(Problem).optional(),
      replayed: z.boolean().optional().describe("the same request came before; nothing new was stored"),
    })
    .describe("taken: the sender stops");
  const Refusal = z
    .looseObject({
      success: z.literal(false),
      errors: z.array(Problem).min(1),
      issues: z.array(z.object({ path: z.string(), message: z.string() }).strict()).optional(),
    })
    .describe("refused, with a stable code in errors[0].code");
  const refusal = (description: string) => ({ description, schema: Refusal });
  const params = { path: "the endpoint's path below /in/ (its name unless it sets `path`)" };
  const tags = ["Inbound"];
  const send: RouteDoc = {
    summary: "Receive a request from a sender: activity statuses, or a profile update",
    description:
      "Each endpoint authenticates as it is configured (API key, Basic, Bearer or JWT, an HMAC or Standard Webhooks signature) and answers by the receiving-endpoint contract: 200 when the request is taken (or failed on its own merits), 4xx when it must not be sent again as it is, 500 to ask for a retry.",
    tags,
    params,
    body: {
      schema: z.union([z.array(Activity), Activity, z.record(z.string(), z.unknown())]),
      description:
        "activity-status endpoints: a JSON array of activities (eSputnik's format); profile-update endpoints: a JSON object or a form",
      contentTypes: ["application/json", "application/x-www-form-urlencoded"],
    },
    answers: {
      200: { description: "taken", schema: Accepted },
      400: refusal(
        "not JSON or form, does not fit the schema, or holds data the store cannot keep (HOOKLINE_INBOUND_JSON, _FORM, _INVALID, _UNSTORABLE, HOOKLINE_PROFILE_IDENTIFIER)",
      ),
      401: refusal(
        "missing or wrong credentials or signature (HOOKLINE_INBOUND_API_KEY, _BASIC, _BEARER, _JWT, _SIGNATURE…)",
      ),
      403: refusal("the client address is not in the endpoint's IP allowlist (HOOKLINE_INBOUND_IP)"),
      413: refusal("the body is larger than the endpoint allows (HOOKLINE_INBOUND_TOO_LARGE)"),
      415: refusal("a content type the endpoint does not take (HOOKLINE_INBOUND_CONTENT_TYPE)"),
      500: refusal("the store could not take it; send it again later (HOOKLINE_STORE_UNAVAILABLE)"),
    },
    errors: ["HOOKLINE_HTTP_NOT_FOUND"],
  };
  const check: RouteDoc = {
    summary: "Check a callback URL (activity-status endpoints answer 200)",
    tags,
    params,
    answers: {
      200: { description: "the endpoint is there", schema: Accepted },
      403: send.answers[403]!,
      405: refusal("a profile-update endpoint takes POST and PUT only (HOOKLINE_INBOUND_METHOD)"),
      500: send.answers[500]!,
    },
    errors: ["HOOKLINE_HTTP_NOT_FOUND"],
  };
  return [
    { method: "POST", path: "/in/:path", doc: send },
    { method: "PUT", path: "/in/:path", doc: send },
    { method: "GET", path: "/in/:path", doc: check },
  ];
}
