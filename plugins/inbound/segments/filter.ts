import { z } from "zod";
import { PROPERTY_OPERATORS } from "./condition.ts";
import { durationMs, isoTime, MAX_DURATION, RELATIVE_DURATION } from "./values.ts";

// The segment filter language (issue 16): JSON, as the config file and the admin API carry it. One
// object is one condition: `{ property, <operator>: value }`, `{ consent: [...] }`, `{ and: [...] }`,
// `{ or: [...] }` or `{ not: {...} }`. docs/campaigns.md describes it for users; compile.ts turns it
// into SQL and evaluate.ts applies it to a profile in memory, both by the rules of values.ts.

/** A value a property is compared with. */
export type FilterScalar = string | number | boolean;
/** A time relative to now: `{ ago: "7d" }` or `{ fromNow: "7d" }`. */
export type RelativeTime = { ago: string } | { fromNow: string };
/** An absolute ISO 8601 date or a time relative to now. */
export type TimeBound = string | RelativeTime;

/** A segment filter: exactly one condition, or `and` / `or` / `not` of filters. */
export interface SegmentFilter {
  and?: SegmentFilter[];
  or?: SegmentFilter[];
  not?: SegmentFilter;
  /** Granted for at least one of these consent objectives. */
  consent?: string[];
  /** A property path: `tier`, `address.city`, or a list of keys (`["utm.source"]`). */
  property?: string | string[];
  equals?: FilterScalar;
  notEquals?: FilterScalar;
  in?: FilterScalar[];
  exists?: boolean;
  lt?: number | string;
  lte?: number | string;
  gt?: number | string;
  gte?: number | string;
  contains?: FilterScalar;
  before?: TimeBound;
  after?: TimeBound;
  withinLast?: string;
  withinNext?: string;
}

/** The bounds a filter must keep: a filter is a query run over every profile, so it stays small. */
export const FILTER_LIMITS = Object.freeze({
  /** Levels of and / or / not. */
  depth: 10,
  /** Condition objects in one filter, and / or / not included. */
  conditions: 200,
  /** Values in one `in` list. */
  inValues: 1000,
  /** Characters in one string value. */
  stringLength: 1000,
  /** Keys in one property path. */
  pathKeys: 10,
  /** Objectives in one `consent` list. */
  objectives: 50,
});

export { conditionOf, PROPERTY_OPERATORS, type PropertyOperator } from "./condition.ts";

const COMBINATORS = ["and", "or", "not", "consent"] as const;

// Postgres text holds neither NUL nor unpaired surrogates; a value with one could never match alike.
const storable = (s: string) => !s.includes("\u0000") && !/\p{Surrogate}/u.test(s);
const text = (what: string, max: number) =>
  z
    .string({ error: `expected ${what}` })
    .max(max, `expected ${what} of at most ${max} characters`)
    .refine(storable, "expected text without NUL characters or unpaired surrogates");

const scalarMessage = "expected a string, a number or a boolean (for a missing value use exists: false)";
const Scalar = z.union(
  [
    text("a string", FILTER_LIMITS.stringLength),
    z.number({ error: "expected a finite number" }),
    z.boolean(),
  ],
  { error: scalarMessage },
);
const Comparable = z.union([text("a string", FILTER_LIMITS.stringLength), z.number()], {
  error: "expected a number or a date (or a string, compared by code point)",
});

const Duration = z
  .string({ error: 'expected a duration such as "30d", "12h", "90m" or "2w"' })
  .regex(RELATIVE_DURATION, 'expected a duration such as "30d", "12h", "90m" or "2w"')
  .refine(
    (s) => !RELATIVE_DURATION.test(s) || durationMs(s) <= MAX_DURATION,
    "expected a duration of at most 36500d",
  );

const dateMessage =
  'expected an ISO 8601 date such as "2024-05-01" or "2024-05-01T09:30:00Z", or { ago: "7d" } or { fromNow: "7d" }';
