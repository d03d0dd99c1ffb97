import { z } from "zod";
import { type AuthProvider, type Plugin, Tokens } from "../../core/plugin/index.ts";

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "an HTTP header name (RFC 9110 token)");
const headerValue = z.string().refine((v) => !/[\r\n\0]/.test(v), "a header value without line breaks");

const HeadersOptions = z
  .object({
    headers: z
      .array(z.object({ name: headerName, value: headerValue, secret: z.boolean().default(true) }).strict())
      .min(1)
      .describe("headers to send; `secret: false` marks a public one (shown by the admin API)"),
  })
  .strict();

/**
 * Custom headers: Bearer tokens (RFC 6750), API keys, Proxy-Authorization… each public or secret.
 * Secret values are redacted everywhere hookline keeps or shows text.
 *
 * @example integrations: { sms: { kind: headers, endpointPrefix: "https://sms.example.com/v1", headers: [{ name: Authorization, value: "Bearer ${SMS_TOKEN}" }] } }
 */
export const headersProvider: AuthProvider<z.output<typeof HeadersOptions>> = {
  kind: "headers",
  schema: HeadersOptions,
  // Public and secret headers are one list: it is kept sealed whole, and shown with secret values masked.
  secretFields: ["headers"],
  create({ headers }) {
    const set = headers.map((h) => [h.name.toLowerCase(), h.value] as const);
    return {
      credentialHeaders: set.map(([n]) => n),
      secrets: () =>
        headers
          .filter((h) => h.secret)
          .flatMap((h) => {
            // A "Bearer x" value: the token alone is the secret too (it may be echoed without its scheme).
            const token = /^\S+\s+(\S.*)$/.exec(h.value)?.[1];
            return token ? [h.value, token] : [h.value];
          }),
      authorize: (request) => {
        const out = { ...request.headers };
        for (const [n, v] of set) out[n] = v;
        return { ...request, headers: out };
      },
    };
  },
};

/** @example createHookline({ plugins: [headers(), ...] }) */
export const headers = (): Plugin => ({
  name: "headers",
  register(container) {
    container.register(Tokens.AuthProvider, { useValue: headersProvider });
  },
});
