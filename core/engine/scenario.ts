import type { RetryPolicy } from "../contracts/retry.ts";
import type { ClaimedDelivery, NewDelivery } from "../contracts/store.ts";
import type { TransportResponse } from "../contracts/transport.ts";
import { buildDelivery } from "./outbox.ts";
import type { CompiledWebhook } from "./webhooks.ts";

/** One earlier step's response as later steps see it. */
export interface StepResponse {
  /** `actionId` of the step (default: its webhook's name). */
  actionId: string;
  /** The webhook's name. */
  name: string;
  status: number;
  /** The parsed JSON, or the text when the step's response format is text (or the JSON did not parse). */
  data: unknown;
  /** True when the body was longer than the kept 64 KB and was cut. */
  truncated?: boolean;
}

/** The most steps one scenario runs: a guard against a `next` loop. */
export const MAX_STEPS = 20;

/**
 * Parses a response for later steps: JSON by default (text it cannot parse stays text), or text.
 *
 * @example parseResponse("json", '{"promocode":"X1"}') // { promocode: "X1" }
 */
export function parseResponse(format: "json" | "text", body: string): unknown {
  if (format === "text" || body.trim() === "") return body;
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}

/**
 * What a step's templates see of the steps before it: `responses` (in order, for Jinja's `webhook`,
 * `webhook(n)`, `webhook.by_action_id(id)`), `data` by action id (Velocity's `$data.get('id')`), and
 * `webhooks` — a list whose entries are also reachable by action id (Eta's `it.webhooks.lookup.x`,
 * `it.webhooks[0].x`; Mustache's `{{webhooks.lookup.x}}`).
 *
 * @example responseView([{ actionId: "lookup", name: "lookup", status: 200, data: { x: 1 } }]).webhooks.lookup.x // 1
 */
export function responseView(responses: readonly StepResponse[] | undefined): Record<string, unknown> {
  const list = responses ?? [];
  const webhooks: unknown[] & Record<string, unknown> = Object.assign(
    list.map((r) => r.data),
    Object.fromEntries(list.map((r) => [r.actionId, r.data])),
  );
  return { responses: list, data: Object.fromEntries(list.map((r) => [r.actionId, r.data])), webhooks };
}

/**
 * The next step of a scenario after `delivery` succeeded with `response`: the same event and customer,
 * the responses so far plus this one. Undefined when the step has no `next`, or the chain is too long.
 */
export function nextStep(
  hook: CompiledWebhook,
  next: CompiledWebhook | undefined,
  delivery: ClaimedDelivery,
  response: TransportResponse,
  retry: RetryPolicy,
): NewDelivery | undefined {
  if (!next) return undefined;
  const before = ((delivery.context as { responses?: StepResponse[] }).responses ?? []).slice();
  if (before.length + 1 >= MAX_STEPS) return undefined;
  const step: StepResponse = {
    actionId: hook.config.actionId ?? hook.name,
    name: hook.name,
    status: response.status,
    data: parseResponse(hook.config.response.format, response.body),
    ...(response.truncated ? { truncated: true } : {}),
  };
  return buildDelivery(next, retry, {
    // One step per success of its predecessor: a repeated success writes no second step.
    idempotencyKey: `${delivery.idempotencyKey}>${next.name}`,
    runId: delivery.runId,
    eventId: delivery.eventId,
    eventType: delivery.eventType,
    customerId: delivery.customerId,
    context: { ...delivery.context, responses: [...before, step] },
  });
}
