import { integrationsOf } from "../config/schema.ts";
import type { AuthIntegration } from "../contracts/auth.ts";
import type { OutboundRequest, TlsIdentity } from "../contracts/http.ts";
import type { Logger } from "../contracts/logger.ts";
import type { AttemptOutcome, RetryDecision, RetryPolicy } from "../contracts/retry.ts";
import type {
  AttemptRecord,
  ClaimedDelivery,
  DeliveryNext,
  DeliveryResult,
  NewDelivery,
  OutcomeDelivery,
} from "../contracts/store.ts";
import { type Transport, TransportError, type TransportResponse } from "../contracts/transport.ts";
import { HooklineError } from "../errors.ts";
import { assertUnderEndpointPrefix } from "../security/endpoint-prefix.ts";
import type { Redactor } from "../security/redact.ts";
import { nextStep, responseView, type StepResponse } from "./scenario.ts";
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
  /** The deliveries the fail branch makes of a failed or halted delivery (`webhook.failed` triggers). */
  failBranch?: (failure: FailedDelivery) => NewDelivery[];
}

/** What the fail branch knows of a delivery that did not make it. */
export interface FailedDelivery {
  delivery: OutcomeDelivery;
  /** `aborted`: ended unsent with the rest of a run that saw too many unrecoverable outcomes. */
  status: "failed" | "halted" | "aborted";
  reason: string;
  response?: { status: number; body: string };
}

/** What an integration's test request came to. */
export interface IntegrationTestResult {
  ok: boolean;
  status?: number;
  request?: { method: string; url: string };
  reason?: string;
}

/** A request ready for the wire, and how to record it without credentials. */
export interface PreparedRequest {
  request: OutboundRequest;
  /** The request as rendered, before any integration touched it. */
  rendered: OutboundRequest;
  /** The request as recorded: credentials the integration added are masked. */
  recorded: AttemptRecord["request"];
  tls?: TlsIdentity;
  /** The integrations applied, in order. */
  integrations?: IntegrationRuntime[];
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
  // Likewise a body an integration changed (a token placed in it): record the body as rendered.
  const kept = after.body === before.body ? after.body : before.body;
  const body = kept === undefined ? undefined : redactor.redact(kept.slice(0, MAX_RECORDED_BODY));
  return { method: after.method, url, headers, body };
}

/** Ends in a failure that sent nothing (render, scope, authorization): the reason says which. */
export class NotSent extends Error {
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

