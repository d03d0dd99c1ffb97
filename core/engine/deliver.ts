import type { Catalogue } from "../contracts/catalogue.ts";
import type { OutboundRequest } from "../contracts/http.ts";
import type { Logger } from "../contracts/logger.ts";
import type { AttemptOutcome, RetryDecision, RetryPolicy } from "../contracts/retry.ts";
import type { AttemptRecord, ClaimedDelivery, DeliveryNext, DeliveryResult } from "../contracts/store.ts";
import { type Transport, TransportError, type TransportResponse } from "../contracts/transport.ts";
import type { Redactor } from "../security/redact.ts";
import { Telemetry } from "../telemetry/telemetry.ts";
import type { FailBranch } from "./fail-branch.ts";
import { type IntegrationTestResult, testIntegration } from "./integration-test.ts";
import { NotSent, type PreparedRequest, prepareRequest, rerender } from "./prepare.ts";
import type { RetryPolicies } from "./retry-policies.ts";
import { nextStep } from "./scenario.ts";
import { sendThroughIntegrations } from "./send.ts";
import type { CompiledWebhook } from "./webhooks.ts";

export type { IntegrationRuntime } from "../contracts/catalogue.ts";
export type { FailedDelivery } from "./fail-branch.ts";
export type { IntegrationTestResult } from "./integration-test.ts";
export { NotSent, type PreparedRequest } from "./prepare.ts";

export interface DelivererOptions {
  /** Webhooks and integrations, read at every attempt (admin API changes apply to the next one). */
  catalogue: Pick<Catalogue, "webhooks" | "integrations">;
  transport: Transport;
  retry: RetryPolicies;
  redactor: Redactor;
  logger: Logger;
  timeoutMs: number;
  maxResponseBytes: number;
  userAgent?: string;
  /** Follow-up deliveries of failed and halted ones (`webhook.failed` triggers). */
  failBranch?: FailBranch;
  /** Spans per attempt and the `traceparent` they send; default the OpenTelemetry API's globals. */
  telemetry?: Telemetry;
}

let globalTelemetry: Telemetry | undefined;
/** One Telemetry over the OpenTelemetry API's globals for every deliverer made without its own. */
const globals = (): Telemetry => {
  globalTelemetry ??= new Telemetry();
  return globalTelemetry;
};

/** What an attempt came to, before it is recorded: the decision and what the attempt record holds. */
export interface Verdict {
  decision: RetryDecision;
  attempt: Omit<AttemptRecord, "deliveryId" | "number" | "startedAt" | "durationMs" | "outcome">;
  response?: TransportResponse;
  /** The webhook attempted (absent when it is gone). */
  hook?: CompiledWebhook;
}

/** When an attempt started, for its record. */
export interface AttemptClock {
  startedAt: string;
  t0: number;
}

export const startClock = (): AttemptClock => ({
  startedAt: new Date().toISOString(),
  t0: performance.now(),
});

/** Where a result's delivery stands in the queue: its id, lease, webhook, run, policy and stream. */
export const queuePlace = (d: ClaimedDelivery) => ({
  deliveryId: d.id,
  leaseOwner: d.leaseOwner ?? "",
  webhook: d.webhook,
  runId: d.runId,
  policy: d.policy,
  orderingKey: d.orderingKey,
});

/**
 * Runs one attempt of one delivery as one pipeline — find the webhook, check its run, render and
 * authorize, send, classify by the webhook's retry policy — and settles the verdict once: the
 * attempt record, what comes next, the fail branch, a scenario's next step. Never throws: every
 * outcome is a `DeliveryResult` to record (delivered, retried, or failed with a reason).
 *
 * @example const result = await deliverer.attempt(claimedDelivery);
 */
export class Deliverer {
  /** Runs halted in this process, so that claimed siblings are not sent before the store catches up. */
  private readonly haltedRuns = new Map<string, string>();

  /** Where attempts are traced. */
  readonly telemetry: Telemetry;

  constructor(private readonly o: DelivererOptions) {
    this.telemetry = o.telemetry ?? globals();
  }

  /** The options it runs with (retry policies, redactor, limits), for the batch path. */
  get options(): DelivererOptions {
    return this.o;
  }

  /** The retry policy of a webhook. */
  retryOf(hook: CompiledWebhook | undefined): RetryPolicy {
    return this.o.retry.of(hook);
  }

