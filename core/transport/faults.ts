import { type FaultClass, TransportError, type TransportRequest } from "../contracts/transport.ts";

// How a failed send is classified (the fault classes of docs/ and the attempt log), shared by every
// transport so that they classify alike.

/**
 * The `TransportError` for a failed send: a timeout when the request's deadline fired, "aborted by
 * the caller" when its own signal did, else `transportError`. Shared by the transports so that they
 * classify alike.
 *
 * @example catch (e) { throw faultFor(e, request, deadline) }
 */
export function faultFor(
  error: unknown,
  request: TransportRequest,
  deadline: { readonly aborted: boolean },
): TransportError {
  if (error instanceof TransportError) return error;
  const target = `${request.method} ${originAndPath(request.url)}`;
  if (deadline.aborted) {
    return new TransportError("timeout", `${target}: no complete answer within ${request.timeoutMs} ms`, {
      cause: error,
    });
  }
  if (request.signal?.aborted) {
    const faultClass =
      (request.signal.reason as { name?: unknown } | undefined)?.name === "TimeoutError"
        ? "timeout"
        : "network";
    return new TransportError(faultClass, `${target}: aborted by the caller`, { cause: error });
  }
  return transportError(error, target);
}

/**
 * Wraps any error from a send as a `TransportError` classified by `classifyFault`; one that already
 * is a `TransportError` anywhere in its cause chain is returned as it is.
 *
 * @example catch (e) { throw transportError(e, "POST https://api.example.com/hook") }
 */
export function transportError(error: unknown, target: string): TransportError {
  for (const e of causeChain(error)) if (e instanceof TransportError) return e;
  return new TransportError(classifyFault(error), `${target}: ${detail(error)}`, { cause: error });
}

/** Origin and path of a URL, for messages: the query may carry secrets. */
function originAndPath(raw: string): string {
  try {
    const u = new URL(raw);
    return `${u.origin}${u.pathname}`;
  } catch {
    return "an invalid URL";
  }
}

const TIMEOUT_CODES = new Set([
  "ETIMEDOUT",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);
const DNS_CODES = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_NONAME", "EAI_FAIL", "EAI_NODATA", "ENODATA"]);
const REFUSED_CODES = new Set(["ECONNREFUSED", "ConnectionRefused"]);
const RESET_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "ConnectionClosed",
]);
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|EPROTO$|HOSTNAME_MISMATCH$)/;

/** In order of precedence: a timeout that ended in a reset is still a timeout. */
const RULES: { faultClass: FaultClass; code: (code: string) => boolean; message: RegExp }[] = [
  { faultClass: "timeout", code: (c) => TIMEOUT_CODES.has(c), message: /timed? ?out/i },
  {
    faultClass: "dns",
    code: (c) => DNS_CODES.has(c),
    message: /getaddrinfo|dns error|failed to lookup address|name or service not known|name resolution/i,
  },
  {
    faultClass: "tls",
    code: (c) => TLS_CODE.test(c),
    message: /certificate|\btls\b|\bssl\b|handshake|corrupt message/i,
  },
  {
    faultClass: "connection_refused",
    code: (c) => REFUSED_CODES.has(c),
    message: /connection refused|econnrefused/i,
  },
  {
    faultClass: "connection_reset",
    code: (c) => RESET_CODES.has(c),
    message:
      /socket hang up|other side closed|connection reset|broken pipe|connection closed|connection lost/i,
  },
];

/**
 * Classifies why a request got no HTTP answer, from the error and its `cause` chain (and
 * `AggregateError.errors`, which Node's happy-eyeballs connect throws). Codes win over messages:
 * undici nests Node's `ECONNREFUSED` under "fetch failed", Bun puts `code` on the top-level
 * `TypeError`, Deno and workerd only have messages.
 *
 * @example classifyFault(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" })) // "connection_refused"
 */
export function classifyFault(error: unknown): FaultClass {
  const chain = causeChain(error);
  for (const e of chain) if (e instanceof TransportError) return e.faultClass;
  // ky's TimeoutError and AbortSignal.timeout's DOMException share the name.
  if (chain.some((e) => (e as { name?: unknown } | null)?.name === "TimeoutError")) return "timeout";
  const codes = chain
    .map((e) => (e as { code?: unknown }).code)
    .filter((c): c is string => typeof c === "string");
  for (const rule of RULES) if (codes.some(rule.code)) return rule.faultClass;
  const messages = chain.map((e) => (e instanceof Error ? e.message : String(e)));
  for (const rule of RULES) if (messages.some((m) => rule.message.test(m))) return rule.faultClass;
  return "network";
}

/** The error, its causes and any aggregated errors, breadth first, bounded against cycles. */
function causeChain(error: unknown): unknown[] {
  const seen: unknown[] = [];
  const queue = [error];
  while (queue.length > 0 && seen.length < 16) {
    const e = queue.shift();
    if (e === undefined || e === null || seen.includes(e)) continue;
    seen.push(e);
    if (typeof e === "object") {
      const { cause, errors } = e as { cause?: unknown; errors?: unknown };
      if (cause !== undefined) queue.push(cause);
      if (Array.isArray(errors)) queue.push(...errors);
    }
  }
  return seen;
}

/**
 * The most specific message in the chain ("fetch failed" says less than its cause), with query
 * strings and userinfo cut from any URL in it: Deno's messages quote the whole request URL.
 */
export function detail(error: unknown): string {
  const chain = causeChain(error).filter((e): e is Error => e instanceof Error && e.message !== "");
  const deepest = chain.at(-1);
  const message = !deepest ? String(error) : deepest.message;
  const code = (deepest as { code?: unknown } | undefined)?.code;
  const coded = typeof code === "string" && !message.includes(code) ? `${message} (${code})` : message;
  return coded
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/@()]*@/gi, "$1")
    .replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^\s?#()]*)[?#][^\s()]*/gi, "$1");
}
