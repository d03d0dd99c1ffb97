import type { MiddlewareHandler } from "hono";
import type { RouterRoute } from "hono/types";
import { findTargetHandler } from "hono/utils/handler";
import { describeRoute, generateSpecs, resolver, uniqueSymbol } from "hono-openapi";
import { z } from "zod";
import { ROLES } from "../contracts/tokens.ts";
import { type ErrorCodeInfo, ErrorCodes } from "../error-codes.ts";
import type { ErrorCodeLike } from "../errors.ts";
import { rolesFor } from "./roles.ts";
import { type ContributedRouteDoc, ROUTE_DOC, type RouteDoc, type ValidatedPartDoc } from "./route-docs.ts";

/** What every error answer of the HTTP app is (`errorAnswer` in respond.ts writes it). */
export const ErrorAnswer = z
  .looseObject({
    error: z.string().describe("what was expected and what came"),
    code: z.string().describe("a stable code from the error catalogue (docs/errors.md)"),
    requestId: z.string().describe("the request's id, as in its X-Request-Id header and the logs"),
    issues: z
      .array(z.object({ path: z.string(), message: z.string() }).strict())
      .optional()
      .describe("for a body or query that does not fit its schema: the fields, at most 50"),
  })
  .describe("An error answer; some carry more fields (`webhooks`, `check`, `params`).");

type OpenApiDocument = Awaited<ReturnType<typeof generateSpecs>>;
type Operation = Record<string, unknown> & { responses?: Record<string, Response> };
type Response = {
  description?: string;
  content?: Record<string, { schema?: unknown }>;
  headers?: Record<string, unknown>;
};
type ErrorSpec = { code: string; status: number; summary: string };

const ERRORS_KEY = "x-hookline-errors";
const PUBLIC_KEY = "x-hookline-public";
const BODY_METHODS = new Set(["post", "put", "patch"]);
const METHODS = new Set(["get", "head", "post", "put", "patch", "delete"]);

const noop: MiddlewareHandler = (_c, next) => next();
const asResponse = (schema: z.ZodType) => resolver(schema, { options: { io: "output" } });

/** A route's error as the document lists it: its code, its status (the catalogue's unless given), its meaning. */
function errorSpec(e: ErrorCodeLike | { code: ErrorCodeLike; status: number }): ErrorSpec {
  // `{ code, status }` gives a code's status; an entry of `defineErrorCodes` carries its own summary.
  const given = typeof e === "object" && !("summary" in e) ? e : undefined;
  const like = given ? given.code : (e as ErrorCodeLike);
  const info =
    typeof like === "string" ? (ErrorCodes as Record<string, ErrorCodeInfo | undefined>)[like] : like;
  return {
    code: typeof like === "string" ? like : like.code,
    status: given?.status ?? info?.status ?? 500,
    summary: info?.summary ?? "",
  };
}

/** A `RouteDoc` as hono-openapi's route spec: schemas resolved when the document is made. */
function specOf(doc: RouteDoc): Parameters<typeof describeRoute>[0] & Record<string, unknown> {
  const responses: Record<string, unknown> = {};
  for (const [status, a] of Object.entries(doc.answers))
    responses[status] = {
      description: a.description,
      ...(a.schema
        ? { content: { [a.contentType ?? "application/json"]: { schema: asResponse(a.schema) } } }
        : {}),
    };
  return {
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    ...(doc.tags ? { tags: [...doc.tags] } : {}),
    ...(doc.params
      ? {
          parameters: Object.entries(doc.params).map(([name, description]) => ({
            in: "path" as const,
            name,
            required: true,
            description,
            schema: { type: "string" as const },
          })),
        }
      : {}),
    ...(doc.body
      ? {
          requestBody: {
            required: true,
            ...(doc.body.description ? { description: doc.body.description } : {}),
            content: Object.fromEntries(
              (doc.body.contentTypes ?? ["application/json"]).map((t) => [
                t,
                { schema: resolver(doc.body!.schema) },
              ]),
            ),
          },
        }
      : {}),
    responses: responses as never,
    ...{ [ERRORS_KEY]: (doc.errors ?? []).map(errorSpec), ...(doc.public ? { [PUBLIC_KEY]: true } : {}) },
  };
}

