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
