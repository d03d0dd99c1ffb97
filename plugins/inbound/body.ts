import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";

/** What came in, or why it cannot be taken. */
export type BodyRead = { ok: true; bytes: Uint8Array } | { ok: false; status: 413; message: string };

/**
 * Reads a request body, refusing (413) past `limit` bytes: at once when Content-Length says so,
 * otherwise as soon as the stream has delivered more, without buffering the rest.
 *
 * @example const body = await readLimited(request, 1_048_576); if (!body.ok) return answer(413, body.message)
 */
export async function readLimited(request: Request, limit: number): Promise<BodyRead> {
  const tooLarge = (): BodyRead => ({
    ok: false,
    status: 413,
    message: `request body larger than ${limit} bytes`,
  });
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared)) {
    if (Number(declared) > limit) return tooLarge();
    // The server reads no more than Content-Length: take it whole (servers serve this without building
    // a stream), and check the size once more for callers that handed over a Request of their own.
    const bytes = new Uint8Array(await request.arrayBuffer());
    return bytes.byteLength > limit ? tooLarge() : { ok: true, bytes };
  }
  if (!request.body) return { ok: true, bytes: new Uint8Array() };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return tooLarge();
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return { ok: true, bytes: chunks[0]! };
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return { ok: true, bytes };
}

/** The body formats an endpoint kind takes. */
export type BodyFormat = "json" | "form";

/**
 * Decides the format from Content-Type: JSON (`application/json`, `*+json`, `text/json`), or form
 * (`application/x-www-form-urlencoded`) where `accept` allows it. A missing Content-Type is read as
 * JSON (some senders leave it out); anything else is unsupported (415).
 *
 * @example bodyFormat("application/json; charset=utf-8", ["json"]) // "json"
 */
export function bodyFormat(
  contentType: string | null,
  accept: readonly BodyFormat[],
): BodyFormat | undefined {
  // The usual case, without building anything.
  if (contentType === "application/json") return accept.includes("json") ? "json" : undefined;
  const type = (contentType ?? "").split(";", 1)[0]!.trim().toLowerCase();
  if (
    type === "" ||
    type === "application/json" ||
    type === "text/json" ||
    /^application\/[\w.+-]+\+json$/.test(type)
  )
    return accept.includes("json") ? "json" : undefined;
  if (type === "application/x-www-form-urlencoded") return accept.includes("form") ? "form" : undefined;
  return undefined;
}

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Parses a JSON body; the error says where it broke.
 *
 * @example parseJson(new TextEncoder().encode('{"a":1}')) // { ok: true, value: { a: 1 } }
 */
export function parseJson(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false; message: string } {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return { ok: false, message: "request body is not UTF-8" };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return { ok: false, message: `request body is not valid JSON: ${(e as Error).message}` };
  }
}

const encoder = new TextEncoder();

/**
 * SHA-256 of bytes or text, as lower-case hex. Synchronous (@noble/hashes): keys are hashed on every
 * request, and `crypto.subtle.digest` costs a thread-pool round trip each time on Node.
 *
 * @example sha256Hex("abc") // "ba7816bf…"
 */
export function sha256Hex(data: Uint8Array | string): string {
  return bytesToHex(sha256(typeof data === "string" ? encoder.encode(data) : data));
}

/** What the receiving pipeline hands a kind's handler once the request is authenticated and read. */
export interface Received {
  endpoint: string;
  bytes: Uint8Array;
  format: BodyFormat;
  url: URL;
  /**
   * The replay key: `id:<sender id>`, else for profile updates `sha256:<hash of query and body>`;
   * `once:<random>` when there is nothing to dedupe on or dedupe is off (for activities, `once`:
   * they dedupe themselves, and keep receipts only of requests the sender named).
   */
  requestKey: string;
  /** The request's W3C `traceparent`: the events it publishes are traced under it. */
  traceparent?: string;
}
