import { timeOf } from "./evaluate.ts";
import { conditionOf, type FilterScalar, type SegmentFilter, type TimeBound } from "./filter.ts";
import { durationMs, ISO_DATE, isoTime, NUMERIC_STRING, pathKeys } from "./values.ts";

// The segment filter as a SQL condition over `hookline_profiles`, by the rules of values.ts, equal to
// evaluate.ts on every profile (tests/plugins/inbound/segments/filter.property.test.ts holds them so).
// Every value and every property key is a bind parameter; the only text spliced is this file's own.
// Every condition compiles to an expression that is true or false, never NULL (so NOT inverts it),
// and no cast is reached on a row that could fail: each sits behind a CASE that checked the text.

/** A compiled filter: a boolean SQL expression and its parameters. */
export interface CompiledFilter {
  /** The condition, for a WHERE clause; it reads `<alias>.properties` and `<alias>.id`. */
  where: string;
  params: string[];
}

export interface CompileOptions {
  /** The time relative conditions count from (`withinLast`, `{ ago }`). */
  now: Date | number;
  /** The alias of `hookline_profiles` in the query (default `p`). */
  alias?: string;
  /** The number of the first parameter (default 1: `$1`), to join a query with parameters of its own. */
  firstParam?: number;
}

/** The table of consents per objective the `consent` condition reads (issue 16, item 3). */
export const CONSENTS_TABLE = "hookline_profile_consents";

/**
 * Compiles a checked filter to a parameterised SQL condition on profiles (Postgres 14 or later, and
 * PGlite). Relative times are fixed at `now`, as bind parameters.
 *
 * @example
 * const { where, params } = compileFilter({ property: "tier", equals: "gold" }, { now: new Date() });
 * await sql.query(`SELECT p.id FROM hookline_profiles p WHERE ${where}`, params);
 */
export function compileFilter(filter: SegmentFilter, options: CompileOptions): CompiledFilter {
  const alias = options.alias ?? "p";
  if (!/^[a-z_][a-z0-9_]*$/.test(alias)) throw new TypeError(`not a table alias: ${alias}`);
  const now = typeof options.now === "number" ? options.now : options.now.getTime();
  const params: string[] = [];
  const first = options.firstParam ?? 1;
  const bind = (value: string, type: string) => {
    params.push(value);
    return `$${first + params.length - 1}::${type}`;
  };
  const list = (values: readonly unknown[]) =>
    `(SELECT jsonb_array_elements_text(${bind(JSON.stringify(values), "text")}::jsonb))`;
  const ms = (t: number) => bind(String(t), "bigint");

  const condition = (f: SegmentFilter): string => {
    const c = conditionOf(f);
    switch (c.op) {
      case "and":
        return c.value.length === 0 ? "true" : `(${c.value.map(condition).join(" AND ")})`;
      case "or":
        return c.value.length === 0 ? "false" : `(${c.value.map(condition).join(" OR ")})`;
      case "not":
        return `(NOT ${condition(c.value)})`;
      case "consent":
        return `EXISTS (SELECT 1 FROM ${CONSENTS_TABLE} hookline_c WHERE hookline_c.profile_id = ${alias}.id AND hookline_c.granted AND hookline_c.objective IN ${list(c.value)})`;
    }
    const v = pathKeys(c.property).reduce(
      (at, key) => `${at} -> ${bind(key, "text")}`,
      `${alias}.properties`,
    );
    const leaf = (sql: string) => `coalesce(${sql}, false)`;
    switch (c.op) {
      case "exists":
        return c.value ? present(v) : `(NOT ${present(v)})`;
      case "equals":
        return leaf(oneOf(v, [c.value as FilterScalar], list));
      case "notEquals":
        return `(${present(v)} AND NOT ${leaf(oneOf(v, [c.value as FilterScalar], list))})`;
      case "in":
        return leaf(oneOf(v, c.value as FilterScalar[], list));
      case "lt":
      case "lte":
      case "gt":
      case "gte":
        return leaf(compare(v, OPERATORS[c.op], c.value as number | string, bind));
      case "contains": {
        const x = c.value as FilterScalar;
        // Text and booleans by jsonb containment (an element equal byte for byte); a number also
        // finds itself written in a string, which only a walk over the elements sees.
        const member =
          typeof x === "number"
            ? `EXISTS (SELECT 1 FROM jsonb_array_elements(${v}) AS hookline_e(value) WHERE ${leaf(oneOf("hookline_e.value", [x], list))})`
            : `${v} @> ${bind(JSON.stringify([x]), "text")}::jsonb`;
        const substring =
          typeof x === "string" ? ` WHEN 'string' THEN strpos(${text(v)}, ${bind(x, "text")}) > 0` : "";
        return leaf(`CASE jsonb_typeof(${v}) WHEN 'array' THEN ${member}${substring} ELSE false END`);
      }
    }
    const t = timeMs(v);
    switch (c.op) {
      case "before":
        return leaf(`${t} < ${ms(timeOf(c.value as TimeBound, now))}`);
      case "after":
        return leaf(`${t} > ${ms(timeOf(c.value as TimeBound, now))}`);
      case "withinLast":
        return leaf(`${t} BETWEEN ${ms(now - durationMs(c.value as string))} AND ${ms(now)}`);
      case "withinNext":
        return leaf(`${t} BETWEEN ${ms(now)} AND ${ms(now + durationMs(c.value as string))}`);
    }
  };
  return { where: condition(filter), params };
}

