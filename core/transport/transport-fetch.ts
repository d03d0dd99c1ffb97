import type { Transport } from "../contracts/transport.ts";

/**
 * Adapts the app's transport to a fetch-like function for plugins and integrations (token
 * endpoints, logins, a JWKS): the SSRF guard, the engine's timeout, a response cap of at least 1 MB.
 *
 * @example const res = await transportFetch(transport, new Request("https://idp.example.com/token"), 10_000, 65_536);
 */
export async function transportFetch(
  transport: Transport,
  request: Request,
  timeoutMs: number,
  maxResponseBytes: number,
): Promise<Response> {
  const headers: Record<string, string> = {};
  request.headers.forEach((v, k) => {
    headers[k] = v;
  });
  const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.text();
  const r = await transport.send({
    method: request.method as "GET",
    url: request.url,
    headers,
    body,
    timeoutMs,
    maxResponseBytes: Math.max(maxResponseBytes, 1_048_576),
    signal: request.signal,
  });
  return new Response(r.status === 204 || r.status === 304 ? null : r.body, {
    status: r.status,
    headers: r.headers,
  });
}
