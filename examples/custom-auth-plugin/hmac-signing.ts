// A third-party authentication plugin for a partner scheme: HMAC-SHA256 over method, path,
// timestamp and body in "X-Partner-Signature: k=<key id>,t=<unix seconds>,v1=<hex>", the way many
// partner APIs ask. Both sides in one plugin: as an integration kind it signs what hookline sends
// (`integrations:`), as an inbound authentication kind it verifies what the partner sends to an
// inbound endpoint (`inbound:`). It uses only `hookline/plugin` and WebCrypto, so it runs on every runtime.
import { z } from "zod";
import {
  type AuthProvider,
  Duration,
  type InboundAuthKind,
  type InboundRefused,
  type Plugin,
  Tokens,
  timingSafeEqual,
} from "../../core/plugin/index.ts";

const enc = new TextEncoder();
const hex = (buf: ArrayBuffer) =>
  [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** The string both sides sign: method, path with query, timestamp and body, one per line. */
export function canonical(method: string, url: string, timestamp: number, body = ""): string {
  const u = new URL(url);
  return `${method}\n${u.pathname}${u.search}\n${timestamp}\n${body}`;
}

/**
 * Signs `canonical(...)` with HMAC-SHA256.
 *
 * @example await hmacHex("a-long-shared-secret", canonical("POST", "https://x/y", 1700000000, "{}"))
 */
export async function hmacHex(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    enc.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return hex(await crypto.subtle.sign("HMAC", key, enc.encode(text)));
}

const HmacSigningOptions = z
  .object({
    keyId: z.string().min(1).describe("which key the partner should verify with"),
    secret: z.string().min(16, "at least 16 characters").describe("the shared secret"),
    header: z.string().default("X-Partner-Signature"),
  })
  .strict();
type HmacSigningOptions = z.output<typeof HmacSigningOptions>;

/** The integration kind: validated options, its secret declared (redacted everywhere, left out of exports). */
export const hmacSigningProvider: AuthProvider<HmacSigningOptions> = {
  kind: "hmac-signing",
  schema: HmacSigningOptions,
  secretFields: ["secret"],
  create(o, context) {
    context.logger.log("debug", "hmac-signing ready", { integration: context.name, keyId: o.keyId });
    return {
      secrets: () => [o.secret],
      credentialHeaders: [o.header.toLowerCase()],
      async authorize(request) {
        const t = Math.floor(Date.now() / 1000);
        const sig = await hmacHex(o.secret, canonical(request.method, request.url, t, request.body));
        return {
          ...request,
          headers: { ...request.headers, [o.header.toLowerCase()]: `k=${o.keyId},t=${t},v1=${sig}` },
        };
      },
    };
  },
};

const HmacVerifyingOptions = HmacSigningOptions.extend({
  tolerance: Duration.default(300_000).describe("how far the signed timestamp may be from now"),
}).strict();
type HmacVerifyingOptions = z.output<typeof HmacVerifyingOptions>;

const refuse = (description: string): InboundRefused => ({
  ok: false,
  code: "PARTNER_SIGNATURE",
  description,
});

/**
 * The inbound authentication kind: checks the signature over the raw body (so after the receiver's
 * content-type and size checks), the key id and the timestamp's age; a refusal is a 401 with the code
 * `PARTNER_SIGNATURE` and what was wrong, never the secret.
 *
 * @example inbound: { endpoints: { partner: { kind: activity-status, auth: { kind: hmac-signing, keyId: k1, secret: "${PARTNER_SECRET}" } } } }
 */
export const hmacVerifyingAuth: InboundAuthKind<HmacVerifyingOptions> = {
  kind: "hmac-signing",
  schema: HmacVerifyingOptions,
  secrets: (o) => [o.secret],
  create: (o, context) => ({
    async body(request, body) {
      const m = /^k=([^,]+),t=(\d{1,12}),v1=([0-9a-f]{64})$/.exec(request.headers.get(o.header) ?? "");
      if (!m) return refuse(`missing or malformed ${o.header}; expected k=<key id>,t=<seconds>,v1=<hex>`);
      if (m[1] !== o.keyId)
        return refuse(`${o.header} names key ${JSON.stringify(m[1])}, not this endpoint's`);
      const t = Number(m[2]);
      const skew = Math.abs(context.now() - t * 1000);
      if (skew > o.tolerance)
        return refuse(
          `the signed timestamp is ${Math.round(skew / 1000)} s from now; at most ${o.tolerance / 1000} s`,
        );
      const text = new TextDecoder().decode(body);
      const expected = await hmacHex(o.secret, canonical(request.method, request.url, t, text));
      return timingSafeEqual(expected, m[3]!)
        ? { ok: true }
        : refuse(`${o.header} does not match the request`);
    },
  }),
};

/**
 * The plugin: register it beside the defaults (their `inbound()` serves the endpoints it verifies for).
 *
 * @example createHookline({ plugins: [...defaultPlugins(), hmacSigning()], … })
 */
export const hmacSigning = (): Plugin => ({
  name: "hmac-signing",
  register(container) {
    container.register(Tokens.AuthProvider, { useValue: hmacSigningProvider });
    container.register(Tokens.InboundAuth, { useValue: hmacVerifyingAuth });
  },
});
