import { parse } from "velocityjs";
import {
  type CompiledTemplate,
  type Plugin,
  type Renderer,
  type TemplateContext,
  TemplateError,
  Tokens,
} from "../../core/plugin/index.ts";
import { velocityParameters } from "./parameters.ts";
import { SandboxedCompile, VelocityLimitError } from "./sandbox.ts";
import { dateTool, esc, mathTool } from "./tools.ts";

export { dateTool, esc, formatDate, mathTool } from "./tools.ts";

type Ast = ReturnType<typeof parse>;

/** Line and column (1-based) of an offset in a template. */
function positionOf(source: string, offset: number): { line: number; column: number } {
  const before = source.slice(0, offset);
  const line = before.split("\n").length;
  return { line, column: offset - before.lastIndexOf("\n") };
}

// Comments and raw blocks may hold anything; escaped directives (`\#if`) are text.
const DIRECTIVES =
  /##[^\n]*|#\*[\s\S]*?\*#|#\[\[[\s\S]*?\]\]#|\\#|#\{?(if|foreach|macro|define|@[A-Za-z_][\w-]*)\}?\s*\(|#\{end\}|#end(?![A-Za-z0-9_])/g;

/**
 * velocityjs accepts an unclosed `#if` or a stray `#end` silently (and renders the rest twice), so
 * block balance is checked here, where a missing `#end` can still be pointed at.
 */
function unbalancedBlock(source: string): { message: string; offset: number } | undefined {
  const open: Array<{ name: string; offset: number }> = [];
  for (const m of source.matchAll(DIRECTIVES)) {
    if (m[1]) open.push({ name: m[1], offset: m.index });
    else if (m[0] === "#end" || m[0] === "#{end}") {
      if (!open.pop()) return { message: "#end without a block to close", offset: m.index };
    }
  }
  const last = open.at(-1);
  return last ? { message: `#${last.name} is never closed by #end`, offset: last.offset } : undefined;
}

/** The syntax error velocityjs's parser throws (jison), with its location when it gave one. */
interface ParseFault {
  message: string;
  hash?: { loc?: { first_line?: number; first_column?: number } };
}

/**
 * The `TemplateError` for a template velocityjs cannot parse: jison's location when it gave one, else
 * (a lexical error names only the line) the line, and the column of the first character the lexer
 * cannot take on it when there is one.
 */
function compileError(source: string, e: unknown): TemplateError {
  const fault = e as ParseFault;
  const loc = fault.hash?.loc;
  const message = String(fault.message);
  const line = loc?.first_line ?? numberIn(/on line (\d+)/.exec(message)?.[1]);
  let column = loc?.first_column === undefined ? undefined : loc.first_column + 1;
  if (line !== undefined && column === undefined) {
    // velocityjs's lexer stops at a character no rule takes (a control character); find it on the line.
    const text = source.split("\n")[line - 1] ?? "";
    let odd = 0;
    while (odd < text.length && !(text[odd]! < " " && text[odd] !== "\t")) odd++;
    column = odd < text.length ? odd + 1 : 1;
  }
  const first = message.split("\n")[0]!.replace(/ on line \d+\./, ":");
  const expected = /\n(Expecting [^\n]*)/.exec(message)?.[1];
  return new TemplateError(`velocity syntax error: ${expected ?? first}`, { cause: e, line, column });
}

const numberIn = (s: string | undefined) => (s === undefined ? undefined : Number(s));

/**
 * The scope a template renders in: the engine's context (`$event`, `$customer`, `$params`,
 * `$webhook`), `$data` (earlier responses; `{}` when there are none) and the tools. The tools come
 * last so data cannot shadow `$esc`. A null-prototype object: `$constructor` or `$toString` name
 * nothing.
 */
function scopeFor(context: TemplateContext): Record<string, unknown> {
  const scope = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(context)) scope[key] = context[key];
  scope.data ??= {};
  scope.mathTool = mathTool;
  scope.dateTool = dateTool;
  scope.esc = esc;
  return scope;
}

/**
 * A sandboxed Velocity renderer (velocityjs), for templates users author at run time, as eSputnik's:
 * `$data.get('WH5').get('promocode')`, `$!mathTool.toInteger($data.contacts_get_by_email.get(0).id)`.
 * Java-style `get`, `size`, `containsKey` … work on plain objects and arrays without touching them.
 *
 * @example
 * const t = velocityRenderer().compile('{"email": $esc.json($customer.email)}', { name: "body" });
 * t.render({ customer: { email: "a@example.com" } }); // '{"email": "a@example.com"}'
 */
export function velocityRenderer(): Renderer {
  return {
    name: "velocity",
    trusted: false,
    compile(source): CompiledTemplate {
      let asts: Ast;
      try {
        // velocityjs looks custom block names up in this map: without a prototype, `#constructor()`
        // is an ordinary (undefined) macro call rather than Object's constructor taken for a block.
        asts = parse(source, Object.create(null) as Record<string, boolean>);
      } catch (e) {
        throw compileError(source, e);
      }
      const unbalanced = unbalancedBlock(source);
      if (unbalanced) {
        const { line, column } = positionOf(source, unbalanced.offset);
        throw new TemplateError(`velocity syntax error: ${unbalanced.message}`, { line, column });
      }
      return {
        render(context) {
          try {
            return new SandboxedCompile(asts).render(scopeFor(context));
          } catch (e) {
            const message = e instanceof VelocityLimitError ? e.message : (e as Error).message;
            throw new TemplateError(`velocity: ${message.split("\n")[0]}`, { cause: e });
          }
        },
      };
    },
    parameters: velocityParameters,
  };
}

/**
 * The Velocity renderer as a plugin: webhooks choose it with `engine: velocity`.
 *
 * @example createHookline({ plugins: [...defaultPlugins(), velocity()] })
 */
export const velocity = (): Plugin => ({
  name: "velocity",
  register(container) {
    container.register(Tokens.Renderer, { useValue: velocityRenderer() });
  },
});
