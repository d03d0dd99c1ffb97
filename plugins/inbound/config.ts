import ipaddr from "ipaddr.js";
import { z } from "zod";
import { Duration } from "../../core/config/duration.ts";
import { checkExpression, MappingRule } from "../../core/mapping/index.ts";

const cidr = z
  .string()
  .refine((s) => {
    try {
      ipaddr.parseCIDR(s.includes("/") ? s.trim() : `${s.trim()}/${s.includes(":") ? 128 : 32}`);
      return true;
    } catch {
      return false;
    }
  }, "an IPv4 or IPv6 address or CIDR range such as 203.0.113.0/24 or 2001:db8::/32")
  .describe("an address or CIDR range");

const secret = z.string().min(1);

/** A byte count: a number, or "512kb", "1mb" (1024-based). */
export const ByteSize = z.union([
  z.number().int().positive(),
  z
    .string()
    .regex(/^\d+\s*(b|kb|mb)$/i, 'a size such as 65536, "512kb" or "5mb"')
    .transform((s) => {
      const m = /^(\d+)\s*(b|kb|mb)$/i.exec(s)!;
      return Number(m[1]) * { b: 1, kb: 1024, mb: 1024 * 1024 }[m[2]!.toLowerCase() as "b"];
    }),
]);

/** How an inbound endpoint authenticates the sender. Every comparison is constant-time. */
export const InboundAuth = z.discriminatedUnion("kind", [
  z
    .object({
      kind: z.literal("apiKey"),
      header: z.string().min(1).default("x-api-key").describe("the header carrying the key"),
      query: z.string().min(1).default("apiKey").describe("the query parameter, when allowQuery is on"),
      allowQuery: z
        .boolean()
        .default(false)
        .describe("accept the key in the URL (less secure: URLs are logged)"),
      keys: z.array(secret).min(1).describe("accepted keys (several, for rotation)"),
    })
    .strict(),
  z
    .object({
      kind: z.literal("bearer"),
      tokens: z.array(secret).min(1).optional().describe("accepted static tokens"),
      jwks: z
        .union([
          z.object({ url: z.url({ protocol: /^https?$/ }) }).strict(),
          z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }).strict(),
        ])
        .optional()
        .describe("verify JWTs against these keys: a JWKS URL or inline keys"),
      issuer: z.string().min(1).optional(),
      audience: z.string().min(1).optional(),
      algorithms: z.array(z.string().min(1)).optional(),
      clockTolerance: Duration.default(5_000),
    })
    .strict()
    .refine((a) => (a.tokens ? !a.jwks : a.jwks), "give either tokens or jwks")
    .refine((a) => !a.jwks || (a.issuer && a.audience), "JWT verification needs issuer and audience"),
  z
    .object({
      kind: z.literal("basic"),
      users: z.array(z.object({ username: z.string().min(1), password: secret }).strict()).min(1),
    })
    .strict(),
  z
    .object({
      kind: z.literal("standardWebhooks"),
      secrets: z
        .array(secret.regex(/^whsec_[A-Za-z0-9+/=]+$/, "a secret of the form whsec_<base64>"))
        .min(1)
        .describe("accepted signing secrets (several, for rotation)"),
      tolerance: Duration.default(300_000).describe("how far webhook-timestamp may be from now"),
    })
    .strict(),
  z
    .object({
      kind: z.literal("hmac"),
      header: z.string().min(1).describe("the header carrying the signature"),
      algorithm: z.enum(["sha256", "sha1", "sha512"]).default("sha256"),
      secret,
      encoding: z.enum(["hex", "base64"]).default("hex"),
      prefix: z.string().default("").describe('text before the signature, e.g. "sha256="'),
    })
    .strict(),
  z.object({ kind: z.literal("none") }).strict(),
]);
export type InboundAuth = z.output<typeof InboundAuth>;