/** A request part's schema as hono-openapi's validator marker, and the refusal its validator throws. */
function validatedPart(part: ValidatedPartDoc): MiddlewareHandler[] {
  const refusal = part.target === "json" ? "HOOKLINE_HTTP_INVALID" : "HOOKLINE_HTTP_PARAM";
  return [
    Object.assign(noop.bind(null), { [uniqueSymbol]: { target: part.target, ...resolver(part.schema) } }),
    describeRoute({ [ERRORS_KEY]: [errorSpec(refusal)] } as never),
  ];
}

/** The routes as hono-openapi reads them: each documented handler's doc, and the contributed docs. */
function documentedRoutes(routes: readonly RouterRoute[], contributed: readonly ContributedRouteDoc[]) {
  const out: RouterRoute[] = [];
  const add = (r: Pick<RouterRoute, "method" | "path">, handler: MiddlewareHandler) =>
    out.push({ basePath: "/", method: r.method, path: r.path, handler });
  for (const r of routes) {
    const doc = (findTargetHandler(r.handler) as { [ROUTE_DOC]?: RouteDoc | ValidatedPartDoc })[ROUTE_DOC];
    if (!doc) continue;
    if ("target" in doc) for (const h of validatedPart(doc)) add(r, h);
    else {
      add(r, describeRoute(specOf(doc)));
      if (doc.query) for (const h of validatedPart({ target: "query", schema: doc.query })) add(r, h);
    }
  }
  for (const c of contributed) {
    add(c, describeRoute(specOf(c.doc)));
    if (c.doc.query) for (const h of validatedPart({ target: "query", schema: c.doc.query })) add(c, h);
  }
  return out;
}

/** The refusals a route can answer by where it is, whatever it does: the middleware in front of it. */
function prefixErrors(path: string, method: string): ErrorSpec[] {
  const codes: ErrorCodeLike[] = ["HOOKLINE_INTERNAL"];
  if (path.startsWith("/v1/")) {
    codes.push("HOOKLINE_HTTP_PARAM", "HOOKLINE_STORE_UNAVAILABLE");
    if (BODY_METHODS.has(method))
      codes.push("HOOKLINE_HTTP_BODY", "HOOKLINE_HTTP_TOO_LARGE", "HOOKLINE_HTTP_CONTENT_TYPE");
  }
  if (path.startsWith("/oauth/")) codes.push("HOOKLINE_HTTP_PARAM");
  return codes.map(errorSpec);
}

const errorSchema = (codes: string[]) => ({
  allOf: [
    { $ref: "#/components/schemas/ErrorAnswer" },
    { type: "object", properties: { code: { enum: codes } }, required: ["code"] },
  ],
});

/** Adds each error an operation can answer to its responses, the codes of one status together. */
function addErrors(op: Operation, errors: ErrorSpec[]): void {
  const byStatus = new Map<number, ErrorSpec[]>();
  for (const e of errors) {
    const list = byStatus.get(e.status) ?? [];
    if (!list.some((x) => x.code === e.code)) list.push(e);
    byStatus.set(e.status, list);
  }
  op.responses ??= {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    const said = list.map((e) => `\`${e.code}\`${e.summary ? `: ${e.summary}` : ""}`).join("; ");
    const schema = errorSchema(list.map((e) => e.code));
    const own = op.responses[status];
    const ownJson = own?.content?.["application/json"]?.schema;
    op.responses[status] = own
      ? {
          ...own,
          description: `${own.description ?? ""}; or an error answer: ${said}`,
          content: {
            ...own.content,
            "application/json": { schema: ownJson ? { anyOf: [ownJson, schema] } : schema },
          },
        }
      : { description: said, content: { "application/json": { schema } } };
  }
}

/**
 * The OpenAPI 3.1 document of an HTTP app: every route that carries its documentation (`documented`,
 * and the validators `json` and `query`, whose schemas are the request's), the routes plugins
 * contribute apart (`HttpRoutes.openapi`), and each route's error answers, from the error catalogue.
 *
 * @example const doc = await openApiDocument(http.routes, { contributed: [] })
 */
