import { jsonLiteral, xmlEscape } from "../../core/plugin/index.ts";
import { equals, getAttr, isPlainObject, iterate, JinjaValue, toText, typeName } from "./values.ts";

/** A filter: the value left of `|`, then the call's positional and keyword arguments. */
export type Filter = (value: unknown, args: unknown[], kwargs: Record<string, unknown>) => unknown;
/** A test (`x is defined`): the value, then the arguments. */
export type Test = (value: unknown, args: unknown[]) => boolean;

/** The argument at `index`, or the keyword `name`, or `fallback`. */
function arg<T>(args: unknown[], kwargs: Record<string, unknown>, index: number, name: string, fallback: T) {
  if (index < args.length) return args[index] as T | unknown;
  return Object.hasOwn(kwargs, name) ? kwargs[name] : fallback;
}

function num(v: unknown, what: string): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  throw new Error(`${what} needs a number, got ${typeName(v)}`);
}

/** Python's round(): halves go to the even neighbour, as Jinja's `round` (method "common") does. */
function roundHalfEven(value: number, precision: number): number {
  const f = 10 ** precision;
  const x = value * f;
  const r = Math.round(x);
  const half = Math.abs(x % 1) === 0.5;
  return (half && r % 2 !== 0 ? r - 1 : r) / f;
}

/** Python's int()/float() of a string: "123.0" → 123 for int, NaN when it is not a number. */
function parseNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string" && v.trim() !== "") return Number(v.trim());
  return Number.NaN;
}

function truncate(value: unknown, args: unknown[], kwargs: Record<string, unknown>): string {
  const s = toText(value);
  const length = num(arg(args, kwargs, 0, "length", 255), "truncate");
  const killwords = Boolean(arg(args, kwargs, 1, "killwords", false));
  const end = toText(arg(args, kwargs, 2, "end", "..."));
  // Jinja's default leeway: a string at most 5 characters too long is left whole.
  const leeway = num(arg(args, kwargs, 3, "leeway", 5), "truncate");
  if (s.length <= length + leeway) return s;
  const cut = s.slice(0, Math.max(0, length - end.length));
  if (killwords) return cut + end;
  const space = cut.lastIndexOf(" ");
  return (space > 0 ? cut.slice(0, space) : cut) + end;
}

