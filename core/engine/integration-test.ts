import type { Catalogue } from "../contracts/catalogue.ts";
import type { OutboundRequest } from "../contracts/http.ts";
import { type Transport, TransportError } from "../contracts/transport.ts";
import type { Redactor } from "../security/redact.ts";
import { NotSent, sendThroughIntegrations } from "./send.ts";

/** What an integration's test request came to. */
export interface IntegrationTestResult {
  ok: boolean;
  status?: number;
  request?: { method: string; url: string };
  reason?: string;
}

/**
 * Sends an integration's test request: an empty body to its test path under the endpoint prefix,
 * with its credentials, once more after a 401 if the integration refreshed them (as deliveries do).
 * Success is HTTP 200 only; otherwise a short reason without secrets.
 *
 * @example await testIntegration(deps, "crm", { method: "GET", path: "/ping" }) // { ok: true, status: 200, … }
 */
export async function testIntegration(
  deps: {
    catalogue: Pick<Catalogue, "integrations">;
    transport: Transport;
    redactor: Redactor;
    timeoutMs: number;
    userAgent?: string;
  },
  name: string,
  test: { method: OutboundRequest["method"]; path: string },
): Promise<IntegrationTestResult> {
  const integration = deps.catalogue.integrations.get(name);
  if (!integration) return { ok: false, reason: `no integration "${name}"` };
  const prefix = integration.endpointPrefix.endsWith("/")
    ? integration.endpointPrefix
    : `${integration.endpointPrefix}/`;
  const url = new URL(test.path, test.path.startsWith("/") ? new URL(prefix).origin : prefix).href;
  const rendered: OutboundRequest = {
    method: test.method,
    url,
    headers: { "user-agent": deps.userAgent ?? "hookline/0.1" },
  };
  const shown = { method: test.method, url: deps.redactor.redact(url) };
  try {
    const response = await sendThroughIntegrations(deps, rendered, [integration], {
      timeoutMs: deps.timeoutMs,
      maxResponseBytes: 2_048,
    });
    if (response.status === 200) return { ok: true, status: 200, request: shown };
    const excerpt = deps.redactor.redact(response.body.slice(0, 200)).replace(/\s+/g, " ").trim();
    return {
      ok: false,
      status: response.status,
      request: shown,
      reason: `HTTP ${response.status}${excerpt ? `: ${excerpt}` : ""}`,
    };
  } catch (e) {
    if (e instanceof NotSent) return { ok: false, request: shown, reason: deps.redactor.redact(e.message) };
    const cls = e instanceof TransportError ? e.faultClass : "network";
    return { ok: false, request: shown, reason: `${cls}: ${deps.redactor.redact((e as Error).message)}` };
  }
}
