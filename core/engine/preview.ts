import type { AttemptRecord } from "../contracts/store.ts";
import { TransportError, type TransportResponse } from "../contracts/transport.ts";
import type { Deliverer, PreparedRequest } from "./deliver.ts";
import { MAX_STEPS, parseResponse, type StepResponse } from "./scenario.ts";
import type { CompiledWebhook } from "./webhooks.ts";

/** One step of a preview: the request as it would be recorded, and what came of it. */
export interface PreviewStep {
  webhook: string;
  actionId: string;
  request?: AttemptRecord["request"];
  /** With `send`: the answer (headers and body redacted of known secrets). */
  response?: { status: number; headers: Record<string, string>; body: string; truncated?: boolean };
  /** Why the step could not be rendered or authorized (`prepare`), or sent (`send`). */
  error?: { stage: "prepare" | "send"; class: string; message: string };
}

export interface PreviewOptions {
  /** Send each step for real (a scenario goes on only after a step succeeded). */
  send: boolean;
  /** Sample responses by action id for later steps' templates when nothing is sent. */
  responses?: Record<string, unknown>;
  idempotencyKey: string;
}

/**
 * Renders a webhook — and each later step of its scenario (`next`) — through the same path real
 * sends take (`Deliverer.prepare`: render, endpoint-prefix check, credentials), optionally sending
 * each. Later steps see the responses before them: real ones when sent, else the sample `responses`
 * given by action id (an empty object where none is given). Sending stops at the first step that
 * does not succeed (by the retry policy: a retry or failure both stop it), and at a render error.
 *
 * @example const { steps } = await previewScenario(app.deliverer, hook, context, { send: false, idempotencyKey: "test:1" });
 */
export async function previewScenario(
  deliverer: Deliverer,
  first: CompiledWebhook,
  context: Record<string, unknown>,
  options: PreviewOptions,
): Promise<{ steps: PreviewStep[]; stopped?: string }> {
  const steps: PreviewStep[] = [];
  const responses: StepResponse[] = [];
  const { redactor: redact, catalogue } = deliverer.options;
  let hook: CompiledWebhook | undefined = first;
  while (hook && steps.length < MAX_STEPS) {
    const actionId = hook.config.actionId ?? hook.name;
    const step: PreviewStep = { webhook: hook.name, actionId };
    steps.push(step);
    let prepared: PreparedRequest;
    try {
      prepared = await deliverer.prepare(
        hook,
        responses.length > 0 ? { ...context, responses: [...responses] } : context,
        {
          "idempotency-key":
            steps.length === 1 ? options.idempotencyKey : `${options.idempotencyKey}>${hook.name}`,
        },
      );
    } catch (e) {
      const ns = e as Error & { errorClass?: string; request?: AttemptRecord["request"] };
      step.request = ns.request;
      step.error = { stage: "prepare", class: ns.errorClass ?? "render", message: redact.redact(ns.message) };
      return { steps, stopped: `step "${hook.name}": ${step.error.message}` };
    }
    step.request = prepared.recorded;
    let response: TransportResponse | undefined;
    if (options.send) {
      try {
        response = await deliverer.send(prepared, hook);
      } catch (e) {
        const cls = e instanceof TransportError ? e.faultClass : "network";
        step.error = { stage: "send", class: cls, message: redact.redact((e as Error).message) };
        return { steps, stopped: `step "${hook.name}": ${cls}` };
      }
      step.response = {
        status: response.status,
        headers: redact.redactDeep(response.headers),
        body: redact.redact(response.body),
        ...(response.truncated ? { truncated: true } : {}),
      };
      const decision = deliverer
        .retryOf(hook)
        .decide(
          { kind: "response", status: response.status, headers: response.headers },
          { number: 1, maxAttempts: 1 },
        );
      if (decision.action !== "succeed" && hook.config.next)
        return { steps, stopped: `step "${hook.name}" did not succeed (HTTP ${response.status})` };
    }
    if (!hook.config.next) break;
    responses.push({
      actionId,
      name: hook.name,
      status: response?.status ?? 200,
      data: response
        ? parseResponse(hook.config.response.format, response.body)
        : (options.responses?.[actionId] ?? {}),
    });
    hook = catalogue.webhooks.get(hook.config.next);
  }
  return { steps };
}