export async function openApiDocument(
  routes: readonly RouterRoute[],
  options: { contributed?: readonly ContributedRouteDoc[] } = {},
): Promise<OpenApiDocument> {
  const errorAnswer = z.toJSONSchema(ErrorAnswer, { io: "output" }) as Record<string, unknown>;
  delete errorAnswer.$schema;
  const doc = await generateSpecs({ routes: documentedRoutes(routes, options.contributed ?? []) } as never, {
    documentation: {
      info: {
        title: "hookline",
        version: "v1",
        description:
          "Webhooks out and in: the events API, the admin API (`/v1/*`, Bearer token), inbound receivers (`/in/*`) and health. Every error answer is `{ error, code, requestId }` with a stable code (docs/errors.md); receivers answer in the receiving-endpoint contract's shape (`{ success, errors }`).",
      },
      tags: [
        { name: "Health" },
        { name: "Events", description: "publish events: one delivery per matching webhook" },
        { name: "Deliveries", description: "the delivery log, attempts, re-renders and retries" },
        { name: "Webhooks" },
        { name: "Integrations", description: "authentication integrations, secrets never shown" },
        { name: "Policies", description: "throughput policies shared across processes" },
        { name: "Config", description: "export and import of the admin API's entries" },
        { name: "Runs", description: "publish calls, bulk retries and replays, with their progress" },
        { name: "Tokens", description: "API tokens with roles (admin only)" },
        { name: "Reference", description: "this document and its reference page" },
      ],
      components: {
        schemas: { ErrorAnswer: errorAnswer as never },
        headers: {
          RequestId: {
            description:
              "the request's id: a sane X-Request-Id it came with, else a new one; the logs carry it",
            schema: { type: "string" },
          },
        },
        securitySchemes: {
          adminToken: {
            type: "http",
            scheme: "bearer",
            description:
              "HOOKLINE_ADMIN_TOKEN, or an API token with a role (POST /v1/tokens; each operation's x-hookline-roles says which roles may call it); without an admin token set, the admin API is open and served on loopback only",
          },
        },
      },
    },
    defaultValidationErrorResponse: false,
    // `/openapi.json` looks like a static file, which hono-openapi would leave out.
    excludeStaticFile: false,
  });
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, Operation>>)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.has(method) || !op) continue;
      const own = (op[ERRORS_KEY] as ErrorSpec[] | undefined) ?? [];
      const open = op[PUBLIC_KEY] === true;
      delete op[ERRORS_KEY];
      delete op[PUBLIC_KEY];
      const errors = [...own, ...prefixErrors(path, method)];
      if (path.startsWith("/v1/") && !open) {
        errors.push(errorSpec("HOOKLINE_HTTP_UNAUTHORIZED"));
        // Which tokens may call it (core/http/roles.ts); the others are refused with 403.
        const roles = rolesFor(method, path);
        op["x-hookline-roles"] = roles;
        op.description = `${op.description ? `${op.description}\n\n` : ""}Roles: ${roles.join(", ")}.`;
        if (roles.length < ROLES.length && !errors.some((e) => e.code === "HOOKLINE_HTTP_FORBIDDEN"))
          errors.push(errorSpec("HOOKLINE_HTTP_FORBIDDEN"));
      }
      addErrors(op, errors);
      op.security = path.startsWith("/v1/") && !open ? [{ adminToken: [] }] : [];
      // withRequestId (respond.ts) sets it on every admin answer and every error answer.
      for (const [status, answer] of Object.entries(op.responses ?? {}))
        if (path.startsWith("/v1/") || Number(status) >= 400)
          answer.headers = { ...answer.headers, "X-Request-Id": { $ref: "#/components/headers/RequestId" } };
    }
  }
  return doc;
}

/**
 * The route serving the document (`GET /openapi.json`), made once on first request from the app's
 * routes as they are then (every plugin has mounted its own by the time a request comes).
 *
 * @example http.get("/openapi.json", openApiRoute(() => http.routes, () => contributed))
 */
export function openApiRoute(
  routes: () => readonly RouterRoute[],
  contributed: () => readonly ContributedRouteDoc[],
): MiddlewareHandler {
  let made: Promise<OpenApiDocument> | undefined;
  return async (c) => {
    made ??= openApiDocument(routes(), { contributed: contributed() });
    try {
      return c.json(await made);
    } catch (e) {
      made = undefined;
      throw e;
    }
  };
}
