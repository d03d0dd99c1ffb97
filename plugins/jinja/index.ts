import {
  type CompiledTemplate,
  type Plugin,
  type Renderer,
  type TemplateContext,
  TemplateError,
  Tokens,
} from "../../core/plugin/index.ts";
import { FILTERS, TESTS } from "./filters.ts";
import { JinjaSyntaxError } from "./lexer.ts";
import { jinjaParameters } from "./parameters.ts";
import { type Node, parseTemplate } from "./parser.ts";
import { webhookResponses } from "./responses.ts";
import { Interpreter, JinjaRenderError, type Scope } from "./runtime.ts";

export type { ScenarioResponse } from "./responses.ts";

const KNOWN = { filters: new Set(Object.keys(FILTERS)), tests: new Set(Object.keys(TESTS)) };

function positionOf(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

/**
 * The names a template sees: the engine's context (`event`, `customer`, `params` …), with
 * `webhook` being Bloomreach's response accessor built from `context.responses` and the current
 * webhook's name moved to `webhook_name`. A null-prototype scope: `constructor`, `process` or
 * `globalThis` name nothing.
 */
function scopeFor(context: TemplateContext): Scope {
  const scope = Object.create(null) as Scope;
  for (const key of Object.keys(context)) scope[key] = context[key];
  const hook = context.webhook;
  scope.webhook_name =
    typeof hook === "object" && hook !== null && Object.hasOwn(hook, "name")
      ? (hook as { name: unknown }).name
      : undefined;
  scope.webhook = webhookResponses(context.responses);
  return scope;
}

/**
 * A sandboxed Jinja renderer, for templates users author at run time, as Bloomreach's:
 * `{{ customer.first_name | title }}`, `{% for item in event.items %}…{% endfor %}`,
 * `{{ webhook.promo }}`, `{{ webhook(2).promo }}`, `{{ webhook.by_action_id('a1').data }}`.
 * An interpreter (no code generation, so it runs on workerd) that reads own data properties only.
 *
 * @example
 * const t = jinjaRenderer().compile('{"email": {{ customer.email | tojson }}}', { name: "body" });
 * t.render({ customer: { email: "a@example.com" } }); // '{"email": "a@example.com"}'
 */
export function jinjaRenderer(): Renderer {
  return {
    name: "jinja",
    trusted: false,
    compile(source): CompiledTemplate {
      // Jinja drops a single trailing newline (keep_trailing_newline=False), as YAML `|` adds one.
      const text = source.replace(/\r?\n$/, "");
      let nodes: Node[];
      try {
        nodes = parseTemplate(text, KNOWN);
      } catch (e) {
        if (!(e instanceof JinjaSyntaxError)) throw e;
        const { line, column } = positionOf(text, e.at);
        throw new TemplateError(`jinja syntax error: ${e.message}`, { cause: e, line, column });
      }
      return {
        render(context) {
          try {
            return new Interpreter().render(nodes, scopeFor(context));
          } catch (e) {
            const at = e instanceof JinjaRenderError ? e.at : undefined;
            const pos = at === undefined ? undefined : positionOf(text, at);
            const where = pos ? ` at line ${pos.line}, column ${pos.column}` : "";
            throw new TemplateError(`jinja${where}: ${(e as Error).message}`, {
              cause: e,
              line: pos?.line,
              column: pos?.column,
            });
          }
        },
      };
    },
    parameters(source) {
      try {
        return jinjaParameters(parseTemplate(source, KNOWN));
      } catch {
        return [];
      }
    },
  };
}

/**
 * The Jinja renderer as a plugin: webhooks choose it with `engine: jinja`.
 *
 * @example createHookline({ plugins: [...defaultPlugins(), jinja()] })
 */
export const jinja = (): Plugin => ({
  name: "jinja",
  register(container) {
    container.register(Tokens.Renderer, { useValue: jinjaRenderer() });
  },
});
