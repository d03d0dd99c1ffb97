import type { Eta } from "eta/core";
import { TemplateError } from "../../core/plugin/index.ts";

/** Eta's message up to its code excerpt, on one line. */
export function firstLines(message: string): string {
  return message.split("\n====")[0]!.replace(/\n+/g, " ").trim();
}

type Tag = { t: string; val: string; lineNo?: number };

/** Compiles `code` as a function body; the SyntaxError's message, or undefined when it compiles. */
function syntaxProblem(code: string): string | undefined {
  try {
    // Only run when Eta's own compile (which is `new Function` too) has already failed.
    new Function("it", "json", "xml", code);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

const PAIRS: Record<string, string> = { "(": ")", "[": "]", "{": "}" };

/**
 * Follows the brackets of `code` (skipping strings and comments) on `open`, each opener marked with
 * the tag it came from; false when a closer does not match.
 */
function followBrackets(code: string, tag: number, open: Array<{ ch: string; tag: number }>): boolean {
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    if (c === "'" || c === '"' || c === "`") {
      for (i++; i < code.length && code[i] !== c; i++) if (code[i] === "\\") i++;
    } else if (c === "/" && code[i + 1] === "/") {
      i = code.indexOf("\n", i);
      if (i < 0) break;
    } else if (c === "/" && code[i + 1] === "*") {
      i = code.indexOf("*/", i + 2);
      if (i < 0) break;
      i++;
    } else if (PAIRS[c]) open.push({ ch: c, tag });
    else if (c === ")" || c === "]" || c === "}") {
      const last = open.pop();
      if (!last || PAIRS[last.ch] !== c) return false;
    }
  }
  return true;
}

/**
 * Which tag of a template holds the JavaScript that does not compile, with its line and column: the
 * first `<%= %>`/`<%~ %>` whose expression is wrong alone, or the first tag after which the code so
 * far is wrong even with its open blocks closed, else the tag that opened a block never closed.
 * (Engines word an unfinished block differently, and V8 sees `new Function`'s own brace, so the
 * blocks are closed here rather than recognised by message.)
 */
function locateJsFault(
  eta: Eta,
  source: string,
): { line: number; column: number; tag: string; problem: string } | undefined {
  let ast: Array<string | Tag>;
  try {
    ast = eta.parse.call(eta.withConfig({ debug: true }) as unknown as Eta, source) as Array<string | Tag>;
  } catch {
    return undefined;
  }
  const tags = ast.filter((x): x is Tag => typeof x === "object");
  const snippet = (t: Tag) => (t.t === "e" ? `${t.val}\n` : `__eta.res+=${t.val};\n`);
  let program = 'let __eta = { res: "" };\n';
  const open: Array<{ ch: string; tag: number }> = [];
  let culprit: { index: number; problem: string } | undefined;
  for (const [i, t] of tags.entries()) {
    if (t.t !== "e") {
      const alone = syntaxProblem(`let __eta = { res: "" };\n${snippet(t)}`);
      if (alone) {
        culprit = { index: i, problem: alone };
        break;
      }
    }
    program += snippet(t);
    if (!followBrackets(snippet(t), i, open)) {
      culprit = { index: i, problem: "a closing bracket that matches nothing open" };
      break;
    }
    const closed =
      program +
      [...open]
        .reverse()
        .map((o) => PAIRS[o.ch])
        .join("");
    const problem = syntaxProblem(closed);
    if (problem) {
      culprit = { index: i, problem };
      break;
    }
  }
  if (!culprit && open.length > 0)
    culprit = { index: open[0]!.tag, problem: `a "${open[0]!.ch}" never closed` };
  if (!culprit) return undefined;
  const tag = tags[culprit.index]!;
  const line = tag.lineNo;
  if (line === undefined) return undefined;
  // The tag's column: the k-th tag opening on its line, k counting the earlier tags on that line.
  const k = tags.slice(0, culprit.index).filter((t) => t.lineNo === line).length;
  const text = source.split(/\r\n|\n|\r/)[line - 1] ?? "";
  let column = -1;
  for (let n = 0, from = 0; n <= k; n++, from = column + 1) {
    column = text.indexOf(eta.config.tags[0], from);
    if (column < 0) return undefined;
  }
  const end = text.indexOf(eta.config.tags[1], column);
  const shown = end < 0 ? text.slice(column) : text.slice(column, end + eta.config.tags[1].length);
  return {
    line,
    column: column + 1,
    tag: shown.length > 60 ? `${shown.slice(0, 57)}...` : shown,
    problem: culprit.problem,
  };
}

/**
 * The `TemplateError` for an Eta template that does not compile, with the line and column inside
 * the template: Eta's own for a tag or string left open, and for JavaScript that does not compile
 * (which Eta reports without a place) those of the tag that holds it.
 *
 * @example try { eta.compile(src) } catch (e) { throw etaCompileError(eta, src, e) }
 */
export function etaCompileError(eta: Eta, source: string, e: unknown): TemplateError {
  const message = (e as Error).message;
  const at = /^(.*?) at line (\d+) col (\d+)/.exec(message);
  if (at)
    return new TemplateError(`eta syntax error: ${at[1]}`, {
      cause: e,
      line: Number(at[2]),
      column: Number(at[3]),
    });
  const found = locateJsFault(eta, source);
  if (found)
    return new TemplateError(`eta syntax error in ${found.tag}: ${found.problem || firstLines(message)}`, {
      cause: e,
      line: found.line,
      column: found.column,
    });
  return new TemplateError(`eta syntax error: ${firstLines(message)}`, { cause: e });
}
