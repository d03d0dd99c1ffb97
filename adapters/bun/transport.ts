import { lookup } from "node:dns";
import type { TlsIdentity } from "../../core/contracts/http.ts";
import type { Transport } from "../../core/contracts/transport.ts";
import type { AddressGuard } from "../../core/net/address-guard.ts";
import { type FetchFunction, fetchTransport } from "../../core/transport/fetch-transport.ts";

export interface BunTransportOptions {
  /** The SSRF guard, applied to IP-literal hosts and to every address a hostname resolves to. */
  guard: AddressGuard;
}

/**
 * Resolves a hostname to every address it has with `node:dns` (getaddrinfo, the resolver Bun's
 * fetch uses too), for the guard's pre-check.
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
  const tls = { cert: identity.cert, key: identity.key, ...(identity.ca ? { ca: identity.ca } : {}) };
  return (input, init) => fetch(input, { ...init, tls } as RequestInit);
}

/**
 * Bun's transport: the portable ky transport over Bun's own fetch (the fastest client measured on this
 * machine, DESIGN.md), the SSRF guard checked on the addresses `node:dns` gives before each request,
 * mTLS through fetch's `tls` option. The guard's check precedes Bun's own lookup, so a DNS rebinding
 * window remains that the Node transport closes; see docs/runtimes.md.
 *
 * @example
 * const transport = bunTransport({ guard: new AddressGuard({ allowNetworks: [] }) });
 * await transport.send({ method: "GET", url: "https://api.example.com/v1/ping", headers: {}, timeoutMs: 10_000, maxResponseBytes: 65_536 });
 */
export function bunTransport(options: BunTransportOptions): Transport {
  const transport = fetchTransport({ guard: options.guard, resolve: resolveWithDns, tlsFetch: bunTlsFetch });
  return { ...transport, name: "bun" };
}
