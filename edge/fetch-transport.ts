import { type Transport, TransportError } from "../core/contracts/transport.ts";

/**
 * The edge worker's transport: the Worker's own fetch, with the request's timeout and response cap.
 * The edge sends no deliveries (the servers do); it fetches only what its parts load to start or to
 * verify (an integration's certificate from a URL, a JWKS), as it always has with plain fetch. The
 * servers' transport (ky, the SSRF guard's resolver) would cost the bundle ~18 KB for none of that.
 *
 * @example const transport = edgeFetchTransport(); await transport.send({ method: "GET", url, headers: {}, timeoutMs: 5000, maxResponseBytes: 65536 });
 */
export function edgeFetchTransport(
  fetchFn: (input: string, init: RequestInit) => Promise<Response> = (input, init) => fetch(input, init),
): Transport {
  return {
    name: "edge-fetch",
    async send(request) {
      const deadline = AbortSignal.timeout(request.timeoutMs);
      const signal = request.signal ? AbortSignal.any([request.signal, deadline]) : deadline;
      let response: Response;
      try {
        response = await fetchFn(request.url, {
          method: request.method,
          headers: request.headers,
          body: request.body,
          redirect: "manual",
          signal,
        });
      } catch (e) {
        const cls = deadline.aborted ? "timeout" : "network";
        throw new TransportError(cls, `${request.method} ${request.url}: ${(e as Error).message}`, {
          cause: e,
        });
      }
      const text = await response.text();
      const bytes = new TextEncoder().encode(text);
      const truncated = bytes.length > request.maxResponseBytes;
      const headers: Record<string, string> = {};
      response.headers.forEach((v, k) => {
        headers[k] = v;
      });
      return {
        status: response.status,
        headers,
        body: truncated ? new TextDecoder().decode(bytes.slice(0, request.maxResponseBytes)) : text,
        truncated,
      };
    },
  };
}
