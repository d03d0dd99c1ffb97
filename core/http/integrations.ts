import { Hono } from "hono";
import { HttpError, isStoreOutage } from "../errors.ts";
import type { AdminApp } from "./admin-app.ts";
import { readJson, reply } from "./respond.ts";

const noIntegration = (name: string) => new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no integration "${name}"`);

/**
 * Integration routes: list and show (secret values never shown: only whether they are set), create or
 * replace through the API (secrets sealed at rest), delete, and the test request of its test settings.
 */
export function integrationRoutes(app: AdminApp) {
  const r = new Hono();

  r.get("/", (c) =>
    reply(app, c, 200, {
      integrations: [...app.integrations.keys()].map((n) => app.managed.describeIntegration(n)),
    }),
  );

  r.get("/:name", (c) => {
    const d = app.managed.describeIntegration(c.req.param("name"));
    if (!d) throw noIntegration(c.req.param("name"));
    return reply(app, c, 200, d);
  });

  r.put("/:name", async (c) => {
    return reply(app, c, 200, await app.managed.putIntegration(c.req.param("name"), await readJson(c)));
  });

  r.delete("/:name", async (c) => {
    await app.managed.deleteIntegration(c.req.param("name"));
    return c.body(null, 204);
  });

  // Interactive grants (OAuth authorization_code): the URL a person opens to authorize hookline.
  r.post("/:name/authorize", async (c) => {
    const i = app.integrations.get(c.req.param("name"));
    if (!i) throw noIntegration(c.req.param("name"));
    if (!i.instance.authorizationUrl)
      throw new HttpError(
        "HOOKLINE_HTTP_NOT_APPLICABLE",
        `integration "${i.name}" has no interactive authorization`,
      );
    return reply(app, c, 200, { url: await i.instance.authorizationUrl() });
  });

  r.post("/:name/test", async (c) => {
    const name = c.req.param("name");
    if (!app.integrations.has(name)) throw noIntegration(name);
    const described = app.managed.describeIntegration(name) as { test?: { method: "GET"; path: string } };
    if (!described.test)
      throw new HttpError(
        "HOOKLINE_HTTP_NOT_APPLICABLE",
        `integration "${name}" has no test settings (test: { method, path })`,
      );
    return reply(app, c, 200, await app.deliverer.testIntegration(name, described.test));
  });

  return r;
}

/** `GET /v1/export` (no secrets) and `POST /v1/import` (says which secrets must be re-entered). */
export function exportRoutes(app: AdminApp) {
  const r = new Hono();
  r.get("/export", async (c) => reply(app, c, 200, await app.managed.exportAll()));
  r.post("/import", async (c) => {
    return reply(app, c, 200, await app.managed.importAll(await readJson(c)));
  });
  return r;
}

/**
 * `GET /oauth/callback/:integration`: where the authorization server sends the person back. Not behind
 * the admin token (a browser arrives here); the grant's state and PKCE verifier protect it.
 */
export function callbackRoutes(app: AdminApp) {
  const r = new Hono();
  r.get("/:name", async (c) => {
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
      app.logger.log("warn", "authorization failed", { integration: i.name, error: (e as Error).message });
      throw new HttpError(
        "HOOKLINE_HTTP_INVALID",
        `authorization of "${i.name}" failed: ${(e as Error).message}`,
        { cause: e },
      );
    }
    app.logger.log("info", "integration authorized", { integration: i.name });
    return c.text(`hookline: integration "${i.name}" is authorized; you can close this page.`);
  });
  return r;
}
