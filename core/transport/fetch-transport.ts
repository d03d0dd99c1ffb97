import ky from "ky";
import type { TlsIdentity } from "../contracts/http.ts";
import {
  type Transport,
  TransportError,
  type TransportRequest,
  type TransportResponse,
} from "../contracts/transport.ts";
import type { AddressGuard } from "../net/address-guard.ts";
import { type RequestDeadline, requestDeadline } from "./deadline.ts";
import { detail, faultFor } from "./faults.ts";

export { classifyFault, faultFor, transportError } from "./faults.ts";

/**
 * A fetch as ky calls it: always with a `Request` (built with the global `Request` class, which
 * undici's npm fetch rejects as foreign: an adapter wrapping that fetch converts it first).
 */
export type FetchFunction = (input: Request | string | URL, init?: RequestInit) => Promise<Response>;

export interface FetchTransportOptions {
  /** The fetch to send with (default: the global one). Adapters wrap theirs here, e.g. undici's npm fetch. */
  fetch?: FetchFunction;
  /** The SSRF guard applied to IP-literal hosts and to every address a hostname resolves to. */
  guard: AddressGuard;
  /**
   * Sends a request for a hostname to an address the guard checked, so that nothing looks the name up
   * a second time between the check and the connect (DNS rebinding). Without it only IP-literal hosts
   * are checked and fetch resolves names itself: the right trade on workerd, whose fetch cannot reach
   * private networks.
   */
  pin?: AddressPinning;
  /** A fetch that presents a TLS client identity (mTLS); without it, requests that carry one fail. */
  tlsFetch?: (identity: TlsIdentity) => FetchFunction;
}

/**
 * How a fetch transport pins a hostname to checked addresses: `resolve` gives the name's addresses,
 * the guard judges every one, and the request goes to the first (to the next only when one refuses
 * the connection, before anything was sent) with its URL naming the address and its Host header the
 * name. `fetch` gives the fetch for that request: one that speaks TLS to `serverName` (SNI and the
 * certificate check by that name) although the URL names an address, presenting `identity` (mTLS)
 * when the request carries one.
 */
export interface AddressPinning {
  resolve: (host: string) => Promise<string[]>;
  fetch: (serverName: string, identity: TlsIdentity | undefined) => FetchFunction;
}

/**
 * The portable transport: ky over the runtime's fetch, no retries (the engine retries), redirects
 * returned rather than followed, one deadline over connect, headers and body, the body cut at
 * `maxResponseBytes`, and the SSRF guard applied before anything is sent. With `pin`, a hostname is
 * resolved once, every address judged, and the request sent to a judged address (Bun's transport);
 * without it only IP-literal hosts are judged (workerd's).
 *
 * @example
 * const transport = fetchTransport({ guard: new AddressGuard({ allowNetworks: [] }), pin: { resolve, fetch: pinnedFetch } });
 * const r = await transport.send({ method: "POST", url: "https://api.example.com/hook", headers: {}, body: "{}", timeoutMs: 10_000, maxResponseBytes: 65_536 });
 */
export function fetchTransport(options: FetchTransportOptions): Transport {
  return {
    name: "fetch",
    async send(request: TransportRequest): Promise<TransportResponse> {
      const url = parseHttpUrl(request.url);
      const deadline = requestDeadline(request.timeoutMs, request.signal);
      try {
        return await sendBy(options, request, url, deadline);
      } finally {
        deadline.done();
      }
    },
  };
}

async function sendBy(
  options: FetchTransportOptions,
  request: TransportRequest,
  url: URL,
  deadline: RequestDeadline,
): Promise<TransportResponse> {
  const signal = deadline.signal;
  const fail = (e: unknown): never => {
    throw faultFor(e, request, deadline);
  };

  const routes = await routesFor(options, url, request, signal).catch(fail);

  let response: Response;
  for (let i = 0; ; i++) {
    const route = routes[i]!;
    try {
      response = await ky(route.url, {
        method: request.method,
        headers: route.host ? withHost(request.headers, route.host) : request.headers,
        body: request.body,
        retry: 0,
        throwHttpErrors: false,
        redirect: "manual",
        // ky's own timeout stops at the response headers; the deadline signal also bounds the body.
        timeout: false,
        signal,
        ...(route.send ? { fetch: route.send } : {}),
      });
      break;
    } catch (e) {
      const fault = faultFor(e, request, deadline);
      // A refused connection sent nothing: the next checked address may answer.
      if (fault.faultClass !== "connection_refused" || i === routes.length - 1) throw fault;
    }
  }

  const capped = new CappedBody(request.maxResponseBytes);
  if (response.body) {
    const reader = response.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done || !capped.add(value)) break;
      }
    } catch (e) {
      fail(e);
    } finally {
      // Cancelling drops the connection rather than draining a body we will not keep.
      if (capped.truncated) void reader.cancel().catch(() => undefined);
      else reader.releaseLock();
    }
  }
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    // Set-Cookie arrives once per cookie; keep them all.
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  });
  return { status: response.status, headers, body: capped.text(), truncated: capped.truncated };
}

