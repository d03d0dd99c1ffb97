import { Hono } from "hono";
import { z } from "zod";
import { PresetConfig, WebhookConfig } from "../config/schema.ts";
import { webhookParameters } from "../engine/parameters.ts";
import type { CompiledWebhook } from "../engine/webhooks.ts";
import { HttpError } from "../errors.ts";
import type { AdminApp } from "./admin-app.ts";
import {
  WebhookDisabled,
  WebhookEnabled,
  WebhookFired,
  WebhookList,
  WebhookResumed,
  WebhookTestResult,
  WebhookView,
} from "./answer-schemas.ts";
import { readJson, reply } from "./respond.ts";
import { documented } from "./route-docs.ts";
import { json } from "./validate.ts";
import {
  CopyBody,
  copyWebhook,
  DisableBody,
  disableWebhook,
  enableWebhook,
  FireBody,
  fireWebhook,
  knownWebhook,
  resumeWebhook,
  webhookStates,
} from "./webhook-lifecycle.ts";
import { testWebhook } from "./webhook-test.ts";

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

/**
 * Webhook routes: list (with each one's source and state), show (with its template parameters),
 * create, replace, delete, the "test webhook" (render with sample data; with `send: true` also send
 * it and return the response), and the lifecycle: resume, disable, enable, copy, fire.
 */
export function webhookRoutes(app: AdminApp) {
  const r = new Hono();
  const { renderers } = app.catalogue;
  const describe = (hook: CompiledWebhook) => ({
    name: hook.name,
    ...hook.config,
    parameters: webhookParameters(hook.config, renderers),
  });
  const known = (name: string): CompiledWebhook => knownWebhook(app, name);

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
      const states = await webhookStates(app);
      return reply(app, c, 200, {
        webhooks: [...app.webhooks.values()].map((w) => {
          const { source, file, line, paused, disabled } = states.get(w.name)!;
          return {
            name: w.name,
            method: w.config.method,
            integration: w.config.integration,
            source,
            ...(file ? { file } : {}),
            ...(line ? { line } : {}),
            ...(paused ? { paused } : {}),
            ...(disabled ? { disabled } : {}),
          };
        }),
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
    async (c) => {
      const hook = known(c.req.param("name"));
      // Where it is defined and whether it is paused or disabled, as the list says.
      const { name: _, ...state } = (await webhookStates(app)).get(hook.name) ?? {};
      return reply(app, c, 200, { ...describe(hook), ...state });
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
    async (c) => reply(app, c, 200, await resumeWebhook(app, c.req.param("name"))),
  );

  r.delete(
    "/:name",
    documented({
      summary: "Delete a webhook of the admin API",
      description:
        "Its paused or disabled state goes with it; deliveries it left queued end unsent (their webhook is gone).",
      tags,
      params,
      answers: { 204: { description: "deleted" } },
      errors: managed(404, 409, 503),
    }),
    async (c) => {
      const name = c.req.param("name");
      await app.managed.deleteWebhook(name);
      // Its pause and its disabling go with it: a webhook made later under this name starts active.
      // What it left queued is due again, and ends unsent (its webhook is gone) rather than waiting.
      await app.store.enableWebhook(name);
      await app.store.resumeWebhook(name);
      app.worker.wake();
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
      const { params, steps, stopped } = await testWebhook(app, hook, given);
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

  // Disabled: triggers write no delivery of it; its queued deliveries wait (or end halted) — on every
  // process sharing the store, for config-file webhooks too.
  r.post(
    "/:name/disable",
    documented({
      summary: "Disable a webhook",
      description:
        "Triggers no longer fire it (on every process sharing the store). Its queued deliveries wait, not claimed, until it is enabled (`queued: wait`, the default), or end halted with the reason (`queued: cancel`); those in flight finish their attempt.",
      tags,
      params,
      answers: { 200: { description: "disabled", schema: WebhookDisabled } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND", "HOOKLINE_HTTP_CONFLICT"],
    }),
    json(DisableBody, "invalid disable request"),
    async (c) => reply(app, c, 200, await disableWebhook(app, c.req.param("name"), c.req.valid("json"))),
  );

  r.post(
    "/:name/enable",
    documented({
      summary: "Enable a disabled webhook",
      description:
        "Triggers fire it again, and the deliveries that waited are due (unless it is paused too).",
      tags,
      params,
      answers: { 200: { description: "enabled", schema: WebhookEnabled } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND", "HOOKLINE_HTTP_CONFLICT"],
    }),
    async (c) => reply(app, c, 200, await enableWebhook(app, c.req.param("name"))),
  );

  r.post(
    "/:name/copy",
    documented({
      summary: "Copy a webhook into a new admin-API webhook",
      description:
        "Any webhook (config file, admin API or plugin) is copied with its definition under `name`; the copy has no event trigger (give it `events` with PUT), so it fires on nothing until then.",
      tags,
      params,
      answers: { 201: { ...view, description: "the copy, with its template parameters" } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND", "HOOKLINE_HTTP_CONFLICT", ...managed(400, 403, 503)],
    }),
    json(CopyBody, "invalid copy request"),
    async (c) => {
      const copy = await copyWebhook(app, c.req.param("name"), c.req.valid("json").name);
      return reply(app, c, 201, describe(copy));
    },
  );

  r.post(
    "/:name/fire",
    documented({
      summary: "Fire a webhook for one customer",
      description:
        "One delivery, in a run of its own, sent by the workers as any other. `customer` is an object with its id, or (with a plugin that keeps profiles) a stored profile's id or identifier (`email=…`).",
      tags,
      params,
      answers: { 202: { description: "the delivery written", schema: WebhookFired } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND", "HOOKLINE_HTTP_CONFLICT", "HOOKLINE_HTTP_INVALID"],
    }),
    json(FireBody, "invalid fire request"),
    async (c) => reply(app, c, 202, await fireWebhook(app, c.req.param("name"), c.req.valid("json"))),
  );

  return r;
}