  /** Why a run of a webhook was halted in this process, if it was. */
  haltedReason(webhook: string, runId: string): string | undefined {
    return this.haltedRuns.get(`${webhook}\u0000${runId}`);
  }

  /** Remembers a halt, so that claimed siblings are not sent before the store catches up. */
  noteHalt(webhook: string, runId: string, reason: string): void {
    // Bounded: the store holds every halt; this map only spares siblings claimed in the same breath.
    if (this.haltedRuns.size > 10_000) this.haltedRuns.clear();
    this.haltedRuns.set(`${webhook}\u0000${runId}`, reason);
  }

  /** Renders and authorizes a webhook for a context without sending it (also the test endpoint's path). */
  prepare(
    hook: CompiledWebhook,
    context: Record<string, unknown>,
    extraHeaders: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<PreparedRequest> {
    return prepareRequest(this.o, hook, context, extraHeaders, signal);
  }

  /**
   * A delivery's request rendered again now, as recorded (credentials masked, nothing authorized),
   * with the whole body's hash: the full request of an attempt whose record kept only its body's size
   * and hash. Throws `NotSent` when the webhook no longer renders for it.
   */
  rerender(
    hook: CompiledWebhook,
    delivery: Pick<ClaimedDelivery, "context" | "idempotencyKey">,
  ): ReturnType<typeof rerender> {
    return rerender(this.o, hook, delivery.context, delivery.idempotencyKey);
  }

  /** Sends an integration's test request (see `testIntegration`). */
  testIntegration(
    name: string,
    test: { method: OutboundRequest["method"]; path: string },
  ): Promise<IntegrationTestResult> {
    return testIntegration(this.o, name, test);
  }

  /** Sends a prepared request; on 401 an integration may refresh its credentials for one more try. */
  send(prepared: PreparedRequest, hook: CompiledWebhook, signal?: AbortSignal): Promise<TransportResponse> {
    return sendThroughIntegrations(this.o, prepared.rendered, prepared.integrations ?? [], {
      authorized: prepared.request,
      timeoutMs: hook.config.timeout ?? this.o.timeoutMs,
      maxResponseBytes: this.o.maxResponseBytes,
      signal,
    });
  }

  async attempt(delivery: ClaimedDelivery, signal?: AbortSignal): Promise<DeliveryResult> {
    const clock = startClock();
    // A span per attempt, a child of the publisher's: its context goes out as `traceparent`.
    const span = this.telemetry.startAttempt(delivery);
    const result = this.settle(delivery, await this.verdict(delivery, span.traceparent, signal), clock);
    span.end(result);
    return result;
  }

  /** The pipeline: each stage either hands on or ends in a verdict. */
  private async verdict(
    delivery: ClaimedDelivery,
    traceparent: string,
    signal?: AbortSignal,
  ): Promise<Verdict> {
    const hook = this.o.catalogue.webhooks.get(delivery.webhook);
    if (!hook) {
      const reason = `webhook "${delivery.webhook}" is no longer configured`;
      return unsent({ method: "POST", url: "", headers: {} }, "config", reason, { action: "fail", reason });
    }
    const halted = this.haltedReason(delivery.webhook, delivery.runId);
    if (halted)
      return unsent({ method: hook.config.method, url: "", headers: {} }, "halted", `not sent: ${halted}`, {
        action: "halt",
        reason: `run halted: ${halted}`,
      });
    const retry = this.retryOf(hook);
    const attemptNo = { number: delivery.attempts, maxAttempts: delivery.maxAttempts };
    let prepared: PreparedRequest;
    let response: TransportResponse | undefined;
    let outcome: AttemptOutcome;
    try {
      prepared = await this.prepare(
        hook,
        delivery.context,
        { "idempotency-key": delivery.idempotencyKey, traceparent },
        signal,
      );
    } catch (e) {
      return { ...this.notSent(e as NotSent, retry, attemptNo), hook };
    }
    try {
      response = await this.send(prepared, hook, signal);
      outcome = { kind: "response", status: response.status, headers: response.headers };
    } catch (e) {
      if (e instanceof NotSent) return { ...this.notSent(e, retry, attemptNo), hook };
      outcome = this.fault(e);
    }
    const decision = retry.decide(outcome, attemptNo);
    return {
      hook,
      decision,
      response,
      attempt: {
        // A success keeps the body's size and hash, not the body (rendered again on demand).
        request: decision.action === "succeed" ? prepared.slim : prepared.recorded,
        status: response?.status,
        responseHeaders: response ? this.o.redactor.redactDeep(response.headers) : undefined,
        responseBody: response ? this.o.redactor.redact(response.body) : undefined,
        responseTruncated: response?.truncated,
        errorClass: outcome.kind === "fault" ? outcome.faultClass : undefined,
        error: outcome.kind === "fault" ? outcome.message : undefined,
      },
    };
  }

  /** A fault as the retry policy sees it, its message redacted. */
  fault(e: unknown): AttemptOutcome & { kind: "fault" } {
    const fault =
      e instanceof TransportError ? e : new TransportError("network", (e as Error).message, { cause: e });
    return { kind: "fault", faultClass: fault.faultClass, message: this.o.redactor.redact(fault.message) };
  }

  /**
   * A failure that sent nothing, or whose credentials could not be renewed: retried only when its
   * cause was a fault (a token endpoint down), else failed with its reason.
   */
  notSent(ns: NotSent, retry: RetryPolicy, attemptNo: { number: number; maxAttempts: number }): Verdict {
    const decision: RetryDecision = ns.retryable
      ? retry.decide({ kind: "fault", faultClass: "network", message: ns.message }, attemptNo)
      : { action: "fail", reason: ns.message };
    return { decision, attempt: { request: ns.request, errorClass: ns.errorClass, error: ns.message } };
  }

  /**
   * Turns a verdict into the result the store records: the attempt, what comes next, a halt noted
   * for claimed siblings, the fail branch's follow-ups after a failure or halt, and a scenario's
   * next step after a success. One place, for single and batch attempts alike.
   */
  settle(delivery: ClaimedDelivery, verdict: Verdict, clock: AttemptClock): DeliveryResult {
    const { decision, attempt, response, hook } = verdict;
    if (decision.action === "halt") this.noteHalt(delivery.webhook, delivery.runId, decision.reason);
    const result: DeliveryResult = {
      ...queuePlace(delivery),
      attempt: {
        deliveryId: delivery.id,
        number: delivery.attempts,
        startedAt: clock.startedAt,
        durationMs: performance.now() - clock.t0,
        ...attempt,
        error: attempt.error === undefined ? undefined : this.o.redactor.redact(attempt.error),
        outcome: outcomeOf(decision),
      },
      next: nextOf(decision),
      delivery,
    };
    if ((decision.action === "fail" || decision.action === "halt") && this.o.failBranch) {
      const branch = this.o.failBranch.of({
        delivery,
        status: decision.action === "fail" ? "failed" : "halted",
        reason: decision.reason,
        response: response
          ? { status: response.status, body: this.o.redactor.redact(response.body) }
          : undefined,
      });
      if (branch.length > 0) result.followUps = branch;
    }
    // A scenario goes on to its next step only after this one succeeded, with its response.
    if (decision.action === "succeed" && response && hook?.config.next) {
      const nextHook = this.o.catalogue.webhooks.get(hook.config.next);
      const next = nextStep(hook, nextHook, delivery, response, this.retryOf(nextHook));
      if (next) result.followUps = [next];
      else
        this.o.logger.log("warn", "scenario.stopped", {
          webhook: hook.name,
          next: hook.config.next,
        });
    }
    return result;
  }
}

const unsent = (
  request: AttemptRecord["request"],
  errorClass: string,
  error: string,
  decision: RetryDecision,
): Verdict => ({ decision, attempt: { request, errorClass, error } });

export const outcomeOf = (d: RetryDecision): AttemptRecord["outcome"] =>
  d.action === "succeed"
    ? "succeeded"
    : d.action === "retry"
      ? "retry"
      : d.action === "halt"
        ? "halted"
        : "failed";

export const nextOf = (d: RetryDecision): DeliveryNext =>
  d.action === "succeed"
    ? { status: "succeeded" }
    : d.action === "retry"
      ? { status: "pending", delayMs: d.delayMs, reason: d.reason }
      : d.action === "halt"
        ? { status: "halted", reason: d.reason }
        : { status: "failed", reason: d.reason };