const TimeBoundSchema = z.union(
  [
    z.string().refine((s) => isoTime(s) !== undefined, dateMessage),
    z.object({ ago: Duration }).strict(),
    z.object({ fromNow: Duration }).strict(),
  ],
  { error: dateMessage },
);

/** A consent objective's name, e.g. `marketing-email`. */
export const Objective = z
  .string({ error: "expected an objective name" })
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/,
    "expected an objective name of letters, digits, '.', '_', ':' and '-'",
  );

const PathKey = text("a property key", 200).min(1, "expected a non-empty property key");
const Path = z.union(
  [
    z
      .string()
      .min(1, "expected a property path such as tier or address.city")
      .refine(
        (s) => s.split(".").every((k) => k.length > 0),
        "expected keys joined by '.', none of them empty",
      )
      .refine(
        (s) => s.split(".").length <= FILTER_LIMITS.pathKeys,
        `expected at most ${FILTER_LIMITS.pathKeys} keys`,
      )
      .refine((s) => s.split(".").every((k) => k.length <= 200), "expected keys of at most 200 characters")
      .refine(storable, "expected text without NUL characters or unpaired surrogates"),
    z.array(PathKey).min(1).max(FILTER_LIMITS.pathKeys),
  ],
  { error: 'expected a property path such as "tier", "address.city" or ["utm.source"]' },
);

const operatorList = [...PROPERTY_OPERATORS].join(", ");

const Condition: z.ZodType<SegmentFilter> = z
  .object({
    get and() {
      return z.array(Condition, { error: "expected a list of filters" }).optional();
    },
    get or() {
      return z.array(Condition, { error: "expected a list of filters" }).optional();
    },
    get not() {
      return Condition.optional();
    },
    consent: z
      .array(Objective)
      .min(1, "expected at least one objective")
      .max(FILTER_LIMITS.objectives)
      .optional(),
    property: Path.optional(),
    equals: Scalar.optional(),
    notEquals: Scalar.optional(),
    in: z
      .array(Scalar, { error: "expected a list of values" })
      .min(1, "expected at least one value")
      .max(FILTER_LIMITS.inValues, `expected at most ${FILTER_LIMITS.inValues} values`)
      .optional(),
    exists: z.boolean({ error: "expected true or false" }).optional(),
    lt: Comparable.optional(),
    lte: Comparable.optional(),
    gt: Comparable.optional(),
    gte: Comparable.optional(),
    contains: Scalar.optional(),
    before: TimeBoundSchema.optional(),
    after: TimeBoundSchema.optional(),
    withinLast: Duration.optional(),
    withinNext: Duration.optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const given = [...COMBINATORS, ...PROPERTY_OPERATORS].filter((k) => c[k] !== undefined);
    if (given.length === 0) {
      ctx.addIssue({
        code: "custom",
        message: `expected one condition: a property with one of ${operatorList}; consent; and; or; not`,
      });
      return;
    }
    if (given.length > 1) {
      ctx.addIssue({
        code: "custom",
        path: [given[1]!],
        message: `one condition per object (found ${given.join(" and ")}): combine conditions with and`,
      });
      return;
    }
    const op = given[0]!;
    const needsProperty = (PROPERTY_OPERATORS as readonly string[]).includes(op);
    if (needsProperty && c.property === undefined)
      ctx.addIssue({
        code: "custom",
        path: [op],
        message: `${op} needs a property: { property: …, ${op}: … }`,
      });
    if (!needsProperty && c.property !== undefined)
      ctx.addIssue({ code: "custom", path: ["property"], message: `${op} takes no property` });
  });

/**
 * A segment filter, checked: the grammar, each value's type, and the bounds of `FILTER_LIMITS`. Each
 * issue's path points into the filter (`and[1].gt`; see `filterProblems`).
 *
 * @example
 * SegmentFilter.parse({ and: [{ property: "tier", equals: "gold" }, { property: "lastOrder", withinLast: "30d" }] })
 */
