import { z } from "zod";
import { type AuthProvider, type Plugin, Tokens } from "../../core/plugin/index.ts";

const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, "an HTTP header name (RFC 9110 token)");

export const ApiKeyOptions = z
  .object({
    in: z
      .enum(["header", "query"])
      .default("header")
      .describe("header, or query (less safe: URLs end up in logs)"),
    name: z.string().min(1).describe("the header or query parameter name, e.g. X-API-Key or apikey"),
    value: z
      .string()
      .min(1)
      .refine((v) => !/[\r\n\0]/.test(v), "a key without line breaks")
      .describe("secret: redacted everywhere, never exported"),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (o.in === "header" && !headerName.safeParse(o.name).success)
      ctx.addIssue({ code: "custom", path: ["name"], message: "an HTTP header name (RFC 9110 token)" });
  });
export type ApiKeyOptions = z.output<typeof ApiKeyOptions>;

/**
 * An API key in a named header or query parameter (eSputnik's and BlueConic's connectors). The
 * query form is set, not appended, and the core records the URL as it was before the key went in.
 *
 * @example integrations: { esp: { kind: apikey, endpointPrefix: "https://esputnik.com/api", in: header, name: X-API-Key, value: "${ESP_KEY}" } }
 */
export const apiKeyProvider: AuthProvider<ApiKeyOptions> = {
  kind: "apikey",
  schema: ApiKeyOptions,
  secretFields: ["value"],
  create(o) {
    const header = o.name.toLowerCase();
    const encoded = [encodeURIComponent(o.value), new URLSearchParams({ k: o.value }).toString().slice(2)];
    return {
      credentialHeaders: o.in === "header" ? [header] : [],
      secrets: () => [...new Set([o.value, ...encoded])],
      authorize(request) {
        if (o.in === "header") return { ...request, headers: { ...request.headers, [header]: o.value } };
        const url = new URL(request.url);
        url.searchParams.set(o.name, o.value);
        return { ...request, url: url.href };
      },
    };
  },
};

/** @example createHookline({ plugins: [...defaultPlugins(), apikey()] }) */
export const apikey = (): Plugin => ({
  name: "apikey",
  register(container) {
    container.register(Tokens.AuthProvider, { useValue: apiKeyProvider });
  },
});
