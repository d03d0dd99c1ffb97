import type { AuthIntegration } from "../contracts/auth.ts";
import type { OutboundRequest, TlsIdentity } from "../contracts/http.ts";
import type { Logger } from "../contracts/logger.ts";
import type { AttemptOutcome, RetryDecision, RetryPolicy } from "../contracts/retry.ts";
import type { AttemptRecord, ClaimedDelivery, DeliveryNext, DeliveryResult } from "../contracts/store.ts";
import { type Transport, TransportError, type TransportResponse } from "../contracts/transport.ts";
import { HooklineError } from "../errors.ts";
import { assertUnderEndpointPrefix } from "../security/endpoint-prefix.ts";
import type { Redactor } from "../security/redact.ts";
import { type CompiledWebhook, renderRequest } from "./webhooks.ts";

/** An integration made from config, with the prefix the core enforces. */
export interface IntegrationRuntime {
  name: string;
  endpointPrefix: string;
  instance: AuthIntegration;
}

export interface DelivererOptions {
  webhooks: ReadonlyMap<string, CompiledWebhook>;
  integrations: ReadonlyMap<string, IntegrationRuntime>;
  transport: Transport;
  retry: RetryPolicy;
  redactor: Redactor;
  logger: Logger;
  timeoutMs: number;
  maxResponseBytes: number;
  userAgent?: string;
}

/** A request ready for the wire, and how to record it without credentials. */
export interface PreparedRequest {
  request: OutboundRequest;
  /** The request as recorded: credentials the integration added are masked. */
  recorded: AttemptRecord["request"];
  tls?: TlsIdentity;
  integration?: IntegrationRuntime;
}

const REDACTED = "[redacted]";
const MAX_RECORDED_BODY = 65_536;

/** Headers the integration added or changed are masked in what is recorded. */
function recordable(
  before: OutboundRequest,
  after: OutboundRequest,
  redactor: Redactor,
): AttemptRecord["request"] {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(after.headers))
    headers[k] = before.headers[k] === v ? redactor.redact(v) : REDACTED;
  // An integration that put credentials into the URL (query) must not have them recorded: keep the URL it was given.
  const url = redactor.redact(after.url === before.url ? after.url : before.url);
  const body = after.body === undefined ? undefined : redactor.redact(after.body.slice(0, MAX_RECORDED_BODY));
  return { method: after.method, url, headers, body };
}

/** Ends in a failure that sent nothing (render, scope, authorization): the reason says which. */
class NotSent extends Error {
  constructor(
    readonly errorClass: string,
    message: string,
    readonly request: AttemptRecord["request"],
    readonly retryable = false,
  ) {
    super(message);
  }
}

/**
 * Runs one attempt of one delivery: render, endpoint-prefix check, authorize, send, classify. Never
 * throws: every outcome is a `DeliveryResult` to record (delivered, retried, or failed with a reason).
 *
 * @example const result = await deliverer.attempt(claimedDelivery);
 */
export class Deliverer {
  /** Runs halted in this process, so that claimed siblings are not sent before the store catches up. */
  private readonly haltedRuns = new Map<string, string>();

  constructor(private readonly o: DelivererOptions) {}

