import { type Transport, TransportError } from "../contracts/transport.ts";

/** True when a URL, or a URL template, starts with a literal `http://`. */
export const isPlainHttp = (url: string): boolean => /^\s*http:\/\//i.test(url);

/** A URL as messages show it: origin and path only (a query may carry secrets). */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return url.replace(/[?#].*$/s, "").slice(0, 120);
  }
}

/**
 * A transport that sends https:// requests only (`engine.requireHttps`): a plain http:// URL is
 * refused before anything connects, as a `blocked_address` fault (not retried). It wraps every
 * runtime's transport, so deliveries, batches, test requests and the plugins' fetches (token
 * endpoints, logins) are held to it alike.
 *
 * @example const transport = httpsOnly(nodeTransport({ guard }));
 */
export function httpsOnly(transport: Transport): Transport {
  return {
    name: transport.name,
    send(request) {
      if (isPlainHttp(request.url)) {
        return Promise.reject(
          new TransportError(
            "blocked_address",
            `plain http:// is refused (engine.requireHttps): ${shownUrl(request.url)}; use https://`,
          ),
        );
      }
      return transport.send(request);
    },
    close: () => transport.close?.() ?? Promise.resolve(),
  };
}
