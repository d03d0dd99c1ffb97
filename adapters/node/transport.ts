import { createHash } from "node:crypto";
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from "node:dns";
import { isIP } from "node:net";
// The explicit file path loads npm undici on Bun too: Bun maps the bare "undici" specifier to its
// built-in shim, whose Agent ignores `connect.lookup` and would skip the guard without a word.
import { Agent, type Dispatcher } from "undici/index.js";
import type { TlsIdentity } from "../../core/contracts/http.ts";
import {
  type Transport,
  TransportError,
  type TransportRequest,
  type TransportResponse,
} from "../../core/contracts/transport.ts";
import type { AddressGuard } from "../../core/net/address-guard.ts";
import { onCallerAbort } from "../../core/transport/deadline.ts";
import { CappedBody, faultFor, parseHttpUrl } from "../../core/transport/fetch-transport.ts";
import { remember } from "../../core/util/remember.ts";

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
  const targets = new Map<string, Target>();
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
      // Deliveries repeat a few URLs: parsing one and judging its address once is enough.
      const target = targets.get(request.url) ?? remember(targets, request.url, targetOf(guard, request.url));
      return exchange(agentFor(request.tls), target, request);
    },
    async close(): Promise<void> {
      const all = [...agents.values()];
      agents.clear();
      await Promise.all(all.map((agent) => agent.close()));
    },
  };
}

/** Where a request goes, as the dispatcher takes it. */
interface Target {
  origin: string;
  path: string;
}

/**
 * The origin and path of an http or https URL whose host, if an IP literal, the guard admits (sockets
 * skip the lookup for IP literals, so the connect-time hook never sees them); throws otherwise.
 */
function targetOf(guard: AddressGuard, raw: string): Target {
  const url = parseHttpUrl(raw);
  if (guard.isIpLiteral(url.hostname)) {
    const verdict = guard.check(url.hostname);
    if (!verdict.allowed) {
      throw new TransportError("blocked_address", `refused to connect to ${url.hostname}: ${verdict.reason}`);
    }
  }
  return { origin: url.origin, path: url.search ? `${url.pathname}${url.search}` : url.pathname };
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

/**
 * Sends one request through an agent's dispatcher and reads the answer into a capped body. The
 * dispatcher's own handler interface, not `undici.request`: no abort signal, response stream or async
 * iterator per request, which on this path cost a tenth of the client's CPU. The deadline is a timer
 * that aborts the exchange (also while the request waits for a connection); the caller's signal
 * aborts it too. Undici's header and body timeouts stay as a second bound.
 */
function exchange(agent: Agent, target: Target, request: TransportRequest): Promise<TransportResponse> {
  return new Promise((resolve, reject) => {
    const handler = new Exchange(request, resolve, reject);
    if (handler.settled) return;
    agent.dispatch(
      {
        origin: target.origin,
        path: target.path,
        method: request.method as Dispatcher.HttpMethod,
        headers: request.headers,
        body: request.body,
        // Undici 7 follows no redirects unless the redirect interceptor is composed in: none here.
        headersTimeout: request.timeoutMs,
        bodyTimeout: request.timeoutMs,
      },
      handler,
    );
  });
}

/** One request's life in the dispatcher, settled once: by the answer, a fault, the deadline or the caller. */
class Exchange implements Dispatcher.DispatchHandler {
  settled = false;
  /** Whether the deadline fired (what `faultFor` calls a timeout). */
  aborted = false;
  private controller: Dispatcher.DispatchController | undefined;
  private reason: Error | undefined;
  private status = 0;
  private headers: Record<string, string> = {};
  private readonly capped: CappedBody;
  private readonly timer: ReturnType<typeof setTimeout>;
  private readonly release: (() => void) | undefined;

  constructor(
    private readonly request: TransportRequest,
    private readonly resolve: (response: TransportResponse) => void,
    private readonly reject: (error: TransportError) => void,
  ) {
    this.capped = new CappedBody(request.maxResponseBytes);
    const { signal, timeoutMs } = request;
    this.timer = setTimeout(() => {
      this.aborted = true;
      this.cancel(new DOMException(`no complete answer within ${timeoutMs} ms`, "TimeoutError"));
    }, timeoutMs);
    if (signal?.aborted) this.cancel(signal.reason);
    else if (signal) this.release = onCallerAbort(signal, (reason) => this.cancel(reason));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.reason) controller.abort(this.reason);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Record<string, string | string[] | undefined>,
  ): void {
    // Informational answers (1xx) precede the response.
    if (statusCode < 200) return;
    this.status = statusCode;
    // Undici hands over a new object with lower-cased names (IncomingHttpHeaders): kept, with a
    // repeated header's values joined as one field.
    for (const name in headers) {
      const value = headers[name];
      if (value === undefined) delete headers[name];
      else if (typeof value !== "string") headers[name] = value.join(", ");
    }
    this.headers = headers as Record<string, string>;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Uint8Array): void {
    if (this.settled || this.capped.add(chunk)) return;
    // Past the cap: the answer is what was kept, and the connection is closed rather than drained.
    this.succeed();
    controller.abort(new Error("response body past its cap"));
  }

  onResponseEnd(): void {
    this.succeed();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.fail(error);
  }

  /** Aborts the exchange: at once when the request is on a connection, else as soon as it gets one. */
  private cancel(reason: unknown): void {
    const error = reason instanceof Error ? reason : new Error(String(reason));
    this.reason ??= error;
    this.fail(reason);
    this.controller?.abort(error);
  }

  private succeed(): void {
    if (this.settled) return;
    this.finish();
    const { capped } = this;
    this.resolve({
      status: this.status,
      headers: this.headers,
      body: capped.text(),
      truncated: capped.truncated,
    });
  }

  private fail(error: unknown): void {
    if (this.settled) return;
    this.finish();
    this.reject(faultFor(error, this.request, this));
  }

  private finish(): void {
    this.settled = true;
    clearTimeout(this.timer);
    this.release?.();
  }
}
