import type { Context } from "hono";
import { Hono } from "hono";
import type { Hookline } from "../app.ts";
import { ManagedError } from "../managed.ts";
import { readJson, reply } from "./respond.ts";

/** Answers a refusal of the managed layer with its status, anything else is the app's error handler's. */
export function managedFailure(app: Hookline, c: Context, e: unknown): Response {
  if (e instanceof ManagedError) return reply(app, c, e.status, { error: e.message, issues: e.issues });
  throw e;
}

/**
 * Integration routes: list and show (secret values never shown: only whether they are set), create or
 * replace through the API (secrets sealed at rest), delete, and the test request of its test settings.
 */
export function integrationRoutes(app: Hookline) {
  const r = new Hono();

  r.get("/", (c) =>
    reply(app, c, 200, {
      integrations: [...app.integrations.keys()].map((n) => app.managed.describeIntegration(n)),
    }),
  );

  r.get("/:name", (c) => {
    const d = app.managed.describeIntegration(c.req.param("name"));
    return d ? reply(app, c, 200, d) : c.json({ error: `no integration "${c.req.param("name")}"` }, 404);
  });

  r.put("/:name", async (c) => {
    const body = await readJson(c);
    if (!body.ok) return body.response;
    try {
      return reply(app, c, 200, await app.managed.putIntegration(c.req.param("name"), body.value));
    } catch (e) {
      return managedFailure(app, c, e);
    }
  });

  r.delete("/:name", async (c) => {
    try {
      await app.managed.deleteIntegration(c.req.param("name"));
      return c.body(null, 204);
    } catch (e) {
      return managedFailure(app, c, e);
    }
  });

  // Interactive grants (OAuth authorization_code): the URL a person opens to authorize hookline.
  r.post("/:name/authorize", async (c) => {
    const i = app.integrations.get(c.req.param("name"));
    if (!i) return c.json({ error: `no integration "${c.req.param("name")}"` }, 404);
    if (!i.instance.authorizationUrl)
      return c.json({ error: `integration "${i.name}" has no interactive authorization` }, 400);
    return reply(app, c, 200, { url: await i.instance.authorizationUrl() });
  });

  r.post("/:name/test", async (c) => {
    const name = c.req.param("name");
    if (!app.integrations.has(name)) return c.json({ error: `no integration "${name}"` }, 404);
    const described = app.managed.describeIntegration(name) as { test?: { method: "GET"; path: string } };
    if (!described.test)
      return c.json({ error: `integration "${name}" has no test settings (test: { method, path })` }, 400);
    return reply(app, c, 200, await app.deliverer.testIntegration(name, described.test));
  });

  return r;
}

/** `GET /v1/export` (no secrets) and `POST /v1/import` (says which secrets must be re-entered). */
export function exportRoutes(app: Hookline) {
  const r = new Hono();
  r.get("/export", async (c) => reply(app, c, 200, await app.managed.exportAll()));
  r.post("/import", async (c) => {
    const body = await readJson(c);
    if (!body.ok) return body.response;
    try {
      return reply(app, c, 200, await app.managed.importAll(body.value));
    } catch (e) {
      return managedFailure(app, c, e);
    }
  });
  return r;
}

/**
 * `GET /oauth/callback/:integration`: where the authorization server sends the person back. Not behind
 * the admin token (a browser arrives here); the grant's state and PKCE verifier protect it.
 */
export function callbackRoutes(app: Hookline) {
  const r = new Hono();
  r.get("/:name", async (c) => {
    const i = app.integrations.get(c.req.param("name"));
    if (!i?.instance.completeAuthorization) return c.text("unknown integration", 404);
    try {
      await i.instance.completeAuthorization(c.req.url);
      app.logger.log("info", "integration authorized", { integration: i.name });
      return c.text(`hookline: integration "${i.name}" is authorized; you can close this page.`);
    } catch (e) {
      app.logger.log("warn", "authorization failed", { integration: i.name, error: (e as Error).message });
      return c.text(
        `hookline: authorization of "${i.name}" failed: ${app.redactor.redact((e as Error).message)}`,
        400,
      );
    }
  });
  return r;
}
