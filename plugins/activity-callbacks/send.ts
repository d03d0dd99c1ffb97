import type { Hookline } from "../../core/app.ts";
import type { OutboundRequest } from "../../core/contracts/http.ts";
import { type Transport, TransportError, type TransportResponse } from "../../core/contracts/transport.ts";
import { HooklineError } from "../../core/errors.ts";
import { AddressGuard } from "../../core/net/address-guard.ts";
import { assertUnderEndpointPrefix } from "../../core/security/endpoint-prefix.ts";
import { Tokens } from "../../core/tokens.ts";
import { fetchTransport } from "../../core/transport/fetch-transport.ts";
import type { Subscriber } from "./queue.ts";

const transports = new WeakMap<Hookline, Transport>();

/**
 * A transport like the app's own: the runtime's (registered `TransportFactory`) or ky over fetch,
 * with the app's SSRF guard (`engine.allowNetworks`). One per app, closed with `closeTransport`.
 *
 * @example const response = await transportFor(app).send({ method: "GET", url, headers: {}, timeoutMs: 10_000, maxResponseBytes: 4096 })
 */
export function transportFor(app: Hookline): Transport {
  let t = transports.get(app);
  if (!t) {
    const guard = new AddressGuard({ allowNetworks: app.config.engine.allowNetworks });
    t = app.container.isRegistered(Tokens.TransportFactory, true)
      ? app.container.resolve(Tokens.TransportFactory)({ guard })
      : fetchTransport({ guard });
    transports.set(app, t);
  }
  return t;
}

/**
 * Closes the transport `transportFor` made for this app, if any.
 *
 * @example await closeTransport(app)
 */
export async function closeTransport(app: Hookline): Promise<void> {
  const t = transports.get(app);
  transports.delete(app);
  await t?.close?.();
}

/**
 * Checks that a subscriber's integration exists and that its URL is under the integration's endpoint
 * prefix; returns the problem, or undefined.
 *
 * @example credentialProblem(app, subscriber) // 'integration "crm" sends credentials only under …'
 */
export function credentialProblem(
  app: Hookline,
  s: Pick<Subscriber, "url" | "integration">,
): string | undefined {
  if (!s.integration) return undefined;
  const integration = app.integrations.get(s.integration);
  if (!integration)
    return `unknown integration ${JSON.stringify(s.integration)}; expected one of: ${[...app.integrations.keys()].join(", ") || "(none configured)"}`;
  try {
    assertUnderEndpointPrefix(s.url, integration.endpointPrefix, s.integration);
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

/**
 * Sends one request to a subscriber: the endpoint-prefix check, the integration's credentials, the
 * app's transport; on 401 an integration may refresh its credentials for one more try. Throws
 * `TransportError` when no HTTP answer came, `HooklineError` when nothing could be sent.
 *
 * @example const r = await sendToSubscriber(app, subscriber, { method: "POST", url: subscriber.url, headers, body }, signal)
 */
export async function sendToSubscriber(
  app: Hookline,
  s: Subscriber,
  request: OutboundRequest,
  signal?: AbortSignal,
): Promise<TransportResponse> {
  const integration = s.integration ? app.integrations.get(s.integration) : undefined;
  if (s.integration && !integration)
    throw new HooklineError(
      "HOOKLINE_SUBSCRIBER_INTEGRATION",
      `integration "${s.integration}" is not configured`,
    );
  let req: OutboundRequest = { ...request, headers: { "user-agent": "hookline/0.1", ...request.headers } };
  if (integration) {
    if (integration.instance.resolveUrl) req.url = await integration.instance.resolveUrl(req.url, { signal });
    assertUnderEndpointPrefix(req.url, integration.endpointPrefix, integration.name);
    req = await integration.instance.authorize({ ...req, headers: { ...req.headers } }, { signal });
  }
  const go = (r: OutboundRequest) =>
    transportFor(app).send({
      ...r,
      timeoutMs: s.timeoutMs,
      maxResponseBytes: 4096,
      tls: integration?.instance.tlsIdentity?.(),
      signal,
    });
  const response = await go(req);
  if (
    response.status === 401 &&
    integration?.instance.onUnauthorized &&
    (await integration.instance.onUnauthorized(req))
  ) {
    return go(
      await integration.instance.authorize({ ...request, headers: { ...request.headers } }, { signal }),
    );
  }
  return response;
}

/**
 * The test a subscriber's URL must pass when saved through the API (eSputnik's): a GET, answered 200.
 *
 * @example const check = await checkSubscriberUrl(app, subscriber); if (!check.ok) reject(check.status)
 */
export async function checkSubscriberUrl(
  app: Hookline,
  s: Subscriber,
): Promise<{ ok: true } | { ok: false; status?: number; error: string }> {
  try {
    const r = await sendToSubscriber(app, s, { method: "GET", url: s.url, headers: {} });
    return r.status === 200
      ? { ok: true }
      : {
          ok: false,
          status: r.status,
          error: `the test GET to the subscriber URL answered ${r.status}, not 200`,
        };
  } catch (e) {
    const cls = e instanceof TransportError ? ` (${e.faultClass})` : "";
    return {
      ok: false,
      error: app.redactor.redact(`the test GET to the subscriber URL failed${cls}: ${(e as Error).message}`),
    };
  }
}
