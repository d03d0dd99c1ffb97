import { Hono } from "hono";
import { z } from "zod";
import type { Hookline } from "../app.ts";
import type { Renderer } from "../contracts/renderer.ts";
import { acceptEvent } from "../engine/outbox.ts";
import { webhookParameters } from "../engine/parameters.ts";
import { previewScenario } from "../engine/preview.ts";
import type { CompiledWebhook } from "../engine/webhooks.ts";
import { Tokens } from "../tokens.ts";
import { managedFailure } from "./integrations.ts";
import { issues, readJson, reply } from "./respond.ts";

const TestBody = z
  .object({
    event: z.record(z.string(), z.unknown()).optional(),
    customer: z.record(z.string(), z.unknown()).optional(),
    params: z.record(z.string(), z.unknown()).optional(),
    send: z.boolean().default(false),
    responses: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("sample responses by action id, for a scenario's later steps when nothing is sent"),
  })
  .strict();

const DEFAULT_SAMPLE = {
  event: { type: "test", data: {} },
  customer: {
    id: "sample-customer",
    email: "customer@example.com",
    first_name: "Sample",
    last_name: "Customer",
  },
};

/**
 * Webhook routes: list, show (with its template parameters), and the "test webhook" (render with
 * sample data; with `send: true` also send it and return the response).
 */
export function webhookRoutes(app: Hookline) {
  const r = new Hono();
  const renderers = app.container.isRegistered(Tokens.Renderer, true)
    ? app.container.resolveAll<Renderer>(Tokens.Renderer)
    : [];
  const describe = (hook: CompiledWebhook) => ({
    name: hook.name,
    ...hook.config,
    parameters: webhookParameters(hook.config, renderers),
  });

  r.get("/", async (c) => {
    const paused = new Map((await app.store.pausedWebhooks()).map((p) => [p.webhook, p]));
    return reply(app, c, 200, {
      webhooks: [...app.webhooks.values()].map((w) => ({
        name: w.name,
        method: w.config.method,
        integration: w.config.integration,
        ...(paused.has(w.name)
          ? { paused: { at: paused.get(w.name)!.pausedAt, reason: paused.get(w.name)!.reason } }
          : {}),
      })),
    });
  });

  r.get("/:name", (c) => {
    const hook = app.webhooks.get(c.req.param("name"));
    if (!hook) return c.json({ error: `no webhook "${c.req.param("name")}"` }, 404);
    return reply(app, c, 200, describe(hook));
  });

  r.put("/:name", async (c) => {
    const body = await readJson(c);
    if (!body.ok) return body.response;
    try {
      await app.managed.putWebhook(c.req.param("name"), body.value);
      return reply(app, c, 200, describe(app.webhooks.get(c.req.param("name"))!));
    } catch (e) {
      return managedFailure(app, c, e);
    }
  });

  // A webhook paused after failing continuously goes on from where it stopped.
  r.post("/:name/resume", async (c) => {
    const name = c.req.param("name");
    if (!app.webhooks.has(name)) return c.json({ error: `no webhook "${name}"` }, 404);
    if (!(await app.store.resumeWebhook(name)))
      return c.json({ error: `webhook "${name}" is not paused` }, 409);
    app.worker.wake();
    return reply(app, c, 200, { name, resumed: true });
  });

  r.delete("/:name", async (c) => {
    try {
      await app.managed.deleteWebhook(c.req.param("name"));
      return c.body(null, 204);
    } catch (e) {
      return managedFailure(app, c, e);
    }
  });

  r.post("/:name/test", async (c) => {
    const name = c.req.param("name");
    const hook = app.webhooks.get(name);
    if (!hook) return c.json({ error: `no webhook "${name}"` }, 404);
    const body = await readJson(c);
    if (!body.ok) return body.response;
    const parsed = TestBody.safeParse(body.value);
    if (!parsed.success) {
      return c.json({ error: "invalid test request", issues: issues(parsed.error) }, 400);
    }
    const sample = hook.config.sample ?? {};
    const eventIn = { ...DEFAULT_SAMPLE.event, ...sample.event, ...parsed.data.event } as Record<
      string,
      unknown
    >;
    const customer = (parsed.data.customer ?? sample.customer ?? DEFAULT_SAMPLE.customer) as { id: string };
    let event: ReturnType<typeof acceptEvent>;
    try {
      event = acceptEvent({
        ...(eventIn as { type: string }),
        customer: customer.id === undefined ? { ...customer, id: "sample-customer" } : customer,
      });
    } catch (e) {
      return c.json({ error: `invalid sample event: ${(e as Error).message}` }, 400);
    }
    const params = { ...hook.config.params, ...sample.params, ...parsed.data.params };
    const context = {
      event: { id: event.id, type: event.type, data: event.data, timestamp: event.timestamp },
      customer: event.customer,
      params,
    };
    const { steps, stopped } = await previewScenario(app.deliverer, hook, context, {
      send: parsed.data.send,
      responses: parsed.data.responses,
      idempotencyKey: `test:${event.id}`,
    });
    const [first] = steps;
    // A webhook that cannot be rendered (or authorized) is the caller's to fix: 422, with the reason.
    if (first!.error?.stage === "prepare") return reply(app, c, 422, { error: first!.error.message, params });
    return reply(app, c, 200, {
      request: first!.request,
      params,
      ...(first!.response ? { response: first!.response } : {}),
      ...(first!.error ? { error: { class: first!.error.class, message: first!.error.message } } : {}),
      // A scenario shows every step, each with what it would send (and, with send, what came back).
      ...(hook.config.next ? { steps, ...(stopped ? { stopped } : {}) } : {}),
    });
  });

  return r;
}
