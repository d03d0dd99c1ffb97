import { type Context, Hono } from "hono";
import { deleteCookie, getCookie } from "hono/cookie";
import { z } from "zod";
import { IntegrationBase } from "../config/schema.ts";
import { HttpError, isStoreOutage } from "../errors.ts";
import { xmlEscape } from "../escape.ts";
import type { AdminApp } from "./admin-app.ts";
import {
  AuthorizationUrl,
  ExportDocument,
  ImportDocument,
  ImportResult,
  IntegrationList,
  IntegrationTestResult,
  IntegrationView,
} from "./answer-schemas.ts";
import { readJson, reply, requestLogger } from "./respond.ts";
import { roleOf } from "./roles.ts";
import { documented } from "./route-docs.ts";

const noIntegration = (name: string) => new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no integration "${name}"`);

/**
 * Integration routes: list and show (secret values never shown: only whether they are set), create or
 * replace through the API (secrets sealed at rest), delete, and the test request of its test settings.
 */
export function integrationRoutes(app: AdminApp) {
  const r = new Hono();
  const tags = ["Integrations"];
  const params = { name: "the integration's name" };
  const view = { description: "the integration (secret values never shown)", schema: IntegrationView };
  // What the managed layer refuses a change with (HOOKLINE_MANAGED carries its own status).
  const managed = (...statuses: number[]) =>
    statuses.map((status) => ({ code: "HOOKLINE_MANAGED" as const, status }));

  r.get(
    "/",
    documented({
      summary: "List integrations",
      tags,
      answers: { 200: { description: "every integration", schema: IntegrationList } },
    }),
    (c) =>
      reply(app, c, 200, {
        integrations: [...app.integrations.keys()].map((n) => app.managed.describeIntegration(n)),
      }),
  );

  r.get(
    "/:name",
    documented({
      summary: "An integration",
      tags,
      params,
      answers: { 200: view },
      errors: ["HOOKLINE_HTTP_NOT_FOUND"],
    }),
    (c) => {
      const d = app.managed.describeIntegration(c.req.param("name"));
      if (!d) throw noIntegration(c.req.param("name"));
      return reply(app, c, 200, d);
    },
  );

  r.put(
    "/:name",
    documented({
      summary: "Create or replace an integration",
      description:
        "An entry as in hookline.yaml: `kind`, `endpointPrefix` and the kind's own options; secrets are sealed at rest and never shown again.",
      tags,
      params,
      body: { schema: IntegrationBase },
      answers: { 200: view },
      errors: [...managed(400, 409, 503), "HOOKLINE_HTTP_FORBIDDEN"],
    }),
    async (c) => {
      const body = await readJson(c);
      const secrets = roleOf(c) === "admin" ? [] : app.managed.secretsGiven(body);
      if (secrets.length > 0)
        throw new HttpError(
          "HOOKLINE_HTTP_FORBIDDEN",
          `an ${roleOf(c)} token may not set an integration's secrets (${secrets.join(", ")}): use an admin token`,
        );
      return reply(app, c, 200, await app.managed.putIntegration(c.req.param("name"), body));
    },
  );

  r.delete(
    "/:name",
    documented({
      summary: "Delete an integration of the admin API",
      tags,
      params,
      answers: { 204: { description: "deleted" } },
      errors: managed(404, 409, 503),
    }),
    async (c) => {
      await app.managed.deleteIntegration(c.req.param("name"));
      return c.body(null, 204);
    },
  );

  // Interactive grants (OAuth authorization_code): the URL a person opens to authorize hookline.
  r.post(
    "/:name/authorize",
    documented({
      summary: "Start an interactive authorization (OAuth authorization_code)",
      tags,
      params,
      answers: { 200: { description: "the URL to open", schema: AuthorizationUrl } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND", "HOOKLINE_HTTP_NOT_APPLICABLE"],
    }),
    async (c) => {
      const i = app.integrations.get(c.req.param("name"));
      if (!i) throw noIntegration(c.req.param("name"));
      if (!i.instance.authorizationUrl)
        throw new HttpError(
          "HOOKLINE_HTTP_NOT_APPLICABLE",
          `integration "${i.name}" has no interactive authorization`,
        );
      return reply(app, c, 200, { url: await i.instance.authorizationUrl() });
    },
  );

  r.post(
    "/:name/test",
    documented({
      summary: "Send the integration's test request",
      description:
        "An empty body to its test path under the endpoint prefix, with its credentials; success is HTTP 200.",
      tags,
      params,
      answers: { 200: { description: "what the test request got", schema: IntegrationTestResult } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND", "HOOKLINE_HTTP_NOT_APPLICABLE"],
    }),
    async (c) => {
      const name = c.req.param("name");
      if (!app.integrations.has(name)) throw noIntegration(name);
      const described = app.managed.describeIntegration(name) as { test?: { method: "GET"; path: string } };
      if (!described.test)
        throw new HttpError(
          "HOOKLINE_HTTP_NOT_APPLICABLE",
          `integration "${name}" has no test settings (test: { method, path })`,
        );
      return reply(app, c, 200, await app.deliverer.testIntegration(name, described.test));
    },
  );

  return r;
}

/** The authentication kinds, each with its options' JSON Schema and secret fields. */
const IntegrationKinds = z
  .object({
    kinds: z.array(
      z
        .object({
          kind: z.string(),
          options: z.record(z.string(), z.unknown()).describe("the kind's own options as JSON Schema"),
          secretFields: z.array(z.string()).describe("write-only options, sealed at rest"),
          secretsRequiredOnChange: z
            .array(z.string())
            .describe("options whose change requires the secrets again (endpointPrefix always does)"),
        })
        .strict(),
    ),
  })
  .strict();

/**
 * `GET /v1/export` (no secrets), `POST /v1/import` (says which secrets must be re-entered), and
 * `GET /v1/integration-kinds` (what a form for each kind is made from).
 */
export function exportRoutes(app: AdminApp) {
  const r = new Hono();
  const tags = ["Config"];
  r.get(
    "/integration-kinds",
    documented({
      summary: "The authentication kinds the plugins provide",
      description:
        "Each kind with its own options as JSON Schema (besides `kind`, `endpointPrefix` and `test`) and which of them are secrets.",
      tags: ["Integrations"],
      answers: { 200: { description: "every kind", schema: IntegrationKinds } },
    }),
    (c) => reply(app, c, 200, { kinds: app.managed.kinds() }),
  );
  r.get(
    "/export",
    documented({
      summary: "Export the admin API's integrations and webhooks, without secrets",
      tags,
      answers: { 200: { description: "the entries", schema: ExportDocument } },
    }),
    async (c) => reply(app, c, 200, await app.managed.exportAll()),
  );
  r.post(
    "/import",
    documented({
      summary: "Import entries an export gave",
      tags,
      body: { schema: ImportDocument },
      answers: {
        200: { description: "what was imported, and the secrets to re-enter", schema: ImportResult },
      },
      errors: [400, 403, 409, 503].map((status) => ({ code: "HOOKLINE_MANAGED" as const, status })),
    }),
    async (c) => {
      return reply(app, c, 200, await app.managed.importAll(await readJson(c)));
    },
  );
  return r;
}

/**
 * The cookie the console sets as it starts an authorization (path `/oauth/callback/<name>`, ten
 * minutes): the console page to send the person back to once the callback has stored the token.
 */
export const AUTHORIZE_RETURN_COOKIE = "hookline_authorize_return";

// A console path of plain segments: no scheme, host, "//", backslash, query, dot segment or escape.
const CONSOLE_PATH = /^\/console(?:\/(?!\.{1,2}(?:\/|$))[A-Za-z0-9._-]+)*$/;

/**
 * Whether `path` may be a return target: a path of the console only, so that the cookie cannot make
 * the callback an open redirect.
 *
 * @example isConsolePath("/console/integrations/crm") // true; isConsolePath("//evil.example") // false
 */
export const isConsolePath = (path: string | undefined): path is string =>
  path !== undefined && CONSOLE_PATH.test(path);

/**
 * The callback's page when the console started the authorization: what happened, a link back, and
 * (after success) a refresh to it. A refresh rather than a redirect: coming from the authorization
 * server's site, a redirect would arrive without the console's SameSite=Strict session cookie.
 */
function backToConsole(c: Context, name: string, to: string, text: string, status: 200 | 400) {
  deleteCookie(c, AUTHORIZE_RETURN_COOKIE, { path: `/oauth/callback/${encodeURIComponent(name)}` });
  c.header("content-security-policy", "default-src 'none'; base-uri 'none'; frame-ancestors 'none'");
  c.header("referrer-policy", "no-referrer");
  c.header("cache-control", "no-store");
  const href = xmlEscape(to);
  const refresh = status === 200 ? `<meta http-equiv="refresh" content="0; url=${href}">` : "";
  return c.html(
    `<!doctype html><html lang="en"><head><meta charset="utf-8">${refresh}<title>hookline</title></head>` +
      `<body><p>${xmlEscape(text)}</p><p><a href="${href}">Back to the console</a></p></body></html>`,
    status,
  );
}

/**
 * `GET /oauth/callback/:integration`: where the authorization server sends the person back. Not behind
 * the admin token (a browser arrives here); the grant's state and PKCE verifier protect it. When the
 * console started it (`AUTHORIZE_RETURN_COOKIE`), the answer is a page leading back to the console.
 */
export function callbackRoutes(app: AdminApp) {
  const r = new Hono();
  r.get(
    "/:name",
    documented({
      summary: "Where the authorization server sends the person back",
      description:
        "Not behind the admin token (a browser arrives here); the grant's state and PKCE verifier protect it. Its query is the authorization response (`code` and `state`, or `error`). When the console started the authorization (its `hookline_authorize_return` cookie names a console page), the answer is an HTML page leading back there.",
      tags: ["Integrations"],
      params: { name: "the integration being authorized" },
      query: z.looseObject({
        code: z.string().optional(),
        state: z.string().optional(),
        error: z.string().optional(),
      }),
      answers: {
        200: {
          description: "a short text saying it is authorized",
          schema: z.string(),
          contentType: "text/plain",
        },
      },
      errors: ["HOOKLINE_HTTP_NOT_FOUND", "HOOKLINE_HTTP_INVALID", "HOOKLINE_STORE_UNAVAILABLE"],
      public: true,
    }),
    async (c) => {
      const i = app.integrations.get(c.req.param("name"));
      if (!i?.instance.completeAuthorization)
        throw new HttpError(
          "HOOKLINE_HTTP_NOT_FOUND",
          `no integration "${c.req.param("name")}" with an interactive authorization`,
        );
      const back = getCookie(c, AUTHORIZE_RETURN_COOKIE);
      const to = isConsolePath(back) ? back : undefined;
      try {
        await i.instance.completeAuthorization(c.req.url);
      } catch (e) {
        // The store being away is the server's fault (503); anything else is the grant's refusal.
        if (isStoreOutage(e)) throw e;
        requestLogger(c).log("warn", "integration.authorization_failed", {
          integration: i.name,
          error: (e as Error).message,
        });
        if (to)
          return backToConsole(
            c,
            i.name,
            to,
            `Authorization of "${i.name}" failed: ${app.redactor.redact((e as Error).message)}`,
            400,
          );
        throw new HttpError(
          "HOOKLINE_HTTP_INVALID",
          `authorization of "${i.name}" failed: ${(e as Error).message}`,
          { cause: e },
        );
      }
      requestLogger(c).log("info", "integration.authorized", { integration: i.name });
      if (to) return backToConsole(c, i.name, to, `Integration "${i.name}" is authorized.`, 200);
      return c.text(`hookline: integration "${i.name}" is authorized; you can close this page.`);
    },
  );
  return r;
}
