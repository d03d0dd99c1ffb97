import { Hono } from "hono";
import { PolicyConfig } from "../config/schema.ts";
import { HttpError } from "../errors.ts";
import type { AdminApp } from "./admin-app.ts";
import { PolicyList, PolicyWritten } from "./answer-schemas.ts";
import { reply } from "./respond.ts";
import { documented } from "./route-docs.ts";
import { json } from "./validate.ts";

/**
 * Throughput policies: list (with the slots in use across processes), set the limits (concurrency and
 * an optional rate per second; they apply to what starts next, everywhere), delete one no webhook uses.
 */
export function policyRoutes(app: AdminApp) {
  const r = new Hono();
  const users = (name: string) =>
    [...app.webhooks.values()].filter((w) => w.config.policy === name).map((w) => w.name);

  const tags = ["Policies"];
  const params = { name: "the policy's name" };

  r.get(
    "/",
    documented({
      summary: "List throughput policies",
      tags,
      answers: { 200: { description: "with slots in use", schema: PolicyList } },
    }),
    async (c) => {
      return reply(app, c, 200, { policies: await app.store.listPolicies() });
    },
  );

  r.put(
    "/:name",
    documented({
      summary: "Set a policy's limits",
      description: "They apply to what starts next, in every process.",
      tags,
      params,
      answers: { 200: { description: "the limits written", schema: PolicyWritten } },
    }),
    json(PolicyConfig, "invalid policy"),
    async (c) => {
      const policy = { name: c.req.param("name"), ...c.req.valid("json") };
      await app.store.setPolicy(policy);
      return reply(app, c, 200, policy);
    },
  );

  r.delete(
    "/:name",
    documented({
      summary: "Delete a policy no webhook uses",
      tags,
      params,
      answers: { 204: { description: "deleted" } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND", "HOOKLINE_HTTP_CONFLICT"],
    }),
    async (c) => {
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
    },
  );
  return r;
}
