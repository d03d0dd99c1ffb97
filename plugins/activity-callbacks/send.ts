import {
  assertUnderEndpointPrefix,
  HooklineError,
  NotSent,
  type OutboundRequest,
  type PluginHost,
  sendThroughIntegrations,
  TransportError,
  type TransportResponse,
} from "../../core/plugin/index.ts";
import type { Subscriber } from "./repository.ts";

/**
 * Checks that a subscriber's integration exists and that its URL is under the integration's endpoint
 * prefix; returns the problem, or undefined.
 *
 * @example credentialProblem(host, subscriber) // 'integration "crm" sends credentials only under …'
 */
export function credentialProblem(
  host: Pick<PluginHost, "catalogue">,
  s: Pick<Subscriber, "url" | "integration">,
): string | undefined {
  if (!s.integration) return undefined;
  const { integrations } = host.catalogue;
  const integration = integrations.get(s.integration);
  if (!integration)
    return `unknown integration ${JSON.stringify(s.integration)}; expected one of: ${[...integrations.keys()].join(", ") || "(none configured)"}`;
  try {
    assertUnderEndpointPrefix(s.url, integration.endpointPrefix, s.integration);
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

/**
 * Sends one request to a subscriber through its integration, as the core sends deliveries
 * (`sendThroughIntegrations`: the URL rewrite, the endpoint-prefix check, the credentials, one more
 * try after a 401 the integration refreshed for), over the app's transport (its SSRF guard, and
 * `engine.requireHttps` where that applies). Throws `TransportError` when no HTTP answer came,
 * `NotSent` or `HooklineError` when nothing could be sent.
 *
 * @example const r = await sendToSubscriber(host, subscriber, { method: "POST", url: subscriber.url, headers, body }, signal)
 */
export async function sendToSubscriber(
  host: Pick<PluginHost, "catalogue" | "transport" | "redactor">,
  s: Subscriber,
  request: OutboundRequest,
  signal?: AbortSignal,
): Promise<TransportResponse> {
  const integration = s.integration ? host.catalogue.integrations.get(s.integration) : undefined;
  if (s.integration && !integration)
    throw new HooklineError(
      "HOOKLINE_SUBSCRIBER_INTEGRATION",
      `integration "${s.integration}" is not configured`,
    );
  const rendered: OutboundRequest = {
    ...request,
    headers: { "user-agent": "hookline/0.1", ...request.headers },
  };
  return sendThroughIntegrations(host, rendered, integration ? [integration] : [], {
    timeoutMs: s.timeoutMs,
    maxResponseBytes: 4096,
    signal,
  });
}

/**
 * The test a subscriber's URL must pass when saved through the API (eSputnik's): a GET, answered 200.
 *
 * @example const check = await checkSubscriberUrl(host, subscriber); if (!check.ok) reject(check.status)
 */
export async function checkSubscriberUrl(
  host: Pick<PluginHost, "catalogue" | "transport" | "redactor">,
  s: Subscriber,
): Promise<{ ok: true } | { ok: false; status?: number; error: string }> {
  try {
    const r = await sendToSubscriber(host, s, { method: "GET", url: s.url, headers: {} });
    return r.status === 200
      ? { ok: true }
      : {
          ok: false,
          status: r.status,
          error: `the test GET to the subscriber URL answered ${r.status}, not 200`,
        };
  } catch (e) {
    const cls =
      e instanceof TransportError ? ` (${e.faultClass})` : e instanceof NotSent ? ` (${e.errorClass})` : "";
    return {
      ok: false,
      error: host.redactor.redact(`the test GET to the subscriber URL failed${cls}: ${(e as Error).message}`),
    };
  }
}
