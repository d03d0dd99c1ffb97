import { createHash } from "node:crypto";
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { isIP } from "node:net";
// The explicit file path loads npm undici on Bun too: Bun maps the bare "undici" specifier to its
// built-in shim, whose Agent ignores `connect.lookup` and would skip the guard without a word.
import { Agent, request as undiciRequest } from "undici/index.js";
import type { TlsIdentity } from "../../core/contracts/http.ts";
import {
  type Transport,
  TransportError,
  type TransportRequest,
  type TransportResponse,
} from "../../core/contracts/transport.ts";
import type { AddressGuard } from "../../core/net/address-guard.ts";
import { requestDeadline } from "../../core/transport/deadline.ts";
import { CappedBody, faultFor } from "../../core/transport/fetch-transport.ts";

export interface NodeTransportOptions {
  /** The SSRF guard, applied to IP-literal hosts before the request and to resolved addresses at connect. */
  guard: AddressGuard;
  /** Resolves a hostname to its addresses at connect (default: `node:dns` lookup, the system resolver). */
  resolve?: (host: string) => Promise<string[]>;
  /** Most connections per origin and TLS identity (default: unlimited). */
  connections?: number;
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * Resolves a hostname to every address it has (`node:dns` lookup with `all: true`): the `resolve`
 * that Node and Bun hand to `fetchTransport`.
 *
 * @example fetchTransport({ guard, resolve: resolveAll })
 */
export function resolveAll(host: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(host, { all: true }, (error, addresses) =>
      error ? reject(error) : resolve(addresses.map((a) => a.address)),
    );
  });
}

/**
 * Node's fast transport (Deno's too, over its `node:net` and `node:tls`): `undici.request` over
 * keep-alive agents, one per TLS client identity. The guard runs inside the agent's DNS lookup, on
 * the addresses the socket then connects to, so a name that resolves to a public address for a
 * pre-check and to 127.0.0.1 a moment later (DNS rebinding) gets nowhere; TLS still names the host.
 * Redirects are returned, not followed.
 *
 * @example
 * const transport = nodeTransport({ guard: new AddressGuard({ allowNetworks: [] }) });
 * const r = await transport.send({ method: "GET", url: "https://api.example.com/v1/ping", headers: {}, timeoutMs: 10_000, maxResponseBytes: 65_536 });
 * await transport.close();
 */
export function nodeTransport(options: NodeTransportOptions): Transport {
  const { guard } = options;
  const agents = new Map<string, Agent>();
  const lookup = guardedLookup(guard, options.resolve);

  const agentFor = (tls: TlsIdentity | undefined): Agent => {
    const key = tls ? identityKey(tls) : "";
    let agent = agents.get(key);
    if (!agent) {
      agent = new Agent({
        connections: options.connections ?? null,
        connect: tls
          ? { lookup, cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca } : {}) }
          : { lookup },
      });
      agents.set(key, agent);
    }
    return agent;
  };

  return {
    name: "node",
    async send(request: TransportRequest): Promise<TransportResponse> {
      let url: URL;
      try {
        url = new URL(request.url);
      } catch (e) {
        throw new TransportError("network", "the request URL is not a valid URL", { cause: e });
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw new TransportError("blocked_address", `only http and https URLs are sent, not ${url.protocol}`);
      }
      // Sockets skip the lookup for IP literals, so the hook never sees them: check them here.
      if (guard.isIpLiteral(url.hostname)) {
        const verdict = guard.check(url.hostname);
        if (!verdict.allowed) {
          throw new TransportError(
            "blocked_address",
            `refused to connect to ${url.hostname}: ${verdict.reason}`,
          );
        }
      }

      const deadline = requestDeadline(request.timeoutMs, request.signal);
      const capped = new CappedBody(request.maxResponseBytes);
      let response: Awaited<ReturnType<typeof undiciRequest>>;
      try {
        try {
          response = await undiciRequest(url, {
            method: request.method,
            headers: request.headers,
            body: request.body,
            dispatcher: agentFor(request.tls),
            signal: deadline.signal,
            // Undici 7 follows no redirects unless the redirect interceptor is composed in: none here.
            headersTimeout: request.timeoutMs,
            bodyTimeout: request.timeoutMs,
          });
        } catch (e) {
          throw faultFor(e, request, deadline);
        }
        try {
          for await (const chunk of response.body) {
            if (!capped.add(chunk as Uint8Array)) break;
          }
        } catch (e) {
          throw faultFor(e, request, deadline);
        } finally {
          // Breaking out of the loop destroys the body; this covers the error paths. The connection is
          // then closed rather than drained, which is what a capped read wants.
          if (!response.body.destroyed) response.body.destroy();
        }
      } finally {
        deadline.done();
      }

      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined)
          headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
      }
      return { status: response.statusCode, headers, body: capped.text(), truncated: capped.truncated };
    },
    async close(): Promise<void> {
      const all = [...agents.values()];
      agents.clear();
      await Promise.all(all.map((agent) => agent.close()));
    },
  };
}

/**
 * A connect-time lookup that refuses the connection if any address the name resolves to is refused;
 * the socket then connects to the addresses it judged. `resolve` replaces the system resolver.
 */
function guardedLookup(guard: AddressGuard, resolve?: (host: string) => Promise<string[]>) {
  const lookupAll = (
    hostname: string,
    options: LookupOptions,
    done: (e: Error | null, a: LookupAddress[]) => void,
  ) => {
    if (!resolve) return dnsLookup(hostname, { ...options, all: true }, done);
    const family = options.family === "IPv4" ? 4 : options.family === "IPv6" ? 6 : (options.family ?? 0);
    resolve(hostname).then(
      (addresses) =>
        done(
          null,
          addresses
            .map((address) => ({ address, family: isIP(address) }))
            .filter((a) => !family || a.family === family),
        ),
      (e: unknown) =>
        done(
          new TransportError("dns", `could not resolve ${hostname}: ${(e as Error)?.message ?? e}`, {
            cause: e,
          }),
          [],
        ),
    );
  };
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    lookupAll(hostname, options, (error, addresses) => {
      if (error) return callback(error, []);
      for (const { address } of addresses) {
        const verdict = guard.check(address);
        if (!verdict.allowed) {
          const blocked = new TransportError(
            "blocked_address",
            `refused to connect to ${hostname} (resolves to ${address}): ${verdict.reason}`,
          );
          return callback(blocked as NodeJS.ErrnoException, []);
        }
      }
      const first = addresses[0];
      if (!first)
        return callback(
          Object.assign(new Error(`${hostname} resolved to no address`), { code: "ENOTFOUND" }),
          [],
        );
      if (options.all) return callback(null, addresses);
      callback(null, first.address, first.family);
    });
  };
}

/** Agents are keyed by a digest so that keys and certificates do not sit in memory twice as map keys. */
function identityKey(tls: TlsIdentity): string {
  return createHash("sha256")
    .update(tls.cert)
    .update("\0")
    .update(tls.key)
    .update("\0")
    .update(tls.ca ?? "")
    .digest("hex");
}
