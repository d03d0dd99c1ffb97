import { conditionOf, type FilterScalar, type SegmentFilter, type TimeBound } from "./filter.ts";
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
 *
 * @example
 * matchesFilter({ property: "tier", in: ["gold", "platinum"] }, { properties: { tier: "gold" } }, { now: new Date() }) // true
 */
export function matchesFilter(
  filter: SegmentFilter,
  subject: SegmentSubject,
  options: { now: Date | number },
): boolean {
  const now = typeof options.now === "number" ? options.now : options.now.getTime();
  const test = (f: SegmentFilter): boolean => {
    const c = conditionOf(f);
    switch (c.op) {
      case "and":
        return c.value.every(test);
      case "or":
        return c.value.some(test);
      case "not":
        return !test(c.value);
      case "consent":
        return c.value.some(
          (o) =>
            subject.consents !== undefined &&
            Object.hasOwn(subject.consents, o) &&
            subject.consents[o]!.granted === true,
        );
    }
    const v = valueAt(subject.properties, pathKeys(c.property));
    switch (c.op) {
      case "exists":
        return (v !== undefined) === c.value;
      case "equals":
        return same(v, c.value as FilterScalar);
      case "notEquals":
        return v !== undefined && !same(v, c.value as FilterScalar);
      case "in":
        return (c.value as FilterScalar[]).some((x) => same(v, x));
      case "lt":
        return compare(v, c.value as number | string, (d) => d < 0);
      case "lte":
        return compare(v, c.value as number | string, (d) => d <= 0);
      case "gt":
        return compare(v, c.value as number | string, (d) => d > 0);
      case "gte":
        return compare(v, c.value as number | string, (d) => d >= 0);
      case "contains":
        if (Array.isArray(v)) return v.some((e) => same(e, c.value as FilterScalar));
        return typeof v === "string" && typeof c.value === "string" && v.includes(c.value);
    }
    const t = typeof v === "string" ? isoTime(v) : undefined;
    if (t === undefined) return false;
    switch (c.op) {
      case "before":
        return t < timeOf(c.value as TimeBound, now);
      case "after":
        return t > timeOf(c.value as TimeBound, now);
      case "withinLast":
        return now - durationMs(c.value as string) <= t && t <= now;
      case "withinNext":
        return now <= t && t <= now + durationMs(c.value as string);
    }
  };
  return test(filter);
}

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
function compare(v: unknown, x: number | string, holds: (difference: number) => boolean): boolean {
  if (typeof x === "number") {
    const n = numberOf(v);
    return n !== undefined && holds(n === x ? 0 : n < x ? -1 : 1);
  }
  if (typeof v !== "string") return false;
  const at = isoTime(x);
  if (at === undefined) return holds(compareText(v, x));
  const t = isoTime(v);
  return t !== undefined && holds(t === at ? 0 : t < at ? -1 : 1);
}
