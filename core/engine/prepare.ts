import { integrationsOf } from "../config/schema.ts";
import type { Catalogue, IntegrationRuntime } from "../contracts/catalogue.ts";
import type { OutboundRequest, TlsIdentity } from "../contracts/http.ts";
import type { AttemptRecord } from "../contracts/store.ts";
import { TransportError } from "../contracts/transport.ts";
import { HooklineError } from "../errors.ts";
import { assertUnderEndpointPrefix } from "../security/endpoint-prefix.ts";
import type { Redactor } from "../security/redact.ts";
import { bodyFingerprint } from "../util/body-hash.ts";
import { responseView, type StepResponse } from "./scenario.ts";
import { type CompiledWebhook, renderRequest } from "./webhooks.ts";

/** A request ready for the wire, and how to record it without credentials. */
export interface PreparedRequest {
  request: OutboundRequest;
  /** The request as rendered, before any integration touched it. */
  rendered: OutboundRequest;
  /** The request as recorded: credentials the integration added are masked (made when first read). */
  readonly recorded: AttemptRecord["request"];
  /**
   * The record of a successful attempt: as `recorded`, with the body's size and hash in place of the
   * body (made when first read).
   */
  readonly slim: AttemptRecord["request"];
  /** The integrations applied, in order. */
  integrations?: IntegrationRuntime[];
}

/** What preparing a request reads: the integrations, and what masks secrets in records. */
export interface PrepareDeps {
  catalogue: Pick<Catalogue, "integrations">;
  redactor: Redactor;
  userAgent?: string;
}

const REDACTED = "[redacted]";
const MAX_RECORDED_BODY = 65_536;

/**
 * Headers the integration added or changed are masked in what is recorded. `slim`: the body's size
 * and hash (of the whole body, masked) in place of the body, for a successful attempt.
 */
export function recordable(
  before: OutboundRequest,
  after: OutboundRequest,
  redactor: Pick<Redactor, "redact">,
  slim = false,
): AttemptRecord["request"] {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(after.headers))
    headers[k] = before.headers[k] === v ? redactor.redact(v) : REDACTED;
  // An integration that put credentials into the URL (query) must not have them recorded: keep the URL it was given.
  const url = redactor.redact(after.url === before.url ? after.url : before.url);
  // Likewise a body an integration changed (a token placed in it): record the body as rendered.
  const kept = after.body === before.body ? after.body : before.body;
  if (kept === undefined) return { method: after.method, url, headers };
  if (slim) return { method: after.method, url, headers, ...bodyFingerprint(redactor.redact(kept)) };
  return { method: after.method, url, headers, body: redactor.redact(kept.slice(0, MAX_RECORDED_BODY)) };
}

/** A prepared request whose records are made when first read (most attempts need only the slim one). */
function prepared(
  redactor: Pick<Redactor, "redact">,
  rendered: OutboundRequest,
  request: OutboundRequest,
  integrations?: IntegrationRuntime[],
): PreparedRequest {
  let recorded: AttemptRecord["request"] | undefined;
  let slim: AttemptRecord["request"] | undefined;
  return {
    request,
    rendered,
    integrations,
    get recorded() {
      recorded ??= recordable(rendered, request, redactor);
      return recorded;
    },
    get slim() {
      slim ??= recordable(rendered, request, redactor, true);
      return slim;
    },
  };
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
 * Renders and authorizes a webhook for a context without sending it (also the test endpoint's
 * path). Throws `NotSent` naming the stage that failed.
 *
 * @example const prepared = await prepareRequest(deps, hook, context, { "idempotency-key": "evt-1:crm" });
 */
export async function prepareRequest(
  deps: PrepareDeps,
  hook: CompiledWebhook,
  context: Record<string, unknown>,
  extraHeaders: Record<string, string> = {},
  signal?: AbortSignal,
): Promise<PreparedRequest> {
  const { redactor } = deps;
  const names = integrationsOf(hook.config);
  const rendered = renderForSend(deps, hook, context, extraHeaders);
  if (names.length === 0) return prepared(redactor, rendered, rendered);
  const used: IntegrationRuntime[] = [];
  for (const name of names) {
    const integration = deps.catalogue.integrations.get(name);
    if (!integration)
      throw new NotSent(
        "config",
        `integration "${name}" is not configured`,
        recordable(rendered, rendered, redactor),
      );
    used.push(integration);
  }
  return prepared(redactor, rendered, await authorizeChain(redactor, rendered, used, signal), used);
}

/**
 * Renders a delivery's request again, as recorded (credentials masked, the body within the record's
 * cap) and without what its integrations add (nothing is authorized, no token fetched): the full
 * request of an attempt whose record kept only the body's size and hash. `bodyHash` is the whole
 * body's, as a successful attempt records it. Throws `NotSent` when it no longer renders.
 *
 * @example const { request, bodyHash } = rerender(deps, hook, delivery.context, delivery.idempotencyKey);
 */
export function rerender(
  deps: PrepareDeps,
  hook: CompiledWebhook,
  context: Record<string, unknown>,
  idempotencyKey: string,
): { request: AttemptRecord["request"]; bodyHash?: string } {
  const rendered = renderForSend(deps, hook, context, { "idempotency-key": idempotencyKey });
  const { recorded, slim } = prepared(deps.redactor, rendered, rendered);
  return { request: recorded, bodyHash: slim.bodyHash };
}

/** The webhook's templates rendered for a context, with the headers every request carries. */
function renderForSend(
  deps: PrepareDeps,
  hook: CompiledWebhook,
  context: Record<string, unknown>,
  extraHeaders: Record<string, string>,
): OutboundRequest {
  const names = integrationsOf(hook.config);
  let rendered: OutboundRequest;
  try {
    // An integration that resolves URLs (Responsys: paths against the account's endpoint) admits paths.
    const first = deps.catalogue.integrations.get(names[0] ?? "");
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
    const url = deps.redactor.redact(hook.config.url);
    throw new NotSent("render", `render: ${(e as Error).message}`, {
      method: hook.config.method,
      url,
      headers: {},
    });
  }
  rendered.headers = { "user-agent": deps.userAgent ?? "hookline/0.1", ...rendered.headers, ...extraHeaders };
  return rendered;
}

/** The TLS client identity sent with a request: the first one an integration presents. */
export const tlsOf = (used: readonly IntegrationRuntime[]): TlsIdentity | undefined =>
  used.map((i) => i.instance.tlsIdentity?.()).find((t) => t !== undefined);

/**
 * Each integration in turn: its URL rewrite, then the endpoint-prefix check, then its credentials —
 * so a signature applied last signs exactly what is sent, and no credential reaches a URL outside
 * the prefix of the integration that holds it.
 *
 * @example const request = await authorizeChain(redactor, rendered, [crm], signal);
 */
export async function authorizeChain(
  redactor: Pick<Redactor, "redact">,
  rendered: OutboundRequest,
  used: readonly IntegrationRuntime[],
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
        recordable(rendered, rendered, redactor),
        e instanceof TransportError,
      );
    }
    try {
      request = await integration.instance.authorize(request, { signal });
    } catch (e) {
      throw new NotSent(
        "auth",
        `authorize (${integration.name}): ${(e as Error).message}`,
        recordable(rendered, rendered, redactor),
        e instanceof TransportError,
      );
    }
  }
  return request;
}
