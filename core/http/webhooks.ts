import { Hono } from "hono";
import { z } from "zod";
import { PresetConfig, WebhookConfig } from "../config/schema.ts";
import { acceptEvent } from "../engine/outbox.ts";
import { webhookParameters } from "../engine/parameters.ts";
import { previewScenario } from "../engine/preview.ts";
import type { CompiledWebhook } from "../engine/webhooks.ts";
import { HttpError } from "../errors.ts";
import { EventInput } from "../model/event.ts";
import type { AdminApp } from "./admin-app.ts";
import { WebhookList, WebhookResumed, WebhookTestResult, WebhookView } from "./answer-schemas.ts";
import { readJson, reply } from "./respond.ts";
import { documented } from "./route-docs.ts";
import { json, parseOr } from "./validate.ts";

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
export function webhookRoutes(app: AdminApp) {
  const r = new Hono();
  const { renderers } = app.catalogue;
  const describe = (hook: CompiledWebhook) => ({
    name: hook.name,
    ...hook.config,
    parameters: webhookParameters(hook.config, renderers),
  });
  const known = (name: string): CompiledWebhook => {
    const hook = app.webhooks.get(name);
    if (!hook) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no webhook "${name}"`);
    return hook;
  };

  const tags = ["Webhooks"];
  const params = { name: "the webhook's name" };
  const view = { description: "the webhook as it is now, with its template parameters", schema: WebhookView };
  // What the managed layer refuses a change with (HOOKLINE_MANAGED carries its own status; 403 is an
  // engine that runs templates as code, refused from the API).
  const managed = (...statuses: number[]) =>
    statuses.map((status) => ({ code: "HOOKLINE_MANAGED" as const, status }));

  r.get(
    "/",
    documented({
      summary: "List webhooks",
      tags,
      answers: { 200: { description: "every webhook", schema: WebhookList } },
    }),
    async (c) => {
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
    },
  );

  r.get(
    "/:name",
    documented({
      summary: "A webhook",
      tags,
      params,
      answers: { 200: view },
      errors: ["HOOKLINE_HTTP_NOT_FOUND"],
    }),
    (c) => {
      return reply(app, c, 200, describe(known(c.req.param("name"))));
    },
  );

  r.put(
    "/:name",
    documented({
      summary: "Create or replace a webhook",
      description: "An entry as in hookline.yaml; one that `extends` a preset is stored merged with it.",
      tags,
      params,
      body: { schema: z.union([WebhookConfig, PresetConfig.required({ extends: true })]) },
      answers: { 200: view },
      errors: managed(400, 403, 409, 503),
    }),
    async (c) => {
      await app.managed.putWebhook(c.req.param("name"), await readJson(c));
      return reply(app, c, 200, describe(app.webhooks.get(c.req.param("name"))!));
    },
  );

  // A webhook paused after failing continuously goes on from where it stopped.
  r.post(
    "/:name/resume",
    documented({
      summary: "Resume a paused webhook",
      tags,
      params,
      answers: { 200: { description: "resumed", schema: WebhookResumed } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND", "HOOKLINE_HTTP_CONFLICT"],
    }),
    async (c) => {
      const { name } = known(c.req.param("name"));
      if (!(await app.store.resumeWebhook(name)))
        throw new HttpError("HOOKLINE_HTTP_CONFLICT", `webhook "${name}" is not paused`);
      app.worker.wake();
      return reply(app, c, 200, { name, resumed: true });
    },
  );

  r.delete(
    "/:name",
    documented({
      summary: "Delete a webhook of the admin API",
      tags,
      params,
      answers: { 204: { description: "deleted" } },
      errors: managed(404, 409, 503),
    }),
    async (c) => {
      await app.managed.deleteWebhook(c.req.param("name"));
      return c.body(null, 204);
    },
  );

  r.post(
    "/:name/test",
    documented({
      summary: "Test a webhook: render it with sample data, and with `send: true` send it",
      tags,
      params,
      answers: { 200: { description: "what it renders (and what came back)", schema: WebhookTestResult } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND", "HOOKLINE_HTTP_UNPROCESSABLE"],
    }),
    json(TestBody, "invalid test request"),
    async (c) => {
      const hook = known(c.req.param("name"));
      const given = c.req.valid("json");
      const sample = hook.config.sample ?? {};
      const eventIn = { ...DEFAULT_SAMPLE.event, ...sample.event, ...given.event } as Record<string, unknown>;
      const customer = (given.customer ?? sample.customer ?? DEFAULT_SAMPLE.customer) as { id: string };
      const sampleEvent = parseOr(
        EventInput,
        {
          ...(eventIn as { type: string }),
          customer: customer.id === undefined ? { ...customer, id: "sample-customer" } : customer,
        },
        "invalid sample event (the webhook's sample merged with this request's event and customer)",
      );
      const event = acceptEvent(sampleEvent);
      const params = { ...hook.config.params, ...sample.params, ...given.params };
      const context = {
        event: { id: event.id, type: event.type, data: event.data, timestamp: event.timestamp },
        customer: event.customer,
        params,
      };
      const { steps, stopped } = await previewScenario(app.deliverer, hook, context, {
        send: given.send,
        responses: given.responses,
        idempotencyKey: `test:${event.id}`,
      });
      const [first] = steps;
      // A webhook that cannot be rendered (or authorized) is the caller's to fix: 422, with the reason.
      if (first!.error?.stage === "prepare")
        throw new HttpError("HOOKLINE_HTTP_UNPROCESSABLE", first!.error.message, { details: { params } });
      return reply(app, c, 200, {
        request: first!.request,
        params,
        ...(first!.response ? { response: first!.response } : {}),
        ...(first!.error ? { error: { class: first!.error.class, message: first!.error.message } } : {}),
        // A scenario shows every step, each with what it would send (and, with send, what came back).
        ...(hook.config.next ? { steps, ...(stopped ? { stopped } : {}) } : {}),
      });
    },
  );

  return r;
}