const common = {
  path: z
    .string()
    .regex(/^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/, "a path below /in/ of letters, digits, . _ ~ - and /")
    .optional()
    .describe("served at /in/<path>; default: the endpoint's name"),
  auth: InboundAuth,
  ipAllowlist: z.array(cidr).optional().describe("only these addresses may call; default: any"),
  trustedProxies: z
    .array(cidr)
    .optional()
    .describe("proxies whose X-Forwarded-For is believed; without them the socket address counts"),
  bodyLimit: ByteSize.default(1024 * 1024),
  dedupe: z
    .enum(["auto", "id", "none"])
    .default("auto")
    .describe("replays: auto = the sender's id (webhook-id, Idempotency-Key) else a content hash"),
};

const PropertyName = z.string().min(1).max(200);
const Expression = z
  .string()
  .min(1)
  .superRefine((e, ctx) => {
    if (/^current date$/i.test(e.trim())) return;
    const problem = checkExpression(e);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

/** An eSputnik-style receiver of activity-status callbacks. */
export const ActivityStatusEndpoint = z
  .object({
    kind: z.literal("activity-status"),
    ...common,
    maxItems: z.number().int().min(1).max(10_000).default(1000),
  })
  .strict();

/** BlueConic's "request sent to": updates one profile per request. */
export const ProfileUpdateEndpoint = z
  .object({
    kind: z.literal("profile-update"),
    ...common,
    identifier: z
      .object({
        property: PropertyName.describe("the profile property that identifies the customer"),
        query: z
          .string()
          .min(1)
          .optional()
          .describe("query parameter carrying it; default: the property name"),
        from: Expression.optional().describe("or a JSONPath / form field in the body"),
      })
      .strict(),
    createProfiles: z.boolean().default(false),
    mappings: z.array(MappingRule).default([]),
    timeline: z
      .array(
        z
          .object({
            type: z.string().min(1).max(200),
            date: Expression.default("current date").describe('a JSONPath / field, or "current date"'),
            fields: z.record(z.string().min(1), Expression).default({}),
          })
          .strict(),
      )
      .default([]),
  })
  .strict();

export const InboundEndpoint = z.discriminatedUnion("kind", [ActivityStatusEndpoint, ProfileUpdateEndpoint]);
export type InboundEndpoint = z.output<typeof InboundEndpoint>;
export type ActivityStatusEndpoint = z.output<typeof ActivityStatusEndpoint>;
export type ProfileUpdateEndpoint = z.output<typeof ProfileUpdateEndpoint>;

export const endpointName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, "a name of letters, digits, '.', '_' and '-' (at most 100)");

/** The `inbound:` section of hookline.yaml. */
export const InboundSection = z
  .object({
    endpoints: z.record(endpointName, InboundEndpoint).default({}),
  })
  .strict()
  .superRefine((s, ctx) => {
    const seen = new Map<string, string>();
    for (const [name, e] of Object.entries(s.endpoints)) {
      const path = e.path ?? name;
      const other = seen.get(path);
      if (other)
        ctx.addIssue({
          code: "custom",
          path: ["endpoints", name, "path"],
          message: `path /in/${path} is also the path of endpoint "${other}"`,
        });
      seen.set(path, name);
    }
  })
  .optional();
export type InboundSection = z.output<typeof InboundSection>;

/**
 * Every secret value an endpoint's auth holds (for the redactor, and to seal at rest).
 *
 * @example authSecrets({ kind: "basic", users: [{ username: "u", password: "p4ss" }] }) // ["p4ss"]
 */
export function authSecrets(auth: InboundAuth): string[] {
  switch (auth.kind) {
    case "apiKey":
      return auth.keys;
    case "bearer":
      return auth.tokens ?? [];
    case "basic":
      return auth.users.map((u) => u.password);
    case "standardWebhooks":
      return auth.secrets;
    case "hmac":
      return [auth.secret];
    case "none":
      return [];
  }
}
