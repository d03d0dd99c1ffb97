// W3C Trace Context (https://www.w3.org/TR/trace-context/#traceparent-header) without the
// OpenTelemetry API: the outbox keeps a traceparent with each delivery on the edge worker too, whose
// bundle has no room for the API, and an attempt sends one even where no SDK is registered.

/** `version-traceid-parentid-flags`, lower-case hex; a later version may add fields after them. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZEROS = /^0+$/;

/** A traceparent's parts. */
export interface TraceParent {
  traceId: string;
  /** The span id of the caller's span: the parent of what hookline does for it. */
  spanId: string;
  /** Trace flags as two hex digits (`01`: sampled). */
  flags: string;
}

/**
 * A `traceparent` header's parts, or undefined for a value the spec says to ignore (malformed, an
 * all-zero trace or span id, version ff, or extra fields on version 00).
 *
 * @example parseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")?.traceId
 */
export function parseTraceparent(value: string | null | undefined): TraceParent | undefined {
  const m = value && value.length < 512 ? TRACEPARENT.exec(value.trim()) : null;
  if (!m || m[1] === "ff" || (m[1] === "00" && m[5]) || ZEROS.test(m[2]!) || ZEROS.test(m[3]!))
    return undefined;
  return { traceId: m[2]!, spanId: m[3]!, flags: m[4]! };
}

/** @example formatTraceparent({ traceId, spanId, flags: "01" }) // "00-…-…-01" */
export const formatTraceparent = (t: TraceParent): string => `00-${t.traceId}-${t.spanId}-${t.flags}`;

// Random bytes are drawn 4 KB at a time: getRandomValues costs ~5 µs a call, whatever its size.
const pool = new Uint8Array(4096);
let used = pool.length;
const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** `bytes` random bytes as hex, the last one odd (an id is never all zero). */
function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    crypto.getRandomValues(pool);
    used = 0;
  }
  let hex = "";
  for (let i = 0; i < bytes - 1; i++) hex += HEX[pool[used + i]!];
  hex += HEX[pool[used + bytes - 1]! | 1];
  used += bytes;
  return hex;
}

/** A random span id (8 bytes). */
export const randomSpanId = (): string => randomHex(8);

/**
 * The traceparent a publish keeps with its deliveries: the caller's when it is valid (normalised to
 * version 00), else a new trace, sampled, whose parent span is hookline's own publish.
 *
 * @example traceparentOf(request.headers.get("traceparent"))
 */
export function traceparentOf(given: string | null | undefined): string {
  const parsed = parseTraceparent(given);
  return formatTraceparent(parsed ?? { traceId: randomHex(16), spanId: randomSpanId(), flags: "01" });
}