/**
 * Parses a request URL, refusing anything but http and https (some fetches read file:, data: and blob:
 * URLs, which would bypass the address guard entirely). Throws `TransportError`.
 *
 * @example const url = parseHttpUrl(request.url);
 */
export function parseHttpUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (e) {
    throw new TransportError("network", "the request URL is not a valid URL", { cause: e });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TransportError("blocked_address", `only http and https URLs are sent, not ${url.protocol}`);
  }
  return url;
}

/** Where one attempt goes: the URL to fetch, the Host header when that URL names an address, the fetch. */
interface Route {
  url: URL;
  host?: string;
  send?: FetchFunction;
}

/**
 * The attempts for a request, in order, after the guard judged every address they lead to: the URL
 * as it is for an IP literal or an unpinned transport, else one attempt per checked address.
 */
async function routesFor(
  options: FetchTransportOptions,
  url: URL,
  request: TransportRequest,
  signal: AbortSignal,
): Promise<Route[]> {
  const { guard, pin } = options;
  if (guard.isIpLiteral(url.hostname) || !pin) {
    if (guard.isIpLiteral(url.hostname)) refuseIfBlocked(guard, url.hostname, url.hostname);
    return [{ url, send: request.tls ? identityFetch(options, url, request.tls) : options.fetch }];
  }
  const addresses = await untilAborted(pin.resolve(url.hostname), signal).catch((e: unknown) => {
    // An abort is classified by faultFor (timeout or the caller's); a failed lookup is dns.
    if (signal.aborted) throw e;
    throw new TransportError("dns", `could not resolve ${url.hostname}: ${detail(e)}`, { cause: e });
  });
  if (addresses.length === 0) throw new TransportError("dns", `${url.hostname} resolved to no address`);
  for (const address of addresses) refuseIfBlocked(guard, url.hostname, address);
  // SNI carries the name without a trailing dot (RFC 6066); Host keeps it as written.
  const send = pin.fetch(url.hostname.replace(/\.$/, ""), request.tls);
  return addresses.map((address) => ({ url: atAddress(url, address), host: url.host, send }));
}

function identityFetch(options: FetchTransportOptions, url: URL, identity: TlsIdentity): FetchFunction {
  if (!options.tlsFetch) {
    throw new TransportError("tls", `this transport cannot present a TLS client identity to ${url.origin}`);
  }
  return options.tlsFetch(identity);
}

/** The URL with its host replaced by an address (bracketed if IPv6), port, path and query kept. */
function atAddress(url: URL, address: string): URL {
  const pinned = new URL(url.href);
  pinned.hostname = address.includes(":") ? `[${address}]` : address;
  return pinned;
}

/** The request's headers with Host naming the URL's host, unless the request set its own. */
function withHost(headers: Record<string, string>, host: string): Record<string, string> {
  return Object.keys(headers).some((name) => name.toLowerCase() === "host") ? headers : { ...headers, host };
}

function refuseIfBlocked(guard: AddressGuard, host: string, address: string): void {
  const verdict = guard.check(address);
  if (!verdict.allowed) {
    const via = host === address ? "" : ` (resolves to ${address})`;
    throw new TransportError("blocked_address", `refused to connect to ${host}${via}: ${verdict.reason}`);
  }
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

// Decoding without `stream` keeps no state between calls, so one decoder serves every response.
const utf8 = new TextDecoder();

/**
 * Collects a response body up to a byte cap and decodes it as UTF-8; `add` returns false once the
 * cap is passed, so the reader can stop and drop the rest.
 *
 * @example
 * const body = new CappedBody(65_536);
 * for await (const chunk of stream) if (!body.add(chunk)) break;
 * return { body: body.text(), truncated: body.truncated };
 */
export class CappedBody {
  private readonly parts: Uint8Array[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly maxBytes: number) {}

  add(chunk: Uint8Array): boolean {
    const room = this.maxBytes - this.size;
    if (chunk.byteLength > room) {
      if (room > 0) this.parts.push(chunk.subarray(0, room));
      this.size = this.maxBytes;
      this.truncated = true;
      return false;
    }
    this.parts.push(chunk);
    this.size += chunk.byteLength;
    return true;
  }

  text(): string {
    // Most answers arrive in one chunk: decoded as it is, not copied first.
    let bytes: Uint8Array;
    if (this.parts.length === 1) bytes = this.parts[0]!;
    else {
      bytes = new Uint8Array(this.size);
      let at = 0;
      for (const part of this.parts) {
        bytes.set(part, at);
        at += part.byteLength;
      }
    }
    // A cut can split a multi-byte character; drop its head rather than keep a U+FFFD.
    const end = this.truncated ? completeUtf8Length(bytes) : bytes.length;
    return utf8.decode(bytes.subarray(0, end));
  }
}

function completeUtf8Length(bytes: Uint8Array): number {
  let start = bytes.length - 1;
  // Step back over at most three continuation bytes (10xxxxxx) to the lead byte.
  while (start >= 0 && bytes.length - start <= 4 && (bytes[start]! & 0xc0) === 0x80) start--;
  if (start < 0) return bytes.length;
  const lead = bytes[start]!;
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return start + need > bytes.length ? start : bytes.length;
}
