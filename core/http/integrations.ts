import { Hono } from "hono";
import type { Hookline } from "../app.ts";
import { reply } from "./respond.ts";

/**
 * Integration routes: list and show (secret values never shown: only which are set), and the test
 * request of an integration's test settings.
 */
export function integrationRoutes(app: Hookline) {
  const r = new Hono();
  const describe = (name: string) => {
    const base = app.config.integrations[name];
    const runtime = app.integrations.get(name);
    if (!base || !runtime) return undefined;
    const { kind, endpointPrefix, test } = base;
    // Every secret value the integration holds is in the redactor: its options come back masked.
    return {
      name,
      kind,
      endpointPrefix,
      test,
      options: app.redactor.redactDeep(app.config.integrationOptions[name]),
    };
  };

  r.get("/", (c) => reply(app, c, 200, { integrations: [...app.integrations.keys()].map(describe) }));

  r.get("/:name", (c) => {
    const d = describe(c.req.param("name"));
    return d ? reply(app, c, 200, d) : c.json({ error: `no integration "${c.req.param("name")}"` }, 404);
  });

  r.post("/:name/test", async (c) => {
    const name = c.req.param("name");
    const base = app.config.integrations[name];
    if (!base || !app.integrations.has(name)) return c.json({ error: `no integration "${name}"` }, 404);
    if (!base.test)
      return c.json({ error: `integration "${name}" has no test settings (test: { method, path })` }, 400);
    return reply(app, c, 200, await app.deliverer.testIntegration(name, base.test));
  });

  return r;
}
