import { z } from "zod";
import { type AuthProvider, type Plugin, Tokens } from "../../core/plugin/index.ts";

export const BearerOptions = z
  .object({
    token: z
      .string()
      .regex(/^[A-Za-z0-9\-._~+/]+=*$/, "a token68 (RFC 6750 §2.1: letters, digits and -._~+/ then =)")
      .describe("secret: redacted everywhere, never exported"),
  })
  .strict();
export type BearerOptions = z.output<typeof BearerOptions>;

/**
 * A static bearer token (RFC 6750 §2.1): `Authorization: Bearer <token>`.
 *
 * @example integrations: { esp: { kind: bearer, endpointPrefix: "https://api.example.com/v1", token: "${API_TOKEN}" } }
 */
export const bearerProvider: AuthProvider<BearerOptions> = {
  kind: "bearer",
  schema: BearerOptions,
  secretFields: ["token"],
  create({ token }) {
    const value = `Bearer ${token}`;
    return {
      credentialHeaders: ["authorization"],
      secrets: () => [token],
      authorize: (request) => ({ ...request, headers: { ...request.headers, authorization: value } }),
    };
  },
};

/** @example createHookline({ plugins: [...defaultPlugins(), bearer()] }) */
export const bearer = (): Plugin => ({
  name: "bearer",
  register(container) {
    container.register(Tokens.AuthProvider, { useValue: bearerProvider });
  },
});
