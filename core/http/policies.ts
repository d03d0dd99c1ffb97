import { Hono } from "hono";
import { PolicyConfig } from "../config/schema.ts";
import { HttpError } from "../errors.ts";
import type { AdminApp } from "./admin-app.ts";
import { reply } from "./respond.ts";
import { json } from "./validate.ts";

/**
 * Throughput policies: list (with the slots in use across processes), set the limits (concurrency and
 * an optional rate per second; they apply to what starts next, everywhere), delete one no webhook uses.
 */
export function policyRoutes(app: AdminApp) {
  const r = new Hono();
  const users = (name: string) =>
    [...app.webhooks.values()].filter((w) => w.config.policy === name).map((w) => w.name);

  r.get("/", async (c) => {
    return reply(app, c, 200, { policies: await app.store.listPolicies() });
  });

  r.put("/:name", json(PolicyConfig, "invalid policy"), async (c) => {
    const policy = { name: c.req.param("name"), ...c.req.valid("json") };
    await app.store.setPolicy(policy);
    return reply(app, c, 200, policy);
  });

  r.delete("/:name", async (c) => {
    const name = c.req.param("name");
    const using = users(name);
    if (using.length > 0)
      throw new HttpError(
        "HOOKLINE_HTTP_CONFLICT",
        `policy "${name}" is used by webhooks: ${using.join(", ")}`,
        {
          details: { webhooks: using },
        },
      );
    if (!(await app.store.deletePolicy(name)))
      throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no policy "${name}"`);
    return c.body(null, 204);
  });
  return r;
}
