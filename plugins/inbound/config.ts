import ipaddr from "ipaddr.js";
import { z } from "zod";
import { checkExpression, MappingRule } from "../../core/plugin/index.ts";
import { builtinAuth } from "./auth.ts";
import type { AuthKinds } from "./auth-kinds.ts";
import { ConsentRule } from "./consent-mapping.ts";
import { CheckedFilter } from "./segments/filter.ts";

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

const PropertyName = z.string().min(1).max(200);
const Expression = z
  .string()
  .min(1)
  .superRefine((e, ctx) => {
    if (/^current date$/i.test(e.trim())) return;
    const problem = checkExpression(e);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });

export const endpointName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, "a name of letters, digits, '.', '_' and '-' (at most 100)");

/**
 * The schemas of inbound endpoints and of the `inbound:` section for the authentication kinds the app
 * has, so that a kind a plugin registered is checked as a built-in one is; `kinds` rides along.
 *
 * @example const { InboundSection } = inboundSchemas(compileAuthKinds(container.resolveAll(Tokens.InboundAuth)))
 */
export function inboundSchemas(kinds: AuthKinds) {
  const common = {
    path: z
      .string()
      .regex(/^[A-Za-z0-9._~-]+(\/[A-Za-z0-9._~-]+)*$/, "a path below /in/ of letters, digits, . _ ~ - and /")
      .optional()
      .describe("served at /in/<path>; default: the endpoint's name"),
    auth: kinds.schema,
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

  /** An eSputnik-style receiver of activity-status callbacks. */
  const ActivityStatusEndpoint = z
    .object({
      kind: z.literal("activity-status"),
      ...common,
      maxItems: z.number().int().min(1).max(10_000).default(1000),
    })
    .strict();

  /** BlueConic's "request sent to": updates one profile per request. */
  const ProfileUpdateEndpoint = z
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
      // A rule whose `to` is { consent: objective } gives or withdraws that consent (consent-mapping.ts).
      mappings: z.array(z.union([MappingRule, ConsentRule])).default([]),
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

  const InboundEndpoint = z.discriminatedUnion("kind", [ActivityStatusEndpoint, ProfileUpdateEndpoint]);

  /** The `inbound:` section of hookline.yaml. */
  const InboundSection = z
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

  return { kinds, ActivityStatusEndpoint, ProfileUpdateEndpoint, InboundEndpoint, InboundSection };
}
export type InboundSchemas = ReturnType<typeof inboundSchemas>;

const builtin = inboundSchemas(builtinAuth);

/** An inbound endpoint (with the built-in authentication kinds; `inbound()` checks every registered one). */
export const InboundEndpoint = builtin.InboundEndpoint;
export type InboundEndpoint = z.output<typeof InboundEndpoint>;
export type ActivityStatusEndpoint = z.output<typeof builtin.ActivityStatusEndpoint>;
export type ProfileUpdateEndpoint = z.output<typeof builtin.ProfileUpdateEndpoint>;

/** The `inbound:` section (with the built-in authentication kinds; `inbound()` checks every registered one). */
export const InboundSection = builtin.InboundSection;
export type InboundSection = z.output<typeof InboundSection>;

/** An endpoint's `auth:` with the built-in kinds. */
export const InboundAuth = builtinAuth.schema;
export type InboundAuth = z.output<typeof InboundAuth>;

/** A segment's name, as in `segments.vip` and `/v1/segments/vip`. */
export const SegmentName = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/,
    "a segment name of letters, digits, '.', '_' and '-' (at most 100)",
  );

/** A named segment: its filter (docs/campaigns.md) and what it is for. */
export const SegmentDefinition = z
  .object({
    filter: CheckedFilter,
    description: z.string().max(1000).optional().describe("what the segment is for"),
  })
  .strict();
export type SegmentDefinition = z.output<typeof SegmentDefinition>;

/** The `segments:` section of hookline.yaml: segments by name (read-only through the admin API). */
export const SegmentsSection = z.record(SegmentName, SegmentDefinition).optional();
export type SegmentsSection = z.output<typeof SegmentsSection>;
