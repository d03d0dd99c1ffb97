import Mustache from "mustache";
import {
  type CompiledTemplate,
  jsonLiteral,
  type Plugin,
  type Renderer,
  TemplateError,
  Tokens,
  xmlEscape,
} from "../../core/plugin/index.ts";
import { mustacheParameters } from "./parameters.ts";

type SectionLambda = (text: string, render: (template: string) => string) => string;

/**
 * A section lambda (`{{#json}}…{{/json}}`) that renders its content and writes it through `escape`.
 * Its own `toString` keeps `{{json}}` / `{{{json}}}` used as a plain variable from printing source.
 */
function sectionLambda(escapeFn: (rendered: string) => string): SectionLambda {
  const lambda: SectionLambda = (text, render) => escapeFn(render(text));
  Object.defineProperty(lambda, "toString", { value: () => "" });
  return lambda;
}

/** The names every template sees, ahead of any data: data cannot shadow the escaping lambdas. */
const HELPERS: Readonly<Record<string, SectionLambda>> = {
  json: sectionLambda(jsonLiteral),
  xml: sectionLambda(xmlEscape),
};

/** Resolves `a.b.c` on one view through own, non-function properties only. */
function resolve(view: unknown, names: readonly string[]): { hit: boolean; value: unknown } {
  let value = view;
  for (let i = 0; i < names.length; i++) {
    const key = names[i]!;
    const isObject = typeof value === "object" && value !== null;
    // As in mustache.js, a dotted path may end on a primitive's own property (`name.length`).
    const own = isObject
      ? Object.hasOwn(value as object, key)
      : i > 0 && value !== null && value !== undefined && Object.hasOwn(Object(value), key);
    if (!own) return { hit: false, value: undefined };
    value = (value as Record<string, unknown>)[key];
  }
  return { hit: true, value: typeof value === "function" ? undefined : value };
}

/**
 * mustache.js's lookup walks `in` (the prototype chain) and calls any function it finds; this one
 * sees own data properties only, never calls a function of the data, and answers the escaping
 * lambdas first. `{{constructor}}` and `{{__proto__}}` name nothing.
 */
class GuardedContext extends Mustache.Context {
  override push(view: unknown): Mustache.Context {
    return new GuardedContext(view, this);
  }

  override lookup(name: string): unknown {
    if (Object.hasOwn(HELPERS, name)) return HELPERS[name];
    if (name === ".") return typeof this.view === "function" ? undefined : this.view;
    const names = name.split(".");
    for (let c: Mustache.Context | undefined = this; c; c = c.parent) {
      const { hit, value } = resolve(c.view, names);
      if (hit) return value;
    }
    return undefined;
  }
}

/** Payloads are JSON or XML, not HTML: `{{x}}` writes the value as is; `json`/`xml` escape. */
const RENDER_OPTIONS = { escape: (value: unknown) => String(value) };

/** Where the section `name` that is never closed opens: its `{{#name}}` or `{{^name}}` left without a `{{/name}}`. */
function sectionOpening(source: string, name: string, end: number): number | undefined {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const open: number[] = [];
  for (const m of source
    .slice(0, end)
    .matchAll(new RegExp(`\\{\\{\\s*([#^/])\\s*${escaped}\\s*\\}\\}`, "g"))) {
    if (m[1] === "/") open.pop();
    else open.push(m.index);
  }
  return open.at(-1);
}

/**
 * The `TemplateError` for a template mustache.js cannot parse, with the line and column of the tag at
 * fault: mustache.js reports an unclosed tag or section at the end of the text, so the opening
 * `{{` (or `{{#name}}`) is looked up instead.
 */
function compileError(source: string, e: unknown): TemplateError {
  const message = (e as Error).message;
  const at = / at (\d+)$/.exec(message);
  let line: number | undefined;
  let column: number | undefined;
  if (at) {
    let offset = Number(at[1]);
    if (message.startsWith("Unclosed tag")) offset = Math.max(0, source.lastIndexOf("{{", offset));
    const section = /^Unclosed section "(.*)"/.exec(message);
    if (section) offset = sectionOpening(source, section[1]!, offset) ?? offset;
    const before = source.slice(0, offset);
    line = before.split("\n").length;
    column = before.length - before.lastIndexOf("\n");
  }
  const what = at ? message.slice(0, at.index) : message;
  return new TemplateError(`mustache syntax error: ${what}`, { cause: e, line, column });
}

/**
 * A sandboxed Mustache renderer (mustache.js), for BlueConic-style bodies and headers. HTML escaping
 * is off (`{{x}}` writes the value as is, since payloads are JSON or XML); `{{#json}}…{{/json}}`
 * writes the rendered content as a JSON string literal (quotes included) and `{{#xml}}…{{/xml}}`
 * escapes it for XML. `json` and `xml` are reserved names.
 *
 * @example
 * const t = mustacheRenderer().compile('{"name": {{#json}}{{customer.name}}{{/json}}}', { name: "body" });
 * t.render({ customer: { name: 'Ada "A"' } }); // '{"name": "Ada \\"A\\""}'
 */
export function mustacheRenderer(): Renderer {
  // One writer per renderer: its parse cache holds this renderer's templates (and lambda bodies).
  const writer = new Mustache.Writer();
  return {
    name: "mustache",
    trusted: false,
    compile(source): CompiledTemplate {
      let tokens: string[][];
      try {
        tokens = writer.parse(source);
      } catch (e) {
        throw compileError(source, e);
      }
      return {
        render(context) {
          try {
            return writer.renderTokens(
              tokens,
              new GuardedContext(context),
              undefined,
              source,
              RENDER_OPTIONS,
            );
          } catch (e) {
            throw new TemplateError(`mustache: ${(e as Error).message}`, { cause: e });
          }
        },
      };
    },
    parameters(source) {
      try {
        return mustacheParameters(writer.parse(source));
      } catch {
        return [];
      }
    },
  };
}

/**
 * The Mustache renderer as a plugin: webhooks choose it with `engine: mustache`.
 *
 * @example createHookline({ plugins: [...defaultPlugins(), mustache()] })
 */
export const mustache = (): Plugin => ({
  name: "mustache",
  register(container) {
    container.register(Tokens.Renderer, { useValue: mustacheRenderer() });
  },
});
