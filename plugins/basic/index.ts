import { z } from "zod";
import { type AuthProvider, type Plugin, Tokens } from "../../core/plugin/index.ts";

const BasicOptions = z
  .object({
    username: z
      .string()
      .min(1)
      .refine((u) => !u.includes(":"), "a user-id may not contain ':' (RFC 7617)"),
    password: z.string(),
  })
  .strict();

/** RFC 7617: base64 of the UTF-8 bytes of "user-id:password". */
function basicToken(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/**
 * HTTP Basic authentication (RFC 7617, UTF-8 charset).
 *
 * @example integrations: { crm: { kind: basic, endpointPrefix: "https://crm.example.com/api", username: u, password: "${CRM_PASSWORD}" } }
 */
export const basicProvider: AuthProvider<z.output<typeof BasicOptions>> = {
  kind: "basic",
  schema: BasicOptions,
  secretFields: ["password"],
  create({ username, password }) {
    const value = `Basic ${basicToken(username, password)}`;
    return {
      credentialHeaders: ["authorization"],
      secrets: () => [password, value.slice(6)],
      authorize: (request) => ({ ...request, headers: { ...request.headers, authorization: value } }),
    };
  },
};

/** @example createHookline({ plugins: [basic(), ...] }) */
export const basic = (): Plugin => ({
  name: "basic",
  register(container) {
    container.register(Tokens.AuthProvider, { useValue: basicProvider });
  },
});
