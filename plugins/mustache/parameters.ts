/** Token kinds that look a name up: `{{x}}`, `{{{x}}}`/`{{&x}}`, `{{#x}}`, `{{^x}}`. */
const LOOKUPS = new Set(["name", "&", "#", "^"]);

/**
 * The template parameters in a parsed Mustache template (mustache.js's tokens), in order of first
 * use: `{{params.x}}`, `{{{params.x}}}`, `{{#params.x}}` and `{{^params.x}}`, nested sections
 * included. Delimiters changed with `{{=<% %>=}}` are already resolved by the parser.
 *
 * @example mustacheParameters(new Mustache.Writer().parse("{{#params.vip}}VIP{{/params.vip}}")) // ["vip"]
 */
export function mustacheParameters(tokens: readonly unknown[]): string[] {
  const names = new Set<string>();
  const visit = (list: readonly unknown[]): void => {
    for (const token of list) {
      if (!Array.isArray(token)) continue;
      const [kind, value, , , children] = token as [unknown, unknown, unknown, unknown, unknown];
      if (typeof kind === "string" && LOOKUPS.has(kind) && typeof value === "string") {
        const [head, name] = value.split(".");
        if (head === "params" && name) names.add(name);
      }
      if (Array.isArray(children)) visit(children);
    }
  };
  visit(tokens);
  return [...names];
}