export const SegmentFilter: z.ZodType<SegmentFilter> = Condition.superRefine((filter, ctx) => {
  let conditions = 0;
  const walk = (f: SegmentFilter, path: (string | number)[], depth: number): boolean => {
    conditions++;
    if (conditions > FILTER_LIMITS.conditions) {
      ctx.addIssue({
        code: "custom",
        path,
        message: `more than ${FILTER_LIMITS.conditions} conditions in one filter`,
      });
      return false;
    }
    const children: Array<[SegmentFilter, (string | number)[]]> = f.not
      ? [[f.not, [...path, "not"]]]
      : (f.and ?? f.or ?? []).map((g, i) => [g, [...path, f.and ? "and" : "or", i]]);
    if (children.length > 0 && depth >= FILTER_LIMITS.depth) {
      ctx.addIssue({
        code: "custom",
        path,
        message: `nested deeper than ${FILTER_LIMITS.depth} levels of and, or, not`,
      });
      return false;
    }
    return children.every(([g, p]) => walk(g, p, depth + 1));
  };
  walk(filter, [], 0);
});

/**
 * A path into a filter as a reader writes it: `and[1].gt`, under `at` (`segments.vip.filter`).
 *
 * @example filterPath(["and", 1, "gt"], "segments.vip.filter") // "segments.vip.filter.and[1].gt"
 */
export function filterPath(path: readonly PropertyKey[], at = ""): string {
  let out = at;
  for (const key of path) out += typeof key === "number" ? `[${key}]` : `${out ? "." : ""}${String(key)}`;
  return out;
}

/**
 * Checks a filter; the problems, if any, each as `path: message` under `at`.
 *
 * @example
 * checkFilter({ and: [{ property: "a", equals: 1 }, { property: "b", gt: true }] }, "segments.vip.filter")
 * // { ok: false, problems: ["segments.vip.filter.and[1].gt: expected a number or a date (or a string, compared by code point)"] }
 */
export function checkFilter(
  input: unknown,
  at = "filter",
): { ok: true; filter: SegmentFilter } | { ok: false; problems: string[] } {
  // zod walks a filter recursively: a value nested past the stack is refused before it gets there (the
  // JSON body and config loaders bound depth too, to 64).
  if (nestedDeeper(input, 2 * FILTER_LIMITS.depth + 4))
    return {
      ok: false,
      problems: [`${at}: nested deeper than ${FILTER_LIMITS.depth} levels of and, or, not`],
    };
  const parsed = SegmentFilter.safeParse(input);
  if (parsed.success) return { ok: true, filter: parsed.data };
  return { ok: false, problems: parsed.error.issues.map((i) => `${filterPath(i.path, at)}: ${i.message}`) };
}

/** Whether a JSON value holds objects or lists more than `limit` levels deep (walked without recursion). */
function nestedDeeper(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth >= limit) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * A segment filter checked by `checkFilter`, each problem at its place in the filter with the filter's
 * own wording (the config loader would reword a union's issue as the types it takes).
 */
export const CheckedFilter = z
  .unknown()
  .transform((input, ctx) => {
    const checked = checkFilter(input);
    if (checked.ok) return checked.filter;
    const parsed = SegmentFilter.safeParse(input);
    const issues = parsed.success ? [] : parsed.error.issues;
    for (const i of issues)
      ctx.addIssue({ code: "custom", path: i.path, message: i.message, input: valueAtPath(input, i.path) });
    // Refused before zod walked it (nested too deep): checkFilter's one problem.
    if (issues.length === 0)
      ctx.addIssue({ code: "custom", message: checked.problems[0]!.replace(/^filter: /, ""), input });
    return z.NEVER;
  })
  .describe("a segment filter (docs/campaigns.md): one condition, or and / or / not of filters");

/** The value at a zod issue's path inside `input` (undefined past its end). */
function valueAtPath(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const key of path) v = v !== null && typeof v === "object" ? (v as any)[key as string] : undefined;
  return v;
}
