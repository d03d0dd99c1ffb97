// How the segment filter reads a profile's values: the one definition of "a date", "a number held
// in a string", string order and property paths that both the SQL compiler (compile.ts) and the
// in-memory evaluator (evaluate.ts) follow. Every rule here is written so that Postgres computes it
// the same way without ever raising an error on a row (no cast is reached that could fail).

/**
 * An ISO 8601 date or date-time as the filter reads it: `2024-05-01`, `2024-05-01T09:30`,
 * `2024-05-01T09:30:15`, `…T09:30:15.250`, each optionally with `Z` or `±hh:mm` (no zone: UTC).
 * Years 1000–9999, hours 00–23, at most 6 fraction digits (times count to the millisecond). The same
 * pattern is used in Postgres's regular expressions, so it is written with `[0-9]`, never `\d`.
 */
export const ISO_DATE =
  "^([1-9][0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])" +
  "(?:[T ]([01][0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9])(?:\\.([0-9]{1,6}))?)?(Z|[+-](?:0[0-9]|1[0-4]):[0-5][0-9])?)?$";
const isoDate = new RegExp(ISO_DATE);

/**
 * A number written in a string, as a form sends one: `42`, `-3.5`, `007`; at most 15 digits before
 * and after the point, no exponent, no `+`, no spaces. Such a string compares as the number it holds
 * (a double, as JavaScript's `Number` and Postgres's `float8` read it alike; the bounds keep the
 * value far from overflow and underflow, which Postgres would raise as an error).
 */
export const NUMERIC_STRING = "^-?[0-9]{1,15}(\\.[0-9]{1,15})?$";
const numericString = new RegExp(NUMERIC_STRING);

const DAY = 86_400_000;
const daysIn = (year: number, month: number) =>
  month === 2
    ? year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
      ? 29
      : 28
    : [4, 6, 9, 11].includes(month)
      ? 30
      : 31;

/**
 * The instant an ISO date string names, in ms since the epoch (truncated to the millisecond), or
 * undefined when the string is not one (`2023-02-30` is not: the day must exist). Computed by
 * arithmetic, not `Date.parse`, whose leniency differs between engines.
 *
 * @example isoTime("2024-05-01T09:30:00+02:00") // Date.UTC(2024, 4, 1, 7, 30)
 */
export function isoTime(s: string): number | undefined {
  const m = isoDate.exec(s);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (day > daysIn(year, month)) return undefined;
  const ms = m[7] ? Number(m[7].padEnd(3, "0").slice(0, 3)) : 0;
  const zone = m[8] && m[8] !== "Z" ? m[8] : undefined;
  const offset = zone
    ? (zone[0] === "-" ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)))
    : 0;
  const d = new Date(0);
  // setUTCFullYear, not Date.UTC: the latter reads years 0–99 as 1900–1999.
  d.setUTCFullYear(year, month - 1, day);
  return (
    d.getTime() +
    Number(m[4] ?? 0) * 3_600_000 +
    Number(m[5] ?? 0) * 60_000 +
    Number(m[6] ?? 0) * 1000 +
    ms -
    offset * 60_000
  );
}

/**
 * The number a value stands for in a numeric comparison: a JSON number, or a string holding a plain
 * decimal number (`NUMERIC_STRING`); undefined for anything else.
 *
 * @example numberOf("42") // 42; numberOf("4e2") // undefined
 */
export function numberOf(v: unknown): number | undefined {
  if (typeof v === "number") return v;
  if (typeof v === "string" && numericString.test(v)) return Number(v);
  return undefined;
}

/**
 * Orders two strings by Unicode code point, as Postgres's `COLLATE "C"` orders UTF-8 text (JavaScript's
 * `<` compares UTF-16 units, which puts U+E000–U+FFFF after the characters beyond U+FFFF).
 *
 * @example compareText("a", "b") // -1
 */
export function compareText(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Lift surrogates above U+E000–U+FFFF, where their code points (U+10000 and up) belong.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/**
 * The keys of a property path: `address.city` is `["address", "city"]`; a list is taken as the keys
 * themselves (for a key holding a dot).
 *
 * @example pathKeys("address.city") // ["address", "city"]
 */
export function pathKeys(path: string | readonly string[]): string[] {
  return typeof path === "string" ? path.split(".") : [...path];
}

/**
 * The value at a path in a profile's properties, or undefined when it is missing. Only objects are
 * walked into (a key never indexes a list), and JSON null counts as missing, at the end or on the way.
 *
 * @example valueAt({ address: { city: "Ghent" } }, ["address", "city"]) // "Ghent"
 */
export function valueAt(properties: unknown, keys: readonly string[]): unknown {
  let at: unknown = properties;
  for (const key of keys) {
    if (at === null || typeof at !== "object" || Array.isArray(at) || !Object.hasOwn(at, key))
      return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at === null ? undefined : at;
}

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: DAY, w: 7 * DAY };

/** A relative duration: a whole number and a unit, `90m`, `12h`, `30d`, `2w` (a day is 24 hours). */
export const RELATIVE_DURATION = /^([0-9]{1,12})\s*(ms|s|m|h|d|w)$/;

/** The longest relative duration: 100 years of days (a bound stays a time Postgres can hold). */
export const MAX_DURATION = 36_500 * DAY;

/**
 * The milliseconds of a relative duration (`RELATIVE_DURATION`).
 *
 * @example durationMs("30d") // 2592000000
 */
export function durationMs(s: string): number {
  const m = RELATIVE_DURATION.exec(s.trim());
  if (!m) throw new TypeError(`not a duration: ${s}`);
  return Number(m[1]) * units[m[2]!]!;
}
