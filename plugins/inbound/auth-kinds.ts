import { z } from "zod";
import {
  HooklineError,
  type InboundAuthContext,
  type InboundAuthKind,
  type InboundVerifier,
} from "../../core/plugin/index.ts";

/** An endpoint's `auth:` as loaded: its `kind`, and that kind's options (defaults applied). */
export type InboundAuth = { readonly kind: string } & Readonly<Record<string, unknown>>;

/** The inbound authentication kinds an app has, compiled once: the `auth:` schema and what uses it. */
export interface AuthKinds {
  /** The kinds' names, in registration order. */
  readonly names: readonly string[];
  /** `auth:`: one of the kinds, its options checked by that kind's schema (issues keep their paths). */
  readonly schema: z.ZodType<InboundAuth>;
  /** The verifier for an endpoint's auth; throws `HOOKLINE_INBOUND_AUTH_KIND` for a kind not registered. */
  verifier(auth: InboundAuth, context: InboundAuthContext): InboundVerifier;
  /** Every secret value the auth holds (for the redactor; sealed at rest when there is any). */
  secrets(auth: InboundAuth): string[];
  /** The auth as answers show it: each secret value replaced by "[REDACTED]". */
  masked(auth: InboundAuth): InboundAuth;
}

/**
 * Compiles the registered kinds (`Tokens.InboundAuth`). Two kinds of one name are refused: which one
 * verifies an endpoint must not depend on the order plugins were listed in.
 *
 * @example const kinds = compileAuthKinds(container.resolveAll(Tokens.InboundAuth)); kinds.schema.parse({ kind: "none" })
 */
export function compileAuthKinds(kinds: readonly InboundAuthKind[]): AuthKinds {
  const byName = new Map<string, InboundAuthKind>();
  for (const k of kinds) {
    if (byName.has(k.kind))
      throw new HooklineError(
        "HOOKLINE_INBOUND_AUTH_KIND",
        `two inbound authentication kinds are named "${k.kind}"; register each once`,
      );
    byName.set(k.kind, k);
  }
  const names = [...byName.keys()];
  const split = (auth: InboundAuth): [InboundAuthKind, Record<string, unknown>] => {
    const kind = byName.get(auth.kind);
    if (!kind)
      throw new HooklineError(
        "HOOKLINE_INBOUND_AUTH_KIND",
        `no inbound authentication kind "${auth.kind}" is registered; expected one of: ${names.join(", ")}`,
      );
    const { kind: _, ...options } = auth;
    return [kind, options];
  };
  const secrets = (auth: InboundAuth): string[] => {
    const [kind, options] = split(auth);
    return [...kind.secrets(options)];
  };
  const unknownKind = (kind: unknown) =>
    `${kind === undefined ? "missing kind" : `unknown inbound auth kind ${JSON.stringify(kind)}`}; expected one of: ${names.join(", ")}`;
  const schema = z.discriminatedUnion("kind", kinds.map(withKind) as [z.ZodObject, ...z.ZodObject[]], {
    // zod's own words would be "invalid value": name the kinds this app has.
    error: (issue) =>
      issue.code === "invalid_union" && (issue as { note?: string }).note === "No matching discriminator"
        ? unknownKind((issue.input as { kind?: unknown }).kind)
        : undefined,
  }) as unknown as z.ZodType<InboundAuth>;
  return {
    names,
    schema,
    verifier(auth, context) {
      const [kind, options] = split(auth);
      return kind.create(options, context);
    },
    secrets,
    masked(auth) {
      const hidden = new Set(secrets(auth));
      const mask = (v: unknown): unknown => {
        if (typeof v === "string") return hidden.has(v) ? "[REDACTED]" : v;
        if (Array.isArray(v)) return v.map(mask);
        if (v && typeof v === "object")
          return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mask(x)]));
        return v;
      };
      return { ...(mask(auth) as object), kind: auth.kind };
    },
  };
}

/**
 * A kind's schema with `kind` added: for an object schema, the same object with one more field (its
 * strictness, defaults and cross-field checks kept, and the JSON Schema the config's editors read
 * lists its options); for any other schema, `kind` is taken off before it parses and put back after.
 */
function withKind(k: InboundAuthKind): z.ZodType {
  const schema = k.schema as z.ZodType<unknown, any>;
  const def = schema._zod.def as { type: string; shape?: Record<string, z.ZodType> };
  if (def.type === "object")
    return schema.clone({
      ...def,
      shape: { kind: z.literal(k.kind), ...def.shape },
    } as typeof schema._zod.def);
  return z
    .looseObject({ kind: z.literal(k.kind) })
    .transform(({ kind: _, ...options }) => options)
    .pipe(schema)
    .transform((options) => ({ kind: k.kind, ...(options as object) }));
}
