import { conditionOf, type PropertyOperator } from "./condition.ts";
import type { FilterScalar, SegmentFilter, TimeBound } from "./filter.ts";
import { compareText, durationMs, isoTime, numberOf, pathKeys, valueAt } from "./values.ts";

// The segment filter applied to one profile in memory: for segment entry and exit when a profile
// changes, and as the reference the SQL of compile.ts is held equal to (tests/plugins/inbound/
// segments/filter.property.test.ts). Every condition is true or false, never unknown: a missing
// value fails every condition but `exists: false`, and `not` turns false into true.

/** What a filter is applied to: a profile's properties and its consents by objective. */
export interface SegmentSubject {
  properties: Readonly<Record<string, unknown>>;
  /** The profile's consent per objective (only `granted` is read). */
  consents?: Readonly<Record<string, { readonly granted: boolean }>>;
}

/**
 * Whether a profile is in the segment a (checked) filter describes, at `now` (for relative times).
 * To test many profiles, make the matcher once with `filterMatcher`.
 *
 * @example
 * matchesFilter({ property: "tier", in: ["gold", "platinum"] }, { properties: { tier: "gold" } }, { now: new Date() }) // true
 */
export function matchesFilter(
  filter: SegmentFilter,
  subject: SegmentSubject,
  options: { now: Date | number },
): boolean {
  return filterMatcher(filter, options)(subject);
}

/**
 * A (checked) filter made into a test of one profile at `now`: paths split, dates read and relative
 * times fixed once, not per profile.
 *
 * @example
 * const inVip = filterMatcher(vip.filter, { now: Date.now() });
 * const entered = !inVip(before) && inVip(after);
 */
export function filterMatcher(
  filter: SegmentFilter,
  options: { now: Date | number },
): (subject: SegmentSubject) => boolean {
  const now = typeof options.now === "number" ? options.now : options.now.getTime();
  const build = (f: SegmentFilter): ((s: SegmentSubject) => boolean) => {
    const c = conditionOf(f);
    switch (c.op) {
      case "and": {
        const parts = c.value.map(build);
        return (s) => parts.every((p) => p(s));
      }
      case "or": {
        const parts = c.value.map(build);
        return (s) => parts.some((p) => p(s));
      }
      case "not": {
        const inner = build(c.value);
        return (s) => !inner(s);
      }
      case "consent": {
        const objectives = c.value;
        return (s) =>
          objectives.some(
            (o) =>
              s.consents !== undefined && Object.hasOwn(s.consents, o) && s.consents[o]!.granted === true,
          );
      }
    }
    const keys = pathKeys(c.property);
    const test = valueTest(c.op, c.value, now);
    return (s) => test(valueAt(s.properties, keys));
  };
  return build(filter);
}

/** The test a property condition makes of the value at its path (undefined: missing). */
function valueTest(op: PropertyOperator, value: unknown, now: number): (v: unknown) => boolean {
  switch (op) {
    case "exists":
      return (v) => (v !== undefined) === value;
    case "equals":
      return (v) => same(v, value as FilterScalar);
    case "notEquals":
      return (v) => v !== undefined && !same(v, value as FilterScalar);
    case "in": {
      const xs = value as FilterScalar[];
      return (v) => xs.some((x) => same(v, x));
    }
    case "lt":
      return comparison(value as number | string, (d) => d < 0);
    case "lte":
      return comparison(value as number | string, (d) => d <= 0);
    case "gt":
      return comparison(value as number | string, (d) => d > 0);
    case "gte":
      return comparison(value as number | string, (d) => d >= 0);
    case "contains": {
      const x = value as FilterScalar;
      return (v) =>
        Array.isArray(v)
          ? v.some((e) => same(e, x))
          : typeof v === "string" && typeof x === "string" && v.includes(x);
    }
    case "before": {
      const bound = timeOf(value as TimeBound, now);
      return time((t) => t < bound);
    }
    case "after": {
      const bound = timeOf(value as TimeBound, now);
      return time((t) => t > bound);
    }
    case "withinLast": {
      const from = now - durationMs(value as string);
      return time((t) => from <= t && t <= now);
    }
    case "withinNext": {
      const until = now + durationMs(value as string);
      return time((t) => now <= t && t <= until);
    }
  }
}

/** A test of the instant a value names, false for a value that is no ISO date string. */
const time = (holds: (t: number) => boolean) => (v: unknown) => {
  const t = typeof v === "string" ? isoTime(v) : undefined;
  return t !== undefined && holds(t);
};

/**
 * The instant a time bound names, in ms: an ISO date, or now moved by a duration.
 *
 * @example timeOf({ ago: "1d" }, Date.UTC(2024, 0, 2)) // Date.UTC(2024, 0, 1)
 */
export function timeOf(bound: TimeBound, now: number): number {
  if (typeof bound === "string") return isoTime(bound)!;
  return "ago" in bound ? now - durationMs(bound.ago) : now + durationMs(bound.fromNow);
}

/** `equals`: a string equals the same text, a number the same number (written in a string too), a boolean itself. */
function same(v: unknown, x: FilterScalar): boolean {
  if (typeof x === "number") return numberOf(v) === x;
  return v === x;
}

/** A number compares as a number; an ISO date as the instant; other text by code point. */
function comparison(x: number | string, holds: (difference: number) => boolean): (v: unknown) => boolean {
  if (typeof x === "number")
    return (v) => {
      const n = numberOf(v);
      return n !== undefined && holds(n === x ? 0 : n < x ? -1 : 1);
    };
  const at = isoTime(x);
  if (at === undefined) return (v) => typeof v === "string" && holds(compareText(v, x));
  return time((t) => holds(t === at ? 0 : t < at ? -1 : 1));
}
