import type { Transport } from "../../core/contracts/transport.ts";
import { type NodeTransportOptions, nodeTransport } from "../node/transport.ts";

export type DenoTransportOptions = NodeTransportOptions;

/**
 * Deno's transport: the Node transport (npm undici) over Deno's `node:net` and `node:tls`. The SSRF
 * guard runs in the connect-time lookup on the addresses the socket then connects to, with the name
 * kept for Host, SNI and the certificate check, so DNS rebinding gets nowhere; mTLS goes through
 * undici's `connect: { cert, key, ca }`, one keep-alive agent per identity (closed with the
 * transport). Deno's own fetch cannot do this: it has no connect hook, no TLS server name apart from
 * the URL's host, and its `Deno.createHttpClient` TCP transport speaks plain HTTP even to https URLs.
 *
 * @example
 * const transport = denoTransport({ guard: new AddressGuard({ allowNetworks: [] }) });
 * await transport.send({ method: "GET", url: "https://api.example.com/v1/ping", headers: {}, timeoutMs: 10_000, maxResponseBytes: 65_536 });
 * await transport.close?.();
 */
export function denoTransport(options: DenoTransportOptions): Transport {
  return { ...nodeTransport(options), name: "deno" };
}