const OPERATORS = { lt: "<", lte: "<=", gt: ">", gte: ">=" } as const;

/** A value is there: the key exists and does not hold JSON null. Never NULL itself. */
const present = (v: string) => `(${v} IS NOT NULL AND jsonb_typeof(${v}) <> 'null')`;
/** A JSON string's text (NULL for anything else is not relied on: callers check the type first). */
const text = (v: string) => `(${v} #>> '{}')`;
// The patterns of values.ts without capturing groups: the same text matches, and Postgres's regular
// expressions run several times faster when they need not report groups.
const uncaptured = (pattern: string) => pattern.replace(/\((?!\?)/g, "(?:");
const ISO_DATE_SQL = uncaptured(ISO_DATE);
const NUMERIC_STRING_SQL = uncaptured(NUMERIC_STRING);

/** A string holding a plain decimal number (values.ts NUMERIC_STRING). */
const numeric = (v: string) => `${text(v)} ~ '${NUMERIC_STRING_SQL}'`;

/**
 * Whether the value equals one of `values` (values.ts: a string the same text, a number the same
 * number, also when written in a string, a boolean itself). May be NULL for a missing value.
 */
function oneOf(
  v: string,
  values: readonly FilterScalar[],
  list: (values: readonly unknown[]) => string,
): string {
  const strings = values.filter((x) => typeof x === "string");
  const numbers = values.filter((x) => typeof x === "number");
  const booleans = values.filter((x) => typeof x === "boolean");
  const whens: string[] = [];
  const asText: string[] = [];
  if (strings.length > 0) asText.push(`${text(v)} IN ${list(strings)}`);
  if (numbers.length > 0) {
    const ns = list(numbers);
    whens.push(`WHEN 'number' THEN (${v})::numeric IN (SELECT n::numeric FROM ${ns} AS hookline_n(n))`);
    // A number written in a string compares as the double it reads as, as in JavaScript.
    asText.push(
      `CASE WHEN ${numeric(v)} THEN ${text(v)}::float8 IN (SELECT n::float8 FROM ${ns} AS hookline_n(n)) ELSE false END`,
    );
  }
  if (asText.length > 0) whens.push(`WHEN 'string' THEN (${asText.join(" OR ")})`);
  if (booleans.length > 0) whens.push(`WHEN 'boolean' THEN ${text(v)} IN ${list(booleans)}`);
  return `CASE jsonb_typeof(${v}) ${whens.join(" ")} ELSE false END`;
}

/** `lt` / `lte` / `gt` / `gte`: numbers as numbers, ISO dates as instants, other text by code point. */
function compare(
  v: string,
  op: string,
  x: number | string,
  bind: (value: string, type: string) => string,
): string {
  if (typeof x === "number") {
    return `CASE jsonb_typeof(${v}) WHEN 'number' THEN (${v})::numeric ${op} ${bind(String(x), "numeric")} WHEN 'string' THEN CASE WHEN ${numeric(v)} THEN ${text(v)}::float8 ${op} ${bind(String(x), "float8")} ELSE false END ELSE false END`;
  }
  const at = isoTime(x);
  if (at !== undefined) return `${timeMs(v)} ${op} ${bind(String(at), "bigint")}`;
  return `CASE jsonb_typeof(${v}) WHEN 'string' THEN ${text(v)} COLLATE "C" ${op} ${bind(x, "text")} COLLATE "C" ELSE false END`;
}

/**
 * The instant a JSON string holding an ISO date names, in ms since the epoch (values.ts `isoTime`),
 * else NULL. The pattern admits only text the casts read; the day is checked against its month first.
 */
function timeMs(v: string): string {
  const s = text(v);
  // Past the pattern, a zone is a final Z or a sign 5 from the end (a date alone has 10 characters).
  const zoned = `CASE WHEN right(${s}, 1) = 'Z' OR (length(${s}) > 10 AND substr(${s}, length(${s}) - 5, 1) IN ('+', '-')) THEN ${s}::timestamptz ELSE ${s}::timestamp AT TIME ZONE 'UTC' END`;
  // Days up to 28 exist in every month; only the others need their month's length.
  const dayExists = `CASE WHEN substr(${s}, 9, 2) <= '28' THEN true ELSE substr(${s}, 9, 2)::int <= extract(day from (substr(${s}, 1, 8) || '01')::date + interval '1 month' - interval '1 day') END`;
  return `CASE WHEN jsonb_typeof(${v}) = 'string' AND ${s} ~ '${ISO_DATE_SQL}' THEN CASE WHEN ${dayExists} THEN floor(extract(epoch from ${zoned}) * 1000) END END`;
}
