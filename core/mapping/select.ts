import { JSONPath } from "jsonpath-plus";
import { HooklineError } from "../errors.ts";

/**
 * Request data a mapping reads from: a parsed JSON body, or form fields (`application/x-www-form-
 * urlencoded`) with every value of a repeated field kept in order.
 */
export type MappingSource =
  | { readonly kind: "json"; readonly value: unknown }
  | { readonly kind: "form"; readonly fields: Readonly<Record<string, readonly string[]>> };

/**
 * A JSON body as a mapping source.
 *
 * @example select(jsonSource({ a: { b: 1 } }), "$.a.b") // [1]
 */
export const jsonSource = (value: unknown): MappingSource => ({ kind: "json", value });

/**
 * Form fields as a mapping source (repeated fields keep every value).
 *
 * @example select(formSource(new URLSearchParams("tag=a&tag=b")), "tag") // ["a", "b"]
 */
export function formSource(params: URLSearchParams): MappingSource {
  const fields: Record<string, string[]> = Object.create(null);
  for (const [k, v] of params) {
    const list = fields[k] ?? [];
    list.push(v);
    fields[k] = list;
  }
  return { kind: "form", fields };
}

/**
 * True for an expression that is a JSONPath (`$…`) rather than a field name.
 *
 * @example isJsonPath("$.email") // true; isJsonPath("email") // false
 */
export const isJsonPath = (expression: string): boolean => expression.trimStart().startsWith("$");

/**
 * Checks an expression once, before it is used: a JSONPath must be well formed and must not contain
 * script (`?(…)` filters or `(…)` expressions), which jsonpath-plus would evaluate with `vm` on Node.
 * A plain name is a field name and always valid. Returns a message, or undefined when it is fine.
 *
 * @example checkExpression("$.items[?(@.x)]") // "script expressions (…) are not allowed: …"
 */
export function checkExpression(expression: string): string | undefined {
  if (expression.trim() === "") return "an empty expression";
  if (!isJsonPath(expression)) return undefined;
  let parts: string[];
  try {
    parts = JSONPath.toPathArray(expression.trim());
  } catch (e) {
    return `not a JSONPath: ${(e as Error).message}`;
  }
  if (parts.some((p) => p.startsWith("?(") || p.startsWith("(")))
    return `script expressions (filters "?(…)" and "(…)") are not allowed in ${JSON.stringify(expression)}`;
  if (/\[[^\]]*$/.test(expression)) return `unclosed "[" in ${JSON.stringify(expression)}`;
  return undefined;
}

/**
 * Every value an expression selects from a source, in document order (none when nothing matches).
 * A JSONPath reads the JSON body, or the form fields as an object (`$.tag` is the field `tag`); a
 * plain name reads a form field, or a top-level key of a JSON object. Script in a JSONPath never runs:
 * jsonpath-plus is called with `eval: false`, and `checkExpression` refuses it earlier with a message.
 *
 * @example select(jsonSource({ items: [{ v: 1 }, { v: 2 }] }), "$..v") // [1, 2]
 */
export function select(source: MappingSource, expression: string): unknown[] {
  const problem = checkExpression(expression);
  if (problem) throw new HooklineError("HOOKLINE_MAPPING_EXPRESSION", problem);
  const expr = expression.trim();
  if (!isJsonPath(expr)) {
    if (source.kind === "form") return [...(source.fields[expr] ?? [])];
    const v = source.value;
    if (v !== null && typeof v === "object" && !Array.isArray(v) && Object.hasOwn(v, expr))
      return [(v as Record<string, unknown>)[expr]];
    return [];
  }
  const json =
    source.kind === "json"
      ? source.value
      : Object.fromEntries(Object.entries(source.fields).map(([k, vs]) => [k, vs.length === 1 ? vs[0] : vs]));
  if (json === null || json === undefined) return [];
  const found = JSONPath({ path: expr, json: json as object, eval: false, wrap: true });
  return Array.isArray(found) ? found : [];
}
