import type { IntegrationRuntime } from "../contracts/catalogue.ts";
import type { OutboundRequest } from "../contracts/http.ts";
import { type Transport, TransportError, type TransportResponse } from "../contracts/transport.ts";
import type { Redactor } from "../security/redact.ts";
import { authorizeChain, NotSent, recordable, tlsOf } from "./prepare.ts";

export { NotSent } from "./prepare.ts";

/** What sending through integrations uses: the app's transport, and what masks secrets in records. */
export interface SendDeps {
  transport: Transport;
  redactor: Pick<Redactor, "redact">;
}

/** Limits of one send, and the request already authorized when the caller prepared it. */
export interface SendOptions {
  timeoutMs: number;
  maxResponseBytes: number;
  signal?: AbortSignal;
  /** `rendered` as `authorizeChain` made it (`prepareRequest` does); authorized here when absent. */
  authorized?: OutboundRequest;
}

/**
 * Sends a rendered request through a webhook's integrations: each one's URL rewrite, the endpoint-
 * prefix check and its credentials, then the transport with the first TLS identity an integration
 * presents. On 401 every integration may refresh its credentials; if one did, the request is
 * authorized once more from `rendered`, the same way, and sent once more. Throws `NotSent` when
 * nothing could be sent or credentials could not be renewed (`retryable` when a fault caused it),
 * `TransportError` when no HTTP answer came.
 *
 * @example
 * const response = await sendThroughIntegrations(host, { method: "GET", url, headers: {} }, [crm], {
 *   timeoutMs: 10_000,
 *   maxResponseBytes: 4096,
 * });
 */
export async function sendThroughIntegrations(
  deps: SendDeps,
  rendered: OutboundRequest,
  integrations: readonly IntegrationRuntime[],
  options: SendOptions,
): Promise<TransportResponse> {
  const { timeoutMs, maxResponseBytes, signal } = options;
  const tls = tlsOf(integrations);
  // A literal of one shape, not a spread: this runs once per delivery.
  const go = ({ method, url, headers, body }: OutboundRequest) =>
    deps.transport.send({ method, url, headers, body, timeoutMs, maxResponseBytes, tls, signal });
  const first = options.authorized ?? (await authorizeChain(deps.redactor, rendered, integrations, signal));
  const response = await go(first);
  if (response.status !== 401) return response;
  // A 401 may mean an expired token: integrations that can refresh do, and the request goes once more.
  let again: OutboundRequest;
  try {
    let refreshed = false;
    for (const i of integrations)
      if (i.instance.onUnauthorized && (await i.instance.onUnauthorized(first))) refreshed = true;
    if (!refreshed) return response;
    again = await authorizeChain(deps.redactor, rendered, integrations, signal);
  } catch (e) {
    // A refresh the token endpoint refused (a revoked grant) needs a person, not another attempt; a
    // token endpoint that could not be reached is a fault like any other and is retried.
    if (e instanceof NotSent || e instanceof TransportError) throw e;
    throw new NotSent(
      "auth",
      `authorize after 401: ${(e as Error).message}`,
      recordable(rendered, first, deps.redactor),
    );
  }
  return go(again);
}
