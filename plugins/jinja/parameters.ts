import type { Expr, Node } from "./parser.ts";

/** Dict methods: `params.get('x')` reads a parameter; `params.items()` and the like name none. */
const METHODS = new Set(["get", "items", "keys", "values"]);

const isParams = (e: Expr): boolean => e.k === "name" && e.name === "params";
const literalKey = (e: Expr | undefined): string | undefined =>
  e?.k === "lit" && typeof e.v === "string" ? e.v : undefined;

/**
 * The template parameters a parsed Jinja template reads, in order of first use: `params.x`,
 * `params['x']` and `params.get('x')`, in output, conditions, loops and filter arguments alike. A
 * computed key (`params[name]`) cannot be known and is not listed.
 *
 * @example jinjaParameters(parseTemplate("{{ params.campaign | upper }}", known)) // ["campaign"]
 */
export function jinjaParameters(nodes: readonly Node[]): string[] {
  const names = new Set<string>();
  const visit = (node: unknown): void => {
    if (typeof node !== "object" || node === null) return;
    const e = node as Expr;
    if (e.k === "call" && e.fn.k === "attr" && isParams(e.fn.obj) && METHODS.has(e.fn.name)) {
      const key = e.fn.name === "get" ? literalKey(e.args[0]) : undefined;
      if (key !== undefined) names.add(key);
      visit(e.args);
      visit(e.kwargs);
      return;
    }
    if (e.k === "attr" && isParams(e.obj)) return void names.add(e.name);
    if (e.k === "item" && isParams(e.obj)) {
      const key = literalKey(e.key);
      if (key !== undefined) return void names.add(key);
    }
    for (const value of Object.values(node)) visit(value);
  };
  visit(nodes);
  return [...names];
}
