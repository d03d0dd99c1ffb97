import { acceptEvent } from "../engine/outbox.ts";
import { type PreviewStep, previewScenario } from "../engine/preview.ts";
import type { CompiledWebhook } from "../engine/webhooks.ts";
import { EventInput } from "../model/event.ts";
import type { AdminApp } from "./admin-app.ts";
import { parseOr } from "./validate.ts";

/** What a webhook test is given: each part overrides the webhook's `sample` (and the defaults). */
export interface WebhookTestInput {
  event?: Record<string, unknown>;
  customer?: Record<string, unknown>;
  params?: Record<string, unknown>;
  /** Send each step for real, and keep what came back. */
  send: boolean;
  /** Sample responses by action id, for a scenario's later steps when nothing is sent. */
  responses?: Record<string, unknown>;
}

/** What a test rendered (and with `send`, what came back), step by step. */
export interface WebhookTestOutcome {
  params: Record<string, unknown>;
  steps: PreviewStep[];
  stopped?: string;
}

/** The sample a webhook without `sample:` is tested with. */
export const DEFAULT_SAMPLE = {
  event: { type: "test", data: {} },
  customer: {
    id: "sample-customer",
    email: "customer@example.com",
    first_name: "Sample",
    last_name: "Customer",
  },
};

/**
 * The "test webhook" of the admin API and the console: the webhook's sample data (or the defaults)
 * overridden by what is given, rendered through the path real sends take — every step of a scenario
 * — and with `send` sent. An event that does not parse is 400 `HOOKLINE_HTTP_INVALID`; a step that
 * cannot render is in its step's `error` (stage `prepare`), for the caller to answer as it sees fit.
 *
 * @example const { steps } = await testWebhook(app, app.webhooks.get("crm")!, { send: false });
 */
export async function testWebhook(
  app: Pick<AdminApp, "deliverer">,
  hook: CompiledWebhook,
  given: WebhookTestInput,
): Promise<WebhookTestOutcome> {
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
  return { params, steps, ...(stopped ? { stopped } : {}) };
}
