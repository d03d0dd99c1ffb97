import { parse } from "velocityjs";

type Step = { type?: unknown; id?: unknown; args?: unknown };

/** A literal string key, unless it is interpolated (`"$x"`) and so unknown until render. */
const literal = (node: unknown): string | undefined => {
  const n = node as { type?: unknown; value?: unknown } | undefined;
  return n?.type === "string" && typeof n.value === "string" && !n.value.includes("$") ? n.value : undefined;
};

/** The parameter the first step after `$params` names: `.x`, `.get('x')` or `['x']`. */
function named(step: Step | undefined): string | undefined {
  if (step?.type === "property" && typeof step.id === "string") return step.id;
  if (step?.type === "method" && step.id === "get" && Array.isArray(step.args)) return literal(step.args[0]);
  if (step?.type === "index") return literal(step.id);
  return undefined;
}

/**
 * The template parameters a Velocity template reads, in order of first use: `$params.x`,
 * `$!params.x`, `${params.x}`, `$params.get('x')` and `$params['x']`, wherever they stand (in
 * directives and method arguments too). Read from velocityjs's syntax tree, so comments, raw blocks
 * and escaped references (`\$params.x`) do not count.
 *
 * @example velocityParameters("#if($params.vip)$!params.get('code')#end") // ["vip", "code"]
 */
export function velocityParameters(source: string): string[] {
  let asts: unknown;
  try {
    asts = parse(source, Object.create(null) as Record<string, boolean>);
  } catch {
    return [];
  }
  const names = new Set<string>();
  const visit = (node: unknown): void => {
    if (typeof node !== "object" || node === null) return;
    const n = node as { type?: unknown; id?: unknown; path?: unknown };
    if (n.type === "references" && n.id === "params" && Array.isArray(n.path)) {
      const name = named(n.path[0] as Step | undefined);
      if (name !== undefined) names.add(name);
    }
    for (const value of Object.values(node)) visit(value);
  };
  visit(asts);
  return [...names];
}
