import { lookup } from "node:dns";
import type { TlsIdentity } from "../../core/contracts/http.ts";
import type { Transport } from "../../core/contracts/transport.ts";
import type { AddressGuard } from "../../core/net/address-guard.ts";
import { type FetchFunction, fetchTransport } from "../../core/transport/fetch-transport.ts";

export interface BunTransportOptions {
  /** The SSRF guard, applied to IP-literal hosts and to every address a hostname resolves to. */
  guard: AddressGuard;
  /** Resolves a hostname to the addresses the guard judges and the request connects to (default: `resolveWithDns`). */
  resolve?: (host: string) => Promise<string[]>;
}

/**
 * Resolves a hostname to every address it has with `node:dns` (getaddrinfo: the hosts file, then
 * DNS), in the order the system prefers.
 *
 * @example await resolveWithDns("localhost") // ["127.0.0.1", "::1"]
 */
export function resolveWithDns(host: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    lookup(host, { all: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses.map((a) => a.address)),
    );
  });
}

/**
 * A fetch that presents a TLS client identity: Bun's fetch takes `tls: { cert, key, ca }` per call.
 * A `ca` replaces the default roots for that request, as on Node.
 *
 * @example const send = bunTlsFetch({ cert, key }); await send("https://bank.example/v2/ping");
 */
export function bunTlsFetch(identity: TlsIdentity): FetchFunction {
  return (input, init) => fetch(input, { ...init, tls: tlsOptions(identity) } as RequestInit);
}

/**
 * A fetch for a URL that names an address rather than the host: Bun's fetch `tls.serverName` sends
 * that name as SNI and checks the server's certificate against it (not against the address), and
 * Bun keeps connections made for different names apart. With an identity it presents it, as
 * `bunTlsFetch` does.
 *
 * @example await bunPinnedFetch("api.example.com")("https://198.51.100.7/hook", { headers: { host: "api.example.com" } });
 */
export function bunPinnedFetch(serverName: string, identity?: TlsIdentity): FetchFunction {
  const tls = { serverName, ...(identity ? tlsOptions(identity) : {}) };
  return (input, init) => fetch(input, { ...init, tls } as RequestInit);
}

function tlsOptions(identity: TlsIdentity): { cert: string; key: string; ca?: string } {
  return { cert: identity.cert, key: identity.key, ...(identity.ca ? { ca: identity.ca } : {}) };
}

/**
 * Bun's transport: the portable ky transport over Bun's own fetch (the fastest client measured on this
 * machine, DESIGN.md). A hostname is resolved once (`node:dns`), every address judged by the SSRF
 * guard, and the request sent to a judged address, the name kept for Host, SNI and the certificate
 * check (`bunPinnedFetch`): nothing looks the name up again, so DNS rebinding gets nowhere. mTLS goes
 * through fetch's `tls` option.
 *
 * @example
 * const transport = bunTransport({ guard: new AddressGuard({ allowNetworks: [] }) });
 * await transport.send({ method: "GET", url: "https://api.example.com/v1/ping", headers: {}, timeoutMs: 10_000, maxResponseBytes: 65_536 });
 */
export function bunTransport(options: BunTransportOptions): Transport {
  const transport = fetchTransport({
    guard: options.guard,
    pin: { resolve: options.resolve ?? resolveWithDns, fetch: bunPinnedFetch },
    tlsFetch: bunTlsFetch,
  });
  return { ...transport, name: "bun" };
}