  /** Renders and authorizes a webhook for a context without sending it (also the test endpoint's path). */
  async prepare(
    hook: CompiledWebhook,
    context: Record<string, unknown>,
    extraHeaders: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<PreparedRequest> {
    const fallback = {
      method: hook.config.method,
      url: this.o.redactor.redact(hook.config.url),
      headers: {},
    };
    let rendered: OutboundRequest;
    try {
      rendered = renderRequest(hook, { ...context, webhook: { name: hook.name } });
    } catch (e) {
      throw new NotSent("render", `render: ${(e as Error).message}`, fallback);
    }
    rendered.headers = {
      "user-agent": this.o.userAgent ?? "hookline/0.1",
      ...rendered.headers,
      ...extraHeaders,
    };
    const name = hook.config.integration;
    if (!name) return { request: rendered, recorded: recordable(rendered, rendered, this.o.redactor) };
    const integration = this.o.integrations.get(name);
    if (!integration)
      throw new NotSent(
        "config",
        `integration "${name}" is not configured`,
        recordable(rendered, rendered, this.o.redactor),
      );
    try {
      if (integration.instance.resolveUrl)
        rendered.url = await integration.instance.resolveUrl(rendered.url, { signal });
      assertUnderEndpointPrefix(rendered.url, integration.endpointPrefix, name);
    } catch (e) {
      const cls = e instanceof HooklineError && e.code === "HOOKLINE_AUTH_SCOPE" ? "scope" : "auth";
      throw new NotSent(
        cls,
        (e as Error).message,
        recordable(rendered, rendered, this.o.redactor),
        e instanceof TransportError,
      );
    }
    let authorized: OutboundRequest;
    try {
      authorized = await integration.instance.authorize(
        { ...rendered, headers: { ...rendered.headers } },
        { signal },
      );
    } catch (e) {
      const retryable = e instanceof TransportError;
      throw new NotSent(
        "auth",
        `authorize (${name}): ${(e as Error).message}`,
        recordable(rendered, rendered, this.o.redactor),
        retryable,
      );
    }
    return {
      request: authorized,
      recorded: recordable(rendered, authorized, this.o.redactor),
      tls: integration.instance.tlsIdentity?.(),
      integration,
    };
  }

  /** Sends a prepared request; on 401 an integration may refresh its credentials for one more try. */
  async send(
    prepared: PreparedRequest,
    hook: CompiledWebhook,
    signal?: AbortSignal,
  ): Promise<TransportResponse> {
    const timeoutMs = hook.config.timeout ?? this.o.timeoutMs;
    const go = (req: OutboundRequest) =>
      this.o.transport.send({
        ...req,
        timeoutMs,
        maxResponseBytes: this.o.maxResponseBytes,
        tls: prepared.tls,
        signal,
      });
    const response = await go(prepared.request);
    const integration = prepared.integration;
    if (
      response.status === 401 &&
      integration?.instance.onUnauthorized &&
      (await integration.instance.onUnauthorized())
    ) {
      const again = await integration.instance.authorize({ ...prepared.request }, { signal });
      return go(again);
    }
    return response;
  }

  async attempt(delivery: ClaimedDelivery, signal?: AbortSignal): Promise<DeliveryResult> {
    const startedAt = new Date();
    const t0 = performance.now();
    const result = (
      attempt: Omit<AttemptRecord, "deliveryId" | "number" | "startedAt" | "durationMs">,
      next: DeliveryNext,
    ): DeliveryResult => ({
      deliveryId: delivery.id,
      leaseOwner: delivery.leaseOwner ?? "",
      webhook: delivery.webhook,
      runId: delivery.runId,
      attempt: {
        deliveryId: delivery.id,
        number: delivery.attempts,
        startedAt: startedAt.toISOString(),
        durationMs: performance.now() - t0,
        ...attempt,
        error: attempt.error === undefined ? undefined : this.o.redactor.redact(attempt.error),
      },
      next,
    });
    const attemptNo = { number: delivery.attempts, maxAttempts: delivery.maxAttempts };

    const hook = this.o.webhooks.get(delivery.webhook);
    if (!hook) {
      return result(
        {
          request: { method: "POST", url: "", headers: {} },
          errorClass: "config",
          error: `webhook "${delivery.webhook}" is no longer configured`,
          outcome: "failed",
        },
        { status: "failed", reason: `webhook "${delivery.webhook}" is no longer configured` },
      );
    }
    const halted = this.haltedRuns.get(`${delivery.webhook}\u0000${delivery.runId}`);
    if (halted) {
      return result(
        {
          request: { method: hook.config.method, url: "", headers: {} },
          errorClass: "halted",
          error: `not sent: ${halted}`,
          outcome: "halted",
        },
        { status: "halted", reason: `run halted: ${halted}` },
      );
    }

    let prepared: PreparedRequest;
    try {
      prepared = await this.prepare(
        hook,
        delivery.context,
        { "idempotency-key": delivery.idempotencyKey },
        signal,
      );
    } catch (e) {
      const ns = e as NotSent;
      const decision: RetryDecision = ns.retryable
        ? this.o.retry.decide({ kind: "fault", faultClass: "network", message: ns.message }, attemptNo)
        : { action: "fail", reason: ns.message };
      return result(
        { request: ns.request, errorClass: ns.errorClass, error: ns.message, outcome: outcomeOf(decision) },
        nextOf(decision),
      );
    }

    let outcome: AttemptOutcome;
    let response: TransportResponse | undefined;
    try {
      response = await this.send(prepared, hook, signal);
      outcome = { kind: "response", status: response.status, headers: response.headers };
    } catch (e) {
      const fault =
        e instanceof TransportError ? e : new TransportError("network", (e as Error).message, { cause: e });
      outcome = {
        kind: "fault",
        faultClass: fault.faultClass,
        message: this.o.redactor.redact(fault.message),
      };
    }
    const decision = this.o.retry.decide(outcome, attemptNo);
    // Bounded: the store holds every halt; this map only spares siblings claimed in the same breath.
    if (this.haltedRuns.size > 10_000) this.haltedRuns.clear();
    if (decision.action === "halt")
      this.haltedRuns.set(`${delivery.webhook}\u0000${delivery.runId}`, decision.reason);
    return result(
      {
        request: prepared.recorded,
        status: response?.status,
        responseHeaders: response ? this.o.redactor.redactDeep(response.headers) : undefined,
        responseBody: response ? this.o.redactor.redact(response.body) : undefined,
        responseTruncated: response?.truncated,
        errorClass: outcome.kind === "fault" ? outcome.faultClass : undefined,
        error: outcome.kind === "fault" ? outcome.message : undefined,
        outcome: outcomeOf(decision),
      },
      nextOf(decision),
    );
  }
}

const outcomeOf = (d: RetryDecision): AttemptRecord["outcome"] =>
  d.action === "succeed"
    ? "succeeded"
    : d.action === "retry"
      ? "retry"
      : d.action === "halt"
        ? "halted"
        : "failed";

const nextOf = (d: RetryDecision): DeliveryNext =>
  d.action === "succeed"
    ? { status: "succeeded" }
    : d.action === "retry"
      ? { status: "pending", delayMs: d.delayMs, reason: d.reason }
      : d.action === "halt"
        ? { status: "halted", reason: d.reason }
        : { status: "failed", reason: d.reason };
