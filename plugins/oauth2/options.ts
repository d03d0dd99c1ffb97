import { z } from "zod";

const httpUrl = z.url({ protocol: /^https?$/, error: "an absolute http:// or https:// URL" });

/** Names the token request itself sets; an extra field may not override them. */
const RESERVED_FIELDS = new Set(["grant_type", "client_id", "client_secret"]);

/** A base URL: scheme, host and optional port, no path beyond "/", no query. */
const baseUrl = httpUrl.refine((raw) => {
  const u = new URL(raw);
  return (u.pathname === "/" || u.pathname === "") && !u.search && !u.hash && !u.username;
}, "a base URL (scheme, host and port) without a path, e.g. https://api.example.com");

export const ExtraField = z
  .object({
    name: z
      .string()
      .min(1)
      .refine((n) => !RESERVED_FIELDS.has(n), "grant_type, client_id and client_secret are set by hookline"),
    value: z.string(),
    in: z.enum(["body", "query"]).default("body").describe("where the token request carries it"),
  })
  .strict();

/** The `oauth2` integration's own options (the core owns `kind`, `endpointPrefix` and `test`). */
export const OAuth2Options = z
  .object({
    grantType: z
      .enum(["client_credentials", "authorization_code", "refresh_token"])
      .default("client_credentials")
      .describe(
        "client_credentials; authorization_code (a person authorizes once; refresh tokens kept sealed); or refresh_token (an operator pastes a refresh token; rotations kept sealed)",
      ),
    authorizationEndpoint: httpUrl
      .optional()
      .describe("authorization_code: where a person authorizes hookline"),
    redirectUri: httpUrl.optional().describe("authorization_code: hookline's /oauth/callback URL"),
    scope: z
      .string()
      .min(1)
      .optional()
      .describe("authorization_code: the scope asked for in the authorization request"),
    tokenEndpoint: httpUrl.describe("where tokens are requested, e.g. https://api.example.com/oauth2/token"),
    clientId: z.string().min(1),
    clientSecret: z
      .string()
      .min(1)
      .optional()
      .describe(
        "secret: redacted everywhere, never exported; leave it out for a public client (refresh_token)",
      ),
    refreshToken: z
      .string()
      .min(1)
      .optional()
      .describe(
        "refresh_token: the refresh token to start from; secret. Rotations are stored sealed and used instead until this value changes",
      ),
    clientAuthentication: z
      .enum(["header", "body", "query"])
      .default("header")
      .describe("header: client_secret_basic; body: client_secret_post; query: token endpoint query"),
    extraFields: z
      .array(ExtraField)
      .default([])
      .describe("additional token request fields such as scope or audience"),
    allowedDomains: z
      .array(baseUrl)
      .default([])
      .describe("webhook base URLs allowed although they differ from the token endpoint's"),
    tokenPlacement: z
      .enum(["header", "body", "query"])
      .default("header")
      .describe("header: Authorization: Bearer; body: a field of a JSON or form body; query: a parameter"),
    tokenField: z
      .string()
      .min(1)
      .default("access_token")
      .describe("the body field or query parameter that carries the token (RFC 6750 names it access_token)"),
  })
  .strict()
  .superRefine((o, ctx) => {
    const required = (key: keyof typeof o) => {
      if (o[key] === undefined)
        ctx.addIssue({ code: "custom", path: [key], message: `required with grantType ${o.grantType}` });
    };
    // A public client (no secret) can hold a refresh token; client_credentials is a confidential
    // client's grant by definition, and hookline's authorization_code integrations are confidential.
    if (o.grantType !== "refresh_token") required("clientSecret");
    if (o.grantType === "authorization_code")
      for (const key of ["authorizationEndpoint", "redirectUri"] as const) required(key);
    if (o.grantType === "refresh_token") required("refreshToken");
    else if (o.refreshToken !== undefined)
      ctx.addIssue({
        code: "custom",
        path: ["refreshToken"],
        message: "only grantType refresh_token takes a refreshToken",
      });
  });
export type OAuth2Options = z.output<typeof OAuth2Options>;
