import { Hono } from "hono";
import type { Hookline } from "../app.ts";
import { PolicyConfig } from "../config/schema.ts";
import { issues, readJson, reply, storeDown } from "./respond.ts";

/**
 * Throughput policies: list (with the slots in use across processes), set the limits (concurrency and
 * an optional rate per second; they apply to what starts next, everywhere), delete one no webhook uses.
 */
export function policyRoutes(app: Hookline) {
  const r = new Hono();
  const users = (name: string) =>
    [...app.webhooks.values()].filter((w) => w.config.policy === name).map((w) => w.name);

  r.get("/", async (c) => {
    try {
      return reply(app, c, 200, { policies: await app.store.listPolicies() });
    } catch (e) {
      return storeDown(app, c, e);
    }
  });

  r.put("/:name", async (c) => {
    const body = await readJson(c);
    if (!body.ok) return body.response;
    const parsed = PolicyConfig.safeParse(body.value);
    if (!parsed.success) return c.json({ error: "invalid policy", issues: issues(parsed.error) }, 400);
    try {
      const policy = { name: c.req.param("name"), ...parsed.data };
      await app.store.setPolicy(policy);
      return reply(app, c, 200, policy);
    } catch (e) {
      return storeDown(app, c, e);
    }
  });

  r.delete("/:name", async (c) => {
    const name = c.req.param("name");
    const using = users(name);
    if (using.length > 0)
      return c.json(
        { error: `policy "${name}" is used by webhooks: ${using.join(", ")}`, webhooks: using },
        409,
      );
    try {
      return (await app.store.deletePolicy(name))
        ? c.body(null, 204)
        : c.json({ error: `no policy "${name}"` }, 404);
    } catch (e) {
      return storeDown(app, c, e);
    }
  });
  return r;
}
