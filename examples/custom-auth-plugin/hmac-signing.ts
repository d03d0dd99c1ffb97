// A third-party authentication plugin: signs each request with HMAC-SHA256 over method, path,
// timestamp and body, the way many partner APIs ask (e.g. "X-Partner-Signature: t=…,v1=…").
// It uses only the public API of hookline and WebCrypto, so it runs on every runtime.
import { z } from "zod";
import type { AuthProvider, Plugin } from "../../core/index.ts";
import { Tokens } from "../../core/index.ts";

const HmacSigningOptions = z
  .object({
    keyId: z.string().min(1).describe("which key the partner should verify with"),
    secret: z.string().min(16, "at least 16 characters").describe("the shared secret"),
    header: z.string().default("X-Partner-Signature"),
  })
  .strict();
type HmacSigningOptions = z.output<typeof HmacSigningOptions>;

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

/** The provider: validated options, its secret declared (redacted everywhere, left out of exports). */
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

/**
 * The plugin: register it beside the defaults.
 *
 * @example createHookline({ plugins: [...defaultPlugins(), hmacSigning()], … })
 */
export const hmacSigning = (): Plugin => ({
  name: "hmac-signing",
  register(container) {
    container.register(Tokens.AuthProvider, { useValue: hmacSigningProvider });
  },
});
