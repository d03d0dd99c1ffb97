import type { InboundVerdict } from "../../core/plugin/index.ts";

const enc = new TextEncoder();
const HASH = { sha256: "SHA-256", sha1: "SHA-1", sha512: "SHA-512" } as const;
/** Signatures looked at per request: a header listing thousands is not worth the CPU. */
const MAX_SIGNATURES = 10;

const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(raw: Uint8Array, hash: string, id: string): Promise<CryptoKey> {
  const cacheKey = `${hash}\u0000${id}`;
  let k = keys.get(cacheKey);
  if (!k) {
    if (keys.size > 1000) keys.clear();
    k = crypto.subtle.importKey("raw", raw as BufferSource, { name: "HMAC", hash }, false, ["verify"]);
    keys.set(cacheKey, k);
  }
  return k;
}

function fromBase64(s: string): Uint8Array | undefined {
  try {
    return Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

function fromHex(s: string): Uint8Array | undefined {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return undefined;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(s.slice(i * 2, i * 2 + 2), 16);
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

const refuse = (code: string, description: string): InboundVerdict => ({ ok: false, code, description });

/**
 * Verifies a Standard Webhooks signature (standardwebhooks.com): HMAC-SHA256 with the base64 key of a
 * `whsec_` secret over `webhook-id.webhook-timestamp.body`, `webhook-signature` listing one or more
 * `v1,<base64>` signatures (several secrets or signatures allow rotation), the timestamp within
 * `toleranceMs` of `nowMs` either way. `crypto.subtle.verify` compares in constant time. On success
 * the verdict carries the sender's `webhook-id`, the replay key.
 *
 * @example await verifyStandardWebhook(request.headers, rawBody, ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"], 300_000, Date.now())
 */
export async function verifyStandardWebhook(
  headers: Headers,
  body: Uint8Array,
  secrets: readonly string[],
  toleranceMs: number,
  nowMs: number,
): Promise<InboundVerdict> {
  const id = headers.get("webhook-id");
  const timestamp = headers.get("webhook-timestamp");
  const signature = headers.get("webhook-signature");
  if (!id || !timestamp || !signature)
    return refuse(
      "HOOKLINE_INBOUND_SIGNATURE",
      "missing webhook-id, webhook-timestamp or webhook-signature header",
    );
  if (!/^\d{1,12}$/.test(timestamp))
    return refuse("HOOKLINE_INBOUND_SIGNATURE", "webhook-timestamp is not a number of seconds");
  const skew = Math.abs(nowMs - Number(timestamp) * 1000);
  if (skew > toleranceMs)
    return refuse(
      "HOOKLINE_INBOUND_SIGNATURE_STALE",
      `webhook-timestamp is ${Math.round(skew / 1000)} s from now; at most ${Math.round(toleranceMs / 1000)} s allowed`,
    );
  const signed = concat(enc.encode(`${id}.${timestamp}.`), body);
  const candidates = signature
    .split(" ")
    .filter((s) => s.startsWith("v1,"))
    .slice(0, MAX_SIGNATURES)
    .map((s) => fromBase64(s.slice(3)))
    .filter((s): s is Uint8Array => s !== undefined);
  for (const secret of secrets) {
    const raw = fromBase64(secret.slice("whsec_".length));
    if (!raw) continue;
    const key = await hmacKey(raw, "SHA-256", secret);
    for (const sig of candidates) {
      if (await crypto.subtle.verify("HMAC", key, sig as BufferSource, signed as BufferSource))
        return { ok: true, senderId: id };
    }
  }
  return refuse(
    "HOOKLINE_INBOUND_SIGNATURE",
    "no webhook-signature matches the body with a configured secret",
  );
}

/**
 * Verifies a generic HMAC signature over the raw body: `header` holds `prefix` + the digest in hex or
 * base64 (GitHub's `X-Hub-Signature-256: sha256=<hex>` is `{ header: "x-hub-signature-256",
 * prefix: "sha256=" }`). Constant-time, through `crypto.subtle.verify`.
 *
 * @example await verifyHmac(request.headers, raw, { header: "x-signature", algorithm: "sha256", secret: "s3cret", encoding: "hex", prefix: "" })
 */
export async function verifyHmac(
  headers: Headers,
  body: Uint8Array,
  o: {
    header: string;
    algorithm: keyof typeof HASH;
    secret: string;
    encoding: "hex" | "base64";
    prefix: string;
  },
): Promise<InboundVerdict> {
  const value = headers.get(o.header)?.trim();
  if (!value) return refuse("HOOKLINE_INBOUND_SIGNATURE", `missing ${o.header} header`);
  if (!value.startsWith(o.prefix))
    return refuse(
      "HOOKLINE_INBOUND_SIGNATURE",
      `${o.header} does not start with ${JSON.stringify(o.prefix)}`,
    );
  const text = value.slice(o.prefix.length);
  const sig = o.encoding === "hex" ? fromHex(text) : fromBase64(text);
  if (!sig) return refuse("HOOKLINE_INBOUND_SIGNATURE", `${o.header} is not ${o.encoding}`);
  const key = await hmacKey(enc.encode(o.secret), HASH[o.algorithm], o.secret);
  return (await crypto.subtle.verify("HMAC", key, sig as BufferSource, body as BufferSource))
    ? { ok: true }
    : refuse("HOOKLINE_INBOUND_SIGNATURE", `${o.header} does not match the body`);
}