  /** The options it runs with (retry policy, redactor, limits), for the batch path. */
  get options(): DelivererOptions {
    return this.o;
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
      // An integration that resolves URLs (Responsys: paths against the account's endpoint) admits paths.
      const first = this.o.integrations.get(integrationsOf(hook.config)[0] ?? "");
      rendered = renderRequest(
        hook,
        {
          ...context,
          ...responseView(context.responses as StepResponse[] | undefined),
          webhook: { name: hook.name },
        },
        { allowPath: Boolean(first?.instance.resolveUrl) },
      );
    } catch (e) {
      throw new NotSent("render", `render: ${(e as Error).message}`, fallback);
    }
    rendered.headers = {
      "user-agent": this.o.userAgent ?? "hookline/0.1",
      ...rendered.headers,
      ...extraHeaders,
    };
    const names = integrationsOf(hook.config);
    if (names.length === 0)
      return { request: rendered, rendered, recorded: recordable(rendered, rendered, this.o.redactor) };
    const used: IntegrationRuntime[] = [];
    for (const name of names) {
      const integration = this.o.integrations.get(name);
      if (!integration) {
        throw new NotSent(
          "config",
          `integration "${name}" is not configured`,
          recordable(rendered, rendered, this.o.redactor),
        );
      }
      used.push(integration);
    }
    const authorized = await this.authorizeChain(rendered, used, signal);
    return {
      request: authorized,
      rendered,
      recorded: recordable(rendered, authorized, this.o.redactor),
      tls: used.map((i) => i.instance.tlsIdentity?.()).find((t) => t !== undefined),
      integrations: used,
    };
  }

  /**
   * Each integration in turn: its URL rewrite, then the endpoint-prefix check, then its credentials —
   * so a signature applied last signs exactly what is sent, and no credential reaches a URL outside
   * the prefix of the integration that holds it.
   */
  private async authorizeChain(
    rendered: OutboundRequest,
    used: IntegrationRuntime[],
    signal?: AbortSignal,
  ): Promise<OutboundRequest> {
    let request: OutboundRequest = { ...rendered, headers: { ...rendered.headers } };
    for (const integration of used) {
      try {
        if (integration.instance.resolveUrl)
          request.url = await integration.instance.resolveUrl(request.url, { signal });
        assertUnderEndpointPrefix(request.url, integration.endpointPrefix, integration.name);
      } catch (e) {
        const cls = e instanceof HooklineError && e.code === "HOOKLINE_AUTH_SCOPE" ? "scope" : "auth";
        throw new NotSent(
          cls,
          (e as Error).message,
          recordable(rendered, rendered, this.o.redactor),
          e instanceof TransportError,
        );
      }
      try {
        request = await integration.instance.authorize(request, { signal });
      } catch (e) {
        throw new NotSent(
          "auth",
          `authorize (${integration.name}): ${(e as Error).message}`,
          recordable(rendered, rendered, this.o.redactor),
          e instanceof TransportError,
        );
      }
    }
    return request;
  }

  /**
   * Sends an integration's test request: an empty body to its test path under the endpoint prefix,
   * with its credentials. Success is HTTP 200 only; otherwise a short reason without secrets.
   */
  async testIntegration(
    name: string,
    test: { method: OutboundRequest["method"]; path: string },
  ): Promise<IntegrationTestResult> {
    const integration = this.o.integrations.get(name);
    if (!integration) return { ok: false, reason: `no integration "${name}"` };
    const prefix = integration.endpointPrefix.endsWith("/")
      ? integration.endpointPrefix
      : `${integration.endpointPrefix}/`;
    const url = new URL(test.path, test.path.startsWith("/") ? new URL(prefix).origin : prefix).href;
    const rendered: OutboundRequest = {
      method: test.method,
      url,
      headers: { "user-agent": this.o.userAgent ?? "hookline/0.1" },
    };
    const shown = { method: test.method, url: this.o.redactor.redact(url) };
    let request: OutboundRequest;
    try {
      request = await this.authorizeChain(rendered, [integration]);
    } catch (e) {
      return { ok: false, request: shown, reason: (e as Error).message };
    }
    try {
      const response = await this.o.transport.send({
        ...request,
        timeoutMs: this.o.timeoutMs,
        maxResponseBytes: 2_048,
        tls: integration.instance.tlsIdentity?.(),
      });
      if (response.status === 200) return { ok: true, status: 200, request: shown };
      const excerpt = this.o.redactor.redact(response.body.slice(0, 200)).replace(/\s+/g, " ").trim();
      return {
        ok: false,
        status: response.status,
        request: shown,
        reason: `HTTP ${response.status}${excerpt ? `: ${excerpt}` : ""}`,
      };
    } catch (e) {
      const cls = e instanceof TransportError ? e.faultClass : "network";
      return { ok: false, request: shown, reason: `${cls}: ${this.o.redactor.redact((e as Error).message)}` };
    }
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
    if (response.status !== 401) return response;
    // A 401 may mean an expired token: integrations that can refresh do, and the request goes once more.
    let again: OutboundRequest;
    try {
      let refreshed = false;
      for (const i of prepared.integrations ?? [])
        if (i.instance.onUnauthorized && (await i.instance.onUnauthorized(prepared.request)))
          refreshed = true;
      if (!refreshed) return response;
      again = await this.authorizeChain(prepared.rendered, prepared.integrations ?? [], signal);
    } catch (e) {
      // A refresh the token endpoint refused (a revoked grant) needs a person, not another attempt; a
      // token endpoint that could not be reached is a fault like any other and is retried.
      if (e instanceof NotSent) throw e;
      if (e instanceof TransportError) throw e;
      throw new NotSent("auth", `authorize after 401: ${(e as Error).message}`, prepared.recorded);
    }
    return go(again);
  }

  /**
   * The fail branch: a failed or halted outcome raises `webhook.failed`, whose triggers' deliveries are
   * written with the outcome or not at all (`followUps`). Returns the result it was given.
   */
  failBranch(
    result: DeliveryResult,
    delivery: OutcomeDelivery,
    decision: RetryDecision,
    response?: TransportResponse,
  ): DeliveryResult {
    if ((decision.action !== "fail" && decision.action !== "halt") || !this.o.failBranch) return result;
    const branch = this.o.failBranch({
      delivery,
      status: decision.action === "fail" ? "failed" : "halted",
      reason: decision.reason,
      response: response
        ? { status: response.status, body: this.o.redactor.redact(response.body) }
        : undefined,
    });
    if (branch.length > 0) result.followUps = [...(result.followUps ?? []), ...branch];
    return result;
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
      delivery,
    });
    const attemptNo = { number: delivery.attempts, maxAttempts: delivery.maxAttempts };
    // A failure that sent nothing, or whose credentials could not be renewed: retried only when its
    // cause was a fault (a token endpoint down), else failed with its reason.
    const notSent = (ns: NotSent): DeliveryResult => {
      const decision: RetryDecision = ns.retryable
        ? this.o.retry.decide({ kind: "fault", faultClass: "network", message: ns.message }, attemptNo)
        : { action: "fail", reason: ns.message };
      return this.failBranch(
        result(
          { request: ns.request, errorClass: ns.errorClass, error: ns.message, outcome: outcomeOf(decision) },
          nextOf(decision),
        ),
        delivery,
        decision,
      );
    };

    const hook = this.o.webhooks.get(delivery.webhook);
    if (!hook) {
      const reason = `webhook "${delivery.webhook}" is no longer configured`;
      return this.failBranch(
        result(
          {
            request: { method: "POST", url: "", headers: {} },
            errorClass: "config",
            error: reason,
            outcome: "failed",
          },
          { status: "failed", reason },
        ),
        delivery,
        { action: "fail", reason },
      );
    }
    const halted = this.haltedReason(delivery.webhook, delivery.runId);
    if (halted) {
      const reason = `run halted: ${halted}`;
      return this.failBranch(
        result(
          {
            request: { method: hook.config.method, url: "", headers: {} },
            errorClass: "halted",
            error: `not sent: ${halted}`,
            outcome: "halted",
          },
          { status: "halted", reason },
        ),
        delivery,
        { action: "halt", reason },
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
      return notSent(e as NotSent);
    }

    let outcome: AttemptOutcome;
    let response: TransportResponse | undefined;
    try {
      response = await this.send(prepared, hook, signal);
      outcome = { kind: "response", status: response.status, headers: response.headers };
    } catch (e) {
      if (e instanceof NotSent) return notSent(e);
      const fault =
        e instanceof TransportError ? e : new TransportError("network", (e as Error).message, { cause: e });
      outcome = {
        kind: "fault",
        faultClass: fault.faultClass,
        message: this.o.redactor.redact(fault.message),
      };
    }
    const decision = this.o.retry.decide(outcome, attemptNo);
    if (decision.action === "halt") this.noteHalt(delivery.webhook, delivery.runId, decision.reason);
    const done = result(
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
    this.failBranch(done, delivery, decision, response);
    // A scenario goes on to its next step only after this one succeeded, with its response.
    if (decision.action === "succeed" && response && hook.config.next) {
      const next = nextStep(hook, this.o.webhooks.get(hook.config.next), delivery, response, this.o.retry);
      if (next) done.followUps = [next];
      else
        this.o.logger.log("warn", "scenario stops: next step missing or too many steps", {
          webhook: hook.name,
          next: hook.config.next,
        });
    }
    return done;
  }
}

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
