import { z } from "zod";
import { checkExpression, type MappingSource, select } from "./select.ts";

/** How a selected value goes into a property (BlueConic's import modes). */
export const MappingMode = z.enum(["set", "set-if-empty", "add-to-list", "sum"]);
export type MappingMode = z.output<typeof MappingMode>;

const FORBIDDEN = new Set(["__proto__", "constructor", "prototype"]);

/** One mapping rule: where the value comes from, which property it goes to, and how. */
export const MappingRule = z
  .object({
    from: z
      .string()
      .min(1)
      .superRefine((expr, ctx) => {
        const problem = checkExpression(expr);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .describe('a JSONPath ("$.customer.email", "$..tags") for JSON bodies, or a form field name'),
    to: z
      .string()
      .min(1)
      .max(200)
      .refine((p) => !FORBIDDEN.has(p), "not a usable property name")
      .describe("the profile property written"),
    mode: MappingMode.default("set").describe("set | set-if-empty | add-to-list | sum"),
  })
  .strict();
export type MappingRule = z.output<typeof MappingRule>;

/** A rule that could not be applied (the others still are). */
export interface MappingIssue {
  code: "HOOKLINE_MAPPING_NOT_A_NUMBER";
  /** Index of the rule in the list. */
  rule: number;
  property: string;
  description: string;
}

export interface MappingResult {
  /** The profile's properties after the rules (a new object; the input is not changed). */
  properties: Record<string, unknown>;
  /** Names of properties whose value differs from before, in rule order. */
  changed: string[];
  errors: MappingIssue[];
}

/**
 * Applies mapping rules to a profile's properties, in order. Each rule selects values from the
 * request (`select`): nothing selected, or only `null`, leaves the property as it is. Modes:
 * - `set`: the value (several matches: the list of them);
 * - `set-if-empty`: likewise, only when the property is missing, null, "" or [];
 * - `add-to-list`: appends each value not already in the list (a scalar property becomes a list);
 * - `sum`: adds the numbers (numeric strings count, as form fields are strings) to the property
 *   (missing counts as 0); a value that is not a number is reported in `errors` and changes nothing.
 * Pure: no I/O, no clock.
 *
 * @example
 * applyMapping({ points: 10 }, jsonSource({ add: 5, email: "a@b.c" }), [
 *   { from: "$.add", to: "points", mode: "sum" },
 *   { from: "$.email", to: "email", mode: "set-if-empty" },
 * ]) // { properties: { points: 15, email: "a@b.c" }, changed: ["points", "email"], errors: [] }
 */
export function applyMapping(
  profile: Readonly<Record<string, unknown>>,
  source: MappingSource,
  rules: readonly MappingRule[],
): MappingResult {
  const properties: Record<string, unknown> = Object.assign(Object.create(null), profile);
  const errors: MappingIssue[] = [];
  rules.forEach((rule, index) => {
    const values = select(source, rule.from).filter((v) => v !== null && v !== undefined);
    if (values.length === 0) return;
    const current = properties[rule.to];
    switch (rule.mode) {
      case "set":
        properties[rule.to] = single(values);
        return;
      case "set-if-empty":
        if (isEmpty(current)) properties[rule.to] = single(values);
        return;
      case "add-to-list": {
        const list =
          current === undefined || current === null ? [] : Array.isArray(current) ? [...current] : [current];
        const seen = new Set(list.map(canonicalJson));
        for (const v of values.flat()) {
          const key = canonicalJson(v);
          if (v === null || seen.has(key)) continue;
          seen.add(key);
          list.push(v);
        }
        properties[rule.to] = list;
        return;
      }
      case "sum": {
        const addends = values.flat().map(toNumber);
        const base = current === undefined || current === null || current === "" ? 0 : toNumber(current);
        const bad = addends.indexOf(undefined);
        const total =
          bad >= 0 || base === undefined ? undefined : addends.reduce((a: number, b) => a + b!, base);
        if (total === undefined || !Number.isFinite(total)) {
          errors.push({
            code: "HOOKLINE_MAPPING_NOT_A_NUMBER",
            rule: index,
            property: rule.to,
            description:
              base === undefined
                ? `cannot sum into "${rule.to}": its value ${preview(current)} is not a number`
                : bad >= 0
                  ? `cannot sum ${preview(values.flat()[bad])} into "${rule.to}": not a number`
                  : `cannot sum into "${rule.to}": the total is beyond ±1.8e308`,
          });
          return;
        }
        properties[rule.to] = total;
        return;
      }
    }
  });
  const changed: string[] = [];
  for (const rule of rules) {
    if (changed.includes(rule.to)) continue;
    if (canonicalJson(properties[rule.to]) !== canonicalJson(profile[rule.to])) changed.push(rule.to);
  }
  return { properties: { ...properties }, changed, errors };
}

const single = (values: unknown[]) => (values.length === 1 ? values[0] : values);

const isEmpty = (v: unknown) =>
  v === undefined || v === null || v === "" || (Array.isArray(v) && v.length === 0);

// "1e400" matches the pattern but is Infinity: not a number a profile can keep (JSON has no Infinity).
function toNumber(v: unknown): number | undefined {
  if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
  if (typeof v === "string" && v.trim() !== "" && /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v.trim())) {
    const n = Number(v.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/**
 * A value quoted for a message, shortened to 60 characters by code point: a cut through a surrogate
 * pair would leave a lone surrogate, which Postgres refuses in the stored answer.
 */
const preview = (v: unknown) => {
  const s = JSON.stringify(v) ?? String(v);
  if (s.length <= 60) return s;
  let end = 57;
  if (/[\ud800-\udbff]/.test(s[end - 1]!)) end--;
  return `${s.slice(0, end)}…`;
};

/** Text written as is between values (brackets, commas, keys); never a value itself. */
class Raw {
  constructor(readonly text: string) {}
}
const CLOSE_ARRAY = new Raw("]");
const CLOSE_OBJECT = new Raw("}");
const COMMA = new Raw(",");

/** Deeper than a 2 MB JSON text can nest: a cycle. Inbound values are limited far below it anyway. */
const MAX_DEPTH = 1_000_000;

/**
 * JSON with object keys sorted, so that equal values give equal text (change detection, hashing).
 * Iterative, not recursive: a value nested 100,000 levels deep gives its text instead of a stack
 * overflow (hashing runs outside a receiver's error handling); a cycle throws a TypeError.
 *
 * @example canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }) // '{"a":[2,{"c":4,"d":3}],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  if (value === undefined) return "undefined";
  let out = "";
  let depth = 0;
  // Values still to write, last first, with the Raw text between them.
  const todo: unknown[] = [value];
  while (todo.length > 0) {
    const v = todo.pop();
    if (v instanceof Raw) {
      out += v.text;
      if (v === CLOSE_ARRAY || v === CLOSE_OBJECT) depth--;
      continue;
    }
    if (v === null || typeof v !== "object") {
      out += JSON.stringify(v) ?? "null";
      continue;
    }
    if (++depth > MAX_DEPTH)
      throw new TypeError(`canonicalJson: nested deeper than ${MAX_DEPTH} levels (a cycle?)`);
    if (Array.isArray(v)) {
      out += "[";
      todo.push(CLOSE_ARRAY);
      for (let i = v.length - 1; i >= 0; i--) {
        todo.push(v[i] === undefined ? null : v[i]);
        if (i > 0) todo.push(COMMA);
      }
      continue;
    }
    const keys = Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort();
    out += "{";
    todo.push(CLOSE_OBJECT);
    for (let i = keys.length - 1; i >= 0; i--) {
      todo.push((v as Record<string, unknown>)[keys[i]!]);
      todo.push(new Raw(`${i > 0 ? "," : ""}${JSON.stringify(keys[i])}:`));
    }
  }
  return out;
}
