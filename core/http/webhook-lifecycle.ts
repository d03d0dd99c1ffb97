import { z } from "zod";
import { webhookLine } from "../config/check.ts";
import type { CatalogueSource, CompiledWebhook } from "../contracts/catalogue.ts";
import type { QueuedOnDisable } from "../contracts/runs.ts";
import { acceptEvent, buildDelivery } from "../engine/outbox.ts";
import { HttpError } from "../errors.ts";
import { EventInput } from "../model/event.ts";
import type { AdminApp } from "./admin-app.ts";
import { parseOr } from "./validate.ts";

/** A webhook's state: sending, paused after failing continuously, or disabled by an operator. */
export interface WebhookState {
  name: string;
  /** Where it is defined: the config file (with its line), the admin API, or a plugin. */
  source: CatalogueSource;
  file?: string;
  line?: number;
  paused?: { at: string; reason: string };
  disabled?: { at: string; reason: string };
}

/**
 * Every webhook with its source and state, by name (the paused and disabled ones read from the store,
 * so every process sharing it agrees).
 *
 * @example const states = await webhookStates(app); states.get("crm")?.disabled
 */
export async function webhookStates(app: AdminApp): Promise<Map<string, WebhookState>> {
  const [paused, disabled] = await Promise.all([app.store.pausedWebhooks(), app.store.disabledWebhooks()]);
  const pausedBy = new Map(paused.map((p) => [p.webhook, p]));
  const disabledBy = new Map(disabled.map((d) => [d.webhook, d]));
  const config = app.managed.d.config;
  const states = new Map<string, WebhookState>();
  for (const name of [...app.webhooks.keys()].sort()) {
    const source = app.catalogue.sourceOf("webhook", name) ?? "config";
    const p = pausedBy.get(name);
    const d = disabledBy.get(name);
    const line = source === "config" ? webhookLine(config, name) : undefined;
    states.set(name, {
      name,
      source,
      ...(source === "config" && config.file ? { file: config.file } : {}),
      ...(line ? { line } : {}),
      ...(p ? { paused: { at: p.pausedAt, reason: p.reason } } : {}),
      ...(d ? { disabled: { at: d.disabledAt, reason: d.reason } } : {}),
    });
  }
  return states;
}

