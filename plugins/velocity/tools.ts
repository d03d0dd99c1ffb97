import { jsonLiteral, xmlEscape } from "../../core/plugin/index.ts";

/**
 * The tools a Velocity template finds in its context, as eSputnik's templates call them
 * (`$!mathTool.toInteger($x)`, `$dateTool.format('yyyy-MM-dd', $d)`, `$esc.json($x)`). A tool's
 * methods are the only functions a template may call; they take and return plain values.
 */
export type Tool = Readonly<Record<string, (...args: unknown[]) => unknown>>;

/** A number from a template value ("123.0", 12, " 7 "), or undefined: Velocity prints null quietly. */
function toNumber(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && value.trim() !== "") {
    const n = Number(value.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function numbers(args: unknown[]): number[] | undefined {
  const out: number[] = [];
  for (const a of args) {
    const n = toNumber(a);
    if (n === undefined) return undefined;
    out.push(n);
  }
  return out.length > 0 ? out : undefined;
}

const fold =
  (f: (a: number, b: number) => number) =>
  (...args: unknown[]) => {
    const ns = numbers(args);
    return ns ? ns.reduce(f) : undefined;
  };

const unary = (f: (n: number) => number) => (value: unknown) => {
  const n = toNumber(value);
  return n === undefined ? undefined : f(n);
};

/**
 * Velocity's MathTool: every method accepts numbers or numeric strings and returns `undefined`
 * (printed as nothing by `$!`) where Java would return null.
 *
 * @example mathTool.toInteger("123.0") // 123
 */
export const mathTool: Tool = tool({
  toNumber: (value: unknown) => toNumber(value),
  // Java's Number.intValue(): truncation toward zero.
  toInteger: unary(Math.trunc),
  add: fold((a, b) => a + b),
  sub: fold((a, b) => a - b),
  mul: fold((a, b) => a * b),
  div: fold((a, b) => (b === 0 ? Number.NaN : a / b)),
  max: fold((a, b) => Math.max(a, b)),
  min: fold((a, b) => Math.min(a, b)),
  abs: unary(Math.abs),
  floor: unary(Math.floor),
  ceil: unary(Math.ceil),
  round: unary(Math.round),
  roundTo: (decimals: unknown, value: unknown) => {
    const d = toNumber(decimals);
    const n = toNumber(value);
    if (d === undefined || n === undefined) return undefined;
    const f = 10 ** Math.trunc(d);
    return Math.round(n * f) / f;
  },
});

const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];
const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

function toDate(value: unknown): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const d =
    value instanceof Date
      ? value
      : typeof value === "number" || typeof value === "string"
        ? new Date(value)
        : null;
  return d && !Number.isNaN(d.getTime()) ? d : undefined;
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** One run of a SimpleDateFormat pattern letter (`yyyy`, `MM`, `EEE` …), in UTC. */
function field(letter: string, count: number, d: Date): string {
  switch (letter) {
    case "y":
      return count === 2 ? pad(d.getUTCFullYear() % 100, 2) : pad(d.getUTCFullYear(), count);
    case "M": {
      const m = d.getUTCMonth();
      if (count >= 4) return MONTHS[m]!;
      if (count === 3) return MONTHS[m]!.slice(0, 3);
      return pad(m + 1, count);
    }
    case "d":
      return pad(d.getUTCDate(), count);
    case "E":
      return count >= 4 ? DAYS[d.getUTCDay()]! : DAYS[d.getUTCDay()]!.slice(0, 3);
    case "H":
      return pad(d.getUTCHours(), count);
    case "h":
      return pad(d.getUTCHours() % 12 || 12, count);
    case "m":
      return pad(d.getUTCMinutes(), count);
    case "s":
      return pad(d.getUTCSeconds(), count);
    case "S":
      return pad(d.getUTCMilliseconds(), 3).slice(0, Math.max(count, 3));
    case "a":
      return d.getUTCHours() < 12 ? "AM" : "PM";
    case "Z":
      return "+0000";
    case "X":
      return "Z";
    default:
      return letter.repeat(count);
  }
}

/**
 * Formats a date with a Java SimpleDateFormat pattern, in UTC. `iso` gives ISO 8601.
 *
 * @example formatDate("yyyy-MM-dd'T'HH:mm", new Date(0)) // "1970-01-01T00:00"
 */
export function formatDate(pattern: string, date: Date): string {
  if (pattern === "iso") return date.toISOString();
  let out = "";
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i]!;
    if (c === "'") {
      const end = pattern.indexOf("'", i + 1);
      const literal = end === -1 ? pattern.slice(i + 1) : pattern.slice(i + 1, end);
      out += literal === "" ? "'" : literal;
      i = end === -1 ? pattern.length : end + 1;
    } else if (/[A-Za-z]/.test(c)) {
      let j = i;
      while (pattern[j] === c) j++;
      out += field(c, j - i, date);
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * Velocity's DateTool, reduced to what payloads need; dates are Date objects, ISO strings or epoch
 * milliseconds, formatted in UTC.
 *
 * @example dateTool.format("yyyy-MM-dd", "2024-05-01T10:00:00Z") // "2024-05-01"
 */
export const dateTool: Tool = tool(
  {
    // `format(pattern)` formats now; `format(pattern, $missing)` formats nothing, not now.
    format: (...args: unknown[]) => {
      const [pattern, date] = args;
      const d = args.length < 2 ? new Date() : toDate(date);
      return d && typeof pattern === "string" ? formatDate(pattern, d) : undefined;
    },
    get: (pattern: unknown) => (typeof pattern === "string" ? formatDate(pattern, new Date()) : undefined),
    getCurrent: () => new Date().toISOString(),
    toDate: (value: unknown) => toDate(value)?.toISOString(),
  },
  // `$dateTool.current` reads like a property in templates; it is evaluated at each read.
  { current: () => new Date().toISOString() },
);

/**
 * Escaping for payloads: `$esc.json($v)` writes a JSON literal (quotes included), `$esc.xml($v)`
 * escapes for XML, `$esc.url($v)` percent-encodes a URL component.
 *
 * @example esc.json('a"b') // "\"a\\\"b\""
 */
export const esc: Tool = tool({
  json: (value: unknown) => jsonLiteral(value),
  xml: (value: unknown) => xmlEscape(value),
  html: (value: unknown) => xmlEscape(value),
  url: (value: unknown) => encodeURIComponent(String(value ?? "")),
});

/** The set of tool objects: method calls are dispatched to these and to nothing else of the host. */
export const TOOLS: ReadonlySet<object> = new Set([mathTool, dateTool, esc]);

/**
 * A frozen, null-prototype tool object whose methods are non-enumerable, so that `$esc` printed in a
 * template shows nothing rather than function source, and nothing is inherited from Object.prototype.
 */
function tool(
  methods: Record<string, (...args: any[]) => unknown>,
  getters: Record<string, () => unknown> = {},
): Tool {
  const t = Object.create(null) as Record<string, unknown>;
  // velocityjs prints an object through its toString; without one a null-prototype object throws.
  Object.defineProperty(t, "toString", { value: () => "" });
  for (const [name, fn] of Object.entries(methods)) Object.defineProperty(t, name, { value: fn });
  for (const [name, get] of Object.entries(getters)) Object.defineProperty(t, name, { get });
  return Object.freeze(t) as Tool;
}