function urlencode(value: unknown): string {
  if (isPlainObject(value)) {
    return Object.keys(value)
      .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(toText(value[k]))}`)
      .join("&");
  }
  return encodeURIComponent(toText(value));
}

const attrOf = (attribute: unknown) => (item: unknown) =>
  attribute === undefined ? item : getAttr(item, toText(attribute));

function sortKey(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  const sa = toText(a).toLowerCase();
  const sb = toText(b).toLowerCase();
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

/** `default(value, boolean=false)`: the value, or the fallback when undefined (or falsy, with `boolean`). */
function defaultValue(v: unknown, args: unknown[], kw: Record<string, unknown>): unknown {
  const fallback = arg(args, kw, 0, "default_value", "");
  const boolean = Boolean(arg(args, kw, 1, "boolean", false));
  return v === undefined || (boolean && !v) ? fallback : v;
}

/**
 * The filters templates may use. `tojson`/`json` write a JSON literal that cannot break a JSON or
 * XML payload (quotes included); `e`/`escape`/`xml` escape for XML.
 */
export const FILTERS: Record<string, Filter> = {
  default: defaultValue,
  d: defaultValue,
  upper: (v) => toText(v).toUpperCase(),
  lower: (v) => toText(v).toLowerCase(),
  title: (v) =>
    toText(v)
      .toLowerCase()
      .replace(/(^|[^\p{L}\p{N}'])(\p{L})/gu, (_, p, c: string) => p + c.toUpperCase()),
  capitalize: (v) => {
    const s = toText(v);
    return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
  },
  trim: (v, args) => {
    const s = toText(v);
    if (args[0] === undefined) return s.trim();
    const chars = new Set(toText(args[0]));
    let a = 0;
    let b = s.length;
    while (a < b && chars.has(s[a]!)) a++;
    while (b > a && chars.has(s[b - 1]!)) b--;
    return s.slice(a, b);
  },
  length: (v) => (isPlainObject(v) ? Object.keys(v).length : iterate(v).length),
  join: (v, args, kw) => {
    const sep = toText(arg(args, kw, 0, "d", ""));
    return iterate(v)
      .map(attrOf(arg(args, kw, 1, "attribute", undefined)))
      .map(toText)
      .join(sep);
  },
  replace: (v, args, kw) => {
    const [s, old, repl] = [toText(v), toText(args[0]), toText(args[1])];
    const count = arg(args, kw, 2, "count", undefined);
    if (count === undefined || count === null) return s.split(old).join(repl);
    const parts = s.split(old);
    const n = Math.max(0, num(count, "replace"));
    return (
      parts.slice(0, n + 1).join(repl) + (parts.length > n + 1 ? old + parts.slice(n + 1).join(old) : "")
    );
  },
  round: (v, args, kw) => {
    const value = num(v, "round");
    const precision = num(arg(args, kw, 0, "precision", 0), "round");
    const method = toText(arg(args, kw, 1, "method", "common"));
    const f = 10 ** precision;
    if (method === "ceil") return Math.ceil(value * f) / f;
    if (method === "floor") return Math.floor(value * f) / f;
    return roundHalfEven(value, precision);
  },
  int: (v, args, kw) => {
    const n = parseNumber(v);
    return Number.isFinite(n) ? Math.trunc(n) : arg(args, kw, 0, "default", 0);
  },
  float: (v, args, kw) => {
    const n = parseNumber(v);
    return Number.isFinite(n) ? n : arg(args, kw, 0, "default", 0);
  },
  string: (v) => toText(v),
  tojson: (v) => jsonLiteral(plain(v)),
  json: (v) => jsonLiteral(plain(v)),
  e: (v) => xmlEscape(toText(v)),
  escape: (v) => xmlEscape(toText(v)),
  xml: (v) => xmlEscape(toText(v)),
  urlencode: (v) => urlencode(v),
  first: (v) => iterate(v)[0],
  last: (v) => iterate(v).at(-1),
  truncate,
  abs: (v) => Math.abs(num(v, "abs")),
  list: (v) => [...iterate(v)],
  reverse: (v) => (typeof v === "string" ? Array.from(v).reverse().join("") : [...iterate(v)].reverse()),
  sort: (v, args, kw) => {
    const reverse = Boolean(arg(args, kw, 0, "reverse", false));
    const key = attrOf(arg(args, kw, 2, "attribute", undefined));
    const sorted = [...iterate(v)].sort((a, b) => sortKey(key(a), key(b)));
    return reverse ? sorted.reverse() : sorted;
  },
  unique: (v) => iterate(v).filter((x, i, all) => all.findIndex((y) => equals(x, y)) === i),
  sum: (v, args, kw) => {
    const key = attrOf(arg(args, kw, 0, "attribute", undefined));
    return iterate(v).reduce<number>(
      (s, x) => s + num(key(x), "sum"),
      num(arg(args, kw, 1, "start", 0), "sum"),
    );
  },
  min: (v) => [...iterate(v)].sort(sortKey)[0],
  max: (v) => [...iterate(v)].sort(sortKey).at(-1),
  map: (v, args, kw) => {
    if (Object.hasOwn(kw, "attribute")) return iterate(v).map(attrOf(kw.attribute));
    const name = toText(args[0]);
    const filter = Object.hasOwn(FILTERS, name) ? FILTERS[name]! : undefined;
    if (!filter) throw new Error(`map: unknown filter '${name}'`);
    return iterate(v).map((x) => filter(x, args.slice(1), {}));
  },
};

/** Values for `tojson`: host-built values (functions, the response accessor) are not data. */
function plain(v: unknown): unknown {
  return v instanceof JinjaValue ? null : v;
}

const isNumber = (v: unknown) => typeof v === "number";

/** The tests `x is …` may use. */
export const TESTS: Record<string, Test> = {
  defined: (v) => v !== undefined,
  undefined: (v) => v === undefined,
  none: (v) => v === null,
  number: isNumber,
  integer: (v) => Number.isInteger(v),
  float: (v) => isNumber(v) && !Number.isInteger(v),
  string: (v) => typeof v === "string",
  boolean: (v) => typeof v === "boolean",
  true: (v) => v === true,
  false: (v) => v === false,
  mapping: (v) => isPlainObject(v),
  sequence: (v) => Array.isArray(v) || typeof v === "string",
  iterable: (v) => Array.isArray(v) || typeof v === "string" || isPlainObject(v),
  callable: (v) => v instanceof JinjaValue && v.call !== undefined,
  even: (v) => isNumber(v) && (v as number) % 2 === 0,
  odd: (v) => isNumber(v) && Math.abs((v as number) % 2) === 1,
  divisibleby: (v, [n]) => isNumber(v) && isNumber(n) && n !== 0 && (v as number) % (n as number) === 0,
  lower: (v) => typeof v === "string" && v === v.toLowerCase(),
  upper: (v) => typeof v === "string" && v === v.toUpperCase(),
  eq: (v, [x]) => equals(v, x),
  equalto: (v, [x]) => equals(v, x),
  ne: (v, [x]) => !equals(v, x),
  in: (v, [x]) =>
    Array.isArray(x) ? x.some((y) => equals(v, y)) : typeof x === "string" && x.includes(toText(v)),
};
