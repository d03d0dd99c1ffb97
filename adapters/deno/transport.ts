import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { TlsIdentity } from "../../core/contracts/http.ts";
import { type Transport, TransportError } from "../../core/contracts/transport.ts";
import type { AddressGuard } from "../../core/net/address-guard.ts";
import { type FetchFunction, fetchTransport } from "../../core/transport/fetch-transport.ts";
import { type DenoHttpClient, denoApi } from "./deno-api.ts";

export interface DenoTransportOptions {
  /** The SSRF guard, applied to IP-literal hosts and to every address a hostname resolves to. */
  guard: AddressGuard;
}

/**
 * Resolves a hostname to its IPv4 and IPv6 addresses with `Deno.resolveDns` (which reads the hosts
 * file too). Fails only when neither family has an answer.
 *
 * @example await resolveWithDeno("localhost") // ["127.0.0.1", "::1"]
 */
export async function resolveWithDeno(host: string): Promise<string[]> {
  const deno = denoApi();
  const [v4, v6] = await Promise.allSettled([deno.resolveDns(host, "A"), deno.resolveDns(host, "AAAA")]);
  const addresses = [
    ...(v4.status === "fulfilled" ? v4.value : []),
    ...(v6.status === "fulfilled" ? v6.value : []),
  ];
  if (addresses.length === 0 && v4.status === "rejected") throw v4.reason;
  return addresses;
}

/**
 * Deno's transport: the portable ky transport over Deno's fetch, the SSRF guard checked on the
 * addresses `Deno.resolveDns` gives before each request, mTLS through one `Deno.createHttpClient`
 * per identity (passed to fetch as `client`; closed with the transport). Like Bun's, the pre-check
 * leaves the DNS rebinding window that only Node's connect-time check closes.
 *
 * @example
 * const transport = denoTransport({ guard: new AddressGuard({ allowNetworks: [] }) });
 * await transport.send({ method: "GET", url: "https://api.example.com/v1/ping", headers: {}, timeoutMs: 10_000, maxResponseBytes: 65_536 });
 * await transport.close?.();
 */
export function denoTransport(options: DenoTransportOptions): Transport {
  const clients = new Map<string, DenoHttpClient>();
  const tlsFetch = (identity: TlsIdentity): FetchFunction => {
    // Keyed by a digest so that private keys do not sit in memory a second time as map keys.
    const key = bytesToHex(
      sha256(new TextEncoder().encode(`${identity.cert}\0${identity.key}\0${identity.ca ?? ""}`)),
    );
    let client = clients.get(key);
    if (!client) {
      const create = denoApi().createHttpClient;
      if (!create) throw missingHttpClient();
      client = create({
        cert: identity.cert,
        key: identity.key,
        ...(identity.ca ? { caCerts: [identity.ca] } : {}),
      });
      clients.set(key, client);
    }
    const bound = client;
    return (input, init) => fetch(input, { ...init, client: bound } as RequestInit);
  };
  const transport = fetchTransport({ guard: options.guard, resolve: resolveWithDeno, tlsFetch });
  return {
    ...transport,
    name: "deno",
    async close() {
      for (const client of clients.values()) client.close();
      clients.clear();
    },
  };
}

/**
 * The fault for an mTLS request on a Deno without `Deno.createHttpClient` (what gives fetch a client
 * certificate; an embedder may leave it out). The start-up check normally stops the app first.
 *
 * @example if (!Deno.createHttpClient) throw missingHttpClient();
 */
export function missingHttpClient(): TransportError {
  return new TransportError(
    "tls",
    "deno: this Deno has no Deno.createHttpClient, so it cannot present a TLS client certificate (mTLS)",
  );
}
