// W3C Trace Context (https://www.w3.org/TR/trace-context/#traceparent-header) without the
// OpenTelemetry API: the outbox keeps a traceparent with each delivery on the edge worker too, whose
// bundle has no room for the API, and an attempt sends one even where no SDK is registered.

/** `version-traceid-parentid-flags`, lower-case hex; version 00 (a later version's first four fields). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

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
  if (!value || value.length > 512) return undefined;
  const m = TRACEPARENT.exec(value.trim());
  if (!m) return undefined;
  const [, version, traceId, spanId, flags, rest] = m as unknown as [
    string,
    string,
    string,
    string,
    string,
    string?,
  ];
  if (version === "ff" || (version === "00" && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId) || /^0+$/.test(spanId)) return undefined;
  return { traceId, spanId, flags };
}

/** @example formatTraceparent({ traceId, spanId, flags: "01" }) // "00-…-…-01" */
export const formatTraceparent = (t: TraceParent): string => `00-${t.traceId}-${t.spanId}-${t.flags}`;

const hex = (bytes: Uint8Array): string => {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
};

/** A random span id (8 bytes, never all zero). */
export function randomSpanId(): string {
  const b = crypto.getRandomValues(new Uint8Array(8));
  b[7]! |= 1;
  return hex(b);
}

/** A random trace id (16 bytes, never all zero). */
export function randomTraceId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[15]! |= 1;
  return hex(b);
}

/**
 * The traceparent a publish keeps with its deliveries: the caller's when it is valid (normalised to
 * version 00), else a new trace, sampled, whose parent span is hookline's own publish.
 *
 * @example traceparentOf(request.headers.get("traceparent"))
 */
export function traceparentOf(given: string | null | undefined): string {
  const parsed = parseTraceparent(given);
  return parsed
    ? formatTraceparent(parsed)
    : formatTraceparent({ traceId: randomTraceId(), spanId: randomSpanId(), flags: "01" });
}

/**
 * The traceparent an attempt sends when no tracer records it: the same trace, a new span id (the
 * attempt's own), the caller's flags.
 *
 * @example childTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
 */
export function childTraceparent(parent: string): string | undefined {
  const p = parseTraceparent(parent);
  return p ? formatTraceparent({ ...p, spanId: randomSpanId() }) : undefined;
}
