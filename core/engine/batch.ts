import type { AttemptOutcome, RetryDecision } from "../contracts/retry.ts";
import type { AttemptRecord, ClaimedDelivery, DeliveryResult } from "../contracts/store.ts";
import type { TransportResponse } from "../contracts/transport.ts";
import { type Deliverer, type NotSent, type PreparedRequest, startClock } from "./deliver.ts";
import type { CompiledWebhook } from "./webhooks.ts";

const enc = new TextEncoder();

/** The idempotency key of a batch request: the same items give the same key on every attempt. */
async function batchKey(keys: string[]): Promise<string> {
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", enc.encode([...keys].sort().join("\n"))),
  );
  return `batch_${[...digest.slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * One attempt of a batch webhook: each delivery (customer) renders the item template to a string; the
 * root template (`body`) renders once around them (`items`: the strings, `batch`: each item's
 * context); one request goes out; its outcome is recorded for every item in it, each judged against its
 * own attempt count. An item whose own template fails is failed alone and left out of the request.
 *
 * @example const results = await attemptBatch(deliverer, hook, claimed, signal);
 */
export async function attemptBatch(
  deliverer: Deliverer,
  hook: CompiledWebhook,
  deliveries: ClaimedDelivery[],
  signal?: AbortSignal,
): Promise<DeliveryResult[]> {
  const clock = startClock();
  const { redactor } = deliverer.options;
  const retry = deliverer.retryOf(hook);
  const results: DeliveryResult[] = [];
  const record = (
    d: ClaimedDelivery,
    attempt: Omit<AttemptRecord, "deliveryId" | "number" | "startedAt" | "durationMs" | "outcome">,
    decision: RetryDecision,
    response?: TransportResponse,
  ) => results.push(deliverer.settle(d, { decision, attempt, response }, clock));
  const notSent = { method: hook.config.method, url: "", headers: {} };

  const items: Array<{ delivery: ClaimedDelivery; text: string }> = [];
  for (const d of deliveries) {
    const halted = deliverer.haltedReason(d.webhook, d.runId);
    if (halted) {
      record(
        d,
        { request: notSent, errorClass: "halted", error: `not sent: ${halted}` },
        { action: "halt", reason: `run halted: ${halted}` },
      );
      continue;
    }
    try {
      items.push({ delivery: d, text: hook.item!.render({ ...d.context, webhook: { name: hook.name } }) });
    } catch (e) {
      const reason = `render: batch.item: ${(e as Error).message}`;
      record(d, { request: notSent, errorClass: "render", error: reason }, { action: "fail", reason });
    }
  }
  if (items.length === 0) return results;

  const key = await batchKey(items.map((i) => i.delivery.idempotencyKey));
  const first = items[0]!.delivery;
  const root = {
    items: items.map((i) => i.text),
    batch: items.map((i) => i.delivery.context),
    params: (first.context as { params?: unknown }).params ?? hook.config.params,
    size: items.length,
  };
  const forEach = (
    decide: (d: ClaimedDelivery) => RetryDecision,
    response: TransportResponse | undefined,
    attempt: (
      d: ClaimedDelivery,
      isFirst: boolean,
      decision: RetryDecision,
    ) => Omit<AttemptRecord, "deliveryId" | "number" | "startedAt" | "durationMs" | "outcome">,
  ) => {
    for (const { delivery } of items) {
      const decision = decide(delivery);
      record(delivery, attempt(delivery, delivery === first, decision), decision, response);
    }
  };

  // One request, one span: a child of its first item's publisher (the others' traces are not joined).
  const span = deliverer.telemetry.startAttempt(first);
  try {
    return await sendBatch(span.traceparent);
  } finally {
    const firstResult = results.find((r) => r.deliveryId === first.id);
    if (firstResult) span.end(firstResult);
  }

  async function sendBatch(traceparent: string): Promise<DeliveryResult[]> {
    let prepared: PreparedRequest;
    try {
      prepared = await deliverer.prepare(hook, root, { "idempotency-key": key, traceparent }, signal);
    } catch (e) {
      const ns = e as NotSent;
      forEach(
        (d) =>
          ns.retryable
            ? retry.decide(
                { kind: "fault", faultClass: "network", message: ns.message },
                { number: d.attempts, maxAttempts: d.maxAttempts },
              )
            : { action: "fail", reason: ns.message },
        undefined,
        () => ({ request: ns.request, errorClass: ns.errorClass, error: ns.message }),
      );
      return results;
    }

    let outcome: AttemptOutcome;
    let response: TransportResponse | undefined;
    try {
      response = await deliverer.send(prepared, hook, signal);
      outcome = { kind: "response", status: response.status, headers: response.headers };
    } catch (e) {
      outcome = deliverer.fault(e);
    }
    // The request and response bodies are kept once, on the first item's attempt; the others point to
    // it. A success keeps the body's size and hash, not the body (rendered again on demand).
    const batch = { key, size: items.length, recordedOn: first.id };
    const recordOf = (d: RetryDecision) => (d.action === "succeed" ? prepared.slim : prepared.recorded);
    forEach(
      (d) => retry.decide(outcome, { number: d.attempts, maxAttempts: d.maxAttempts }),
      response,
      (_d, isFirst, decision) => ({
        request: isFirst ? { ...recordOf(decision), batch } : { ...withoutBody(recordOf(decision)), batch },
        status: response?.status,
        responseHeaders: response ? redactor.redactDeep(response.headers) : undefined,
        responseBody: response && isFirst ? redactor.redact(response.body) : undefined,
        responseTruncated: response?.truncated,
        errorClass: outcome.kind === "fault" ? outcome.faultClass : undefined,
        error: outcome.kind === "fault" ? outcome.message : undefined,
      }),
    );
    return results;
  }
}

/** A record's method, URL and headers: an item of a batch that points to the attempt holding the body. */
function withoutBody(r: AttemptRecord["request"]): AttemptRecord["request"] {
  return { method: r.method, url: r.url, headers: r.headers };
}
