import { Hono } from "hono";
import { z } from "zod";
import { IntegrationBase } from "../config/schema.ts";
import { HttpError, isStoreOutage } from "../errors.ts";
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

/** `GET /v1/export` (no secrets) and `POST /v1/import` (says which secrets must be re-entered). */
export function exportRoutes(app: AdminApp) {
  const r = new Hono();
  const tags = ["Config"];
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
 * `GET /oauth/callback/:integration`: where the authorization server sends the person back. Not behind
 * the admin token (a browser arrives here); the grant's state and PKCE verifier protect it.
 */
export function callbackRoutes(app: AdminApp) {
  const r = new Hono();
  r.get(
    "/:name",
    documented({
      summary: "Where the authorization server sends the person back",
      description:
        "Not behind the admin token (a browser arrives here); the grant's state and PKCE verifier protect it. Its query is the authorization response (`code` and `state`, or `error`).",
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
      try {
        await i.instance.completeAuthorization(c.req.url);
      } catch (e) {
        // The store being away is the server's fault (503); anything else is the grant's refusal.
        if (isStoreOutage(e)) throw e;
        requestLogger(c).log("warn", "integration.authorization_failed", {
          integration: i.name,
          error: (e as Error).message,
        });
        throw new HttpError(
          "HOOKLINE_HTTP_INVALID",
          `authorization of "${i.name}" failed: ${(e as Error).message}`,
          { cause: e },
        );
      }
      requestLogger(c).log("info", "integration.authorized", { integration: i.name });
      return c.text(`hookline: integration "${i.name}" is authorized; you can close this page.`);
    },
  );
  return r;
}
