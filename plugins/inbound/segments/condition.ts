import type { SegmentFilter } from "./filter.ts";

// What a checked filter object says, without the schema that checked it: the evaluator and the SQL
// compiler read filters through this, so that code which only applies filters (the edge worker's
// segment entry and exit) does not carry the checking (filter.ts).

/** The operators a property condition takes, one per condition. */
export const PROPERTY_OPERATORS = [
  "equals",
  "notEquals",
  "in",
  "exists",
  "lt",
  "lte",
  "gt",
  "gte",
  "contains",
  "before",
  "after",
  "withinLast",
  "withinNext",
] as const;
export type PropertyOperator = (typeof PROPERTY_OPERATORS)[number];

/**
 * The one condition a checked filter object holds: its operator and value.
 *
 * @example conditionOf({ property: "tier", equals: "gold" }) // { op: "equals", value: "gold" }
 */
export function conditionOf(
  f: SegmentFilter,
):
  | { op: "and" | "or"; value: SegmentFilter[] }
  | { op: "not"; value: SegmentFilter }
  | { op: "consent"; value: string[] }
  | { op: PropertyOperator; value: unknown; property: string | string[] } {
  if (f.and) return { op: "and", value: f.and };
  if (f.or) return { op: "or", value: f.or };
  if (f.not) return { op: "not", value: f.not };
  if (f.consent) return { op: "consent", value: f.consent };
  for (const op of PROPERTY_OPERATORS)
    if (f[op] !== undefined) return { op, value: f[op], property: f.property! };
  throw new TypeError("not a checked segment filter: no operator");
}