/** The webhook of that name, or 404. */
export function knownWebhook(app: AdminApp, name: string): CompiledWebhook {
  const hook = app.webhooks.get(name);
  if (!hook) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no webhook "${name}"`);
  return hook;
}

export const DisableBody = z
  .object({
    queued: z
      .enum(["wait", "cancel"])
      .default("wait")
      .describe("its queued deliveries wait until it is enabled (default), or end halted with the reason"),
    reason: z
      .string()
      .min(1)
      .max(500)
      .optional()
      .describe("why (kept, and the reason cancelled deliveries end with)"),
  })
  .strict();

/**
 * Disables a webhook on every process sharing the store: triggers write no delivery for it, its
 * queued deliveries wait (not claimed) or end halted. 409 when it is disabled already and nothing
 * is cancelled.
 *
 * @example await disableWebhook(app, "crm", { queued: "cancel", reason: "campaign over" })
 */
export async function disableWebhook(
  app: AdminApp,
  name: string,
  options: { queued: QueuedOnDisable; reason?: string },
): Promise<{ name: string; disabled: true; queued: QueuedOnDisable; halted: number }> {
  knownWebhook(app, name);
  const done = await app.store.disableWebhook(name, {
    queued: options.queued,
    reason: options.reason ?? "disabled by an operator",
  });
  if (!done) throw new HttpError("HOOKLINE_HTTP_CONFLICT", `webhook "${name}" is disabled already`);
  return { name, disabled: true, queued: options.queued, halted: done.halted };
}

/** Enables a disabled webhook: its waiting deliveries are due again (unless it is paused too). */
export async function enableWebhook(app: AdminApp, name: string): Promise<{ name: string; enabled: true }> {
  knownWebhook(app, name);
  if (!(await app.store.enableWebhook(name)))
    throw new HttpError("HOOKLINE_HTTP_CONFLICT", `webhook "${name}" is not disabled`);
  app.worker.wake();
  return { name, enabled: true };
}

/** Resumes a paused webhook: its set-aside deliveries are due again (unless it is disabled too). 409 when not paused. */
export async function resumeWebhook(app: AdminApp, name: string): Promise<{ name: string; resumed: true }> {
  knownWebhook(app, name);
  if (!(await app.store.resumeWebhook(name)))
    throw new HttpError("HOOKLINE_HTTP_CONFLICT", `webhook "${name}" is not paused`);
  app.worker.wake();
  return { name, resumed: true };
}

export const CopyBody = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, "a name of letters, digits, '.', '_' and '-' (at most 100)")
      .describe("the copy's name"),
  })
  .strict();

/**
 * Copies a webhook (of the config file, the admin API or a plugin) into a new admin-API webhook of
 * the same definition. The copy carries no event trigger: it fires on nothing until it is given
 * `events`, so a copy never doubles what its original sends. 409 when the name is taken.
 *
 * @example await copyWebhook(app, "crm", "crm-copy")
 */
export async function copyWebhook(app: AdminApp, name: string, copy: string): Promise<CompiledWebhook> {
  const hook = knownWebhook(app, name);
  if (app.webhooks.has(copy))
    throw new HttpError("HOOKLINE_HTTP_CONFLICT", `webhook "${copy}" exists already`);
  await app.managed.putWebhook(copy, definitionOf(hook));
  return app.webhooks.get(copy)!;
}

/** A webhook's definition as the admin API takes it (its config, as loaded and merged with its presets). */
export const definitionOf = (hook: CompiledWebhook): Record<string, unknown> =>
  JSON.parse(JSON.stringify(hook.config)) as Record<string, unknown>;

export const FireBody = z
  .object({
    customer: z
      .union([z.string().min(1).max(500), z.looseObject({ id: z.union([z.string().min(1), z.number()]) })])
      .describe(
        "the customer: an object with its id and attributes, or a stored profile's id or identifier (email=…) when a plugin keeps profiles",
      ),
    event: z
      .object({
        id: z.string().min(1).max(200).optional(),
        type: z.string().min(1).max(200).optional(),
        data: z.record(z.string(), z.unknown()).optional(),
        params: z.record(z.string(), z.unknown()).optional(),
      })
      .strict()
      .optional()
      .describe("the event the delivery is for (type `manual` with no data by default)"),
  })
  .strict();
export type FireBody = z.output<typeof FireBody>;

/**
 * Fires a webhook for one customer: one delivery, in a run of its own, sent by the workers as any
 * other. A customer given by id is read from the stored profiles when a plugin keeps them. 409 when
 * the webhook is disabled, or the event id fired it before.
 *
 * @example const { delivery, runId } = await fireWebhook(app, "crm", { customer: { id: "c1", email: "ada@example.com" } })
 */
export async function fireWebhook(
  app: AdminApp,
  name: string,
  body: FireBody,
): Promise<{ delivery: string; webhook: string; runId: string }> {
  const hook = knownWebhook(app, name);
  if ((await app.store.disabledWebhooks()).some((d) => d.webhook === name))
    throw new HttpError("HOOKLINE_HTTP_CONFLICT", `webhook "${name}" is disabled: enable it first`);
  let customer: Record<string, unknown>;
  if (typeof body.customer === "string") {
    const found = app.profiles ? await app.profiles.customer(body.customer) : undefined;
    customer = found?.customer ?? { id: body.customer };
  } else customer = body.customer;
  const event = acceptEvent(
    parseOr(
      EventInput,
      {
        type: body.event?.type ?? "manual",
        ...(body.event?.id ? { id: body.event.id } : {}),
        data: body.event?.data ?? {},
        customer,
      },
      "invalid event for the manual fire",
    ),
  );
  const runId = `run_${crypto.randomUUID()}`;
  const delivery = buildDelivery(hook, app.deliverer.retryOf(hook), {
    idempotencyKey: `${event.id}:${name}`,
    runId,
    eventId: event.id,
    eventType: event.type,
    customerId: String(customer.id),
    context: {
      event: { id: event.id, type: event.type, data: event.data, timestamp: event.timestamp },
      customer,
      params: { ...hook.config.params, ...body.event?.params },
    },
  });
  const [id] = await app.store.enqueue([delivery]);
  if (!id)
    throw new HttpError(
      "HOOKLINE_HTTP_CONFLICT",
      `event "${event.id}" fired webhook "${name}" before (or it was disabled meanwhile)`,
    );
  app.worker.wake();
  return { delivery: id, webhook: name, runId };
}
