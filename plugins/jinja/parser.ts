import { type Expr, ExpressionParser, type KnownNames } from "./expressions.ts";
import { type Token, tokenize } from "./lexer.ts";

export type { Expr } from "./expressions.ts";

export type SetTarget = { names: string[] } | { ns: string; attr: string };

/** Statements and text; expressions are `Expr` (expressions.ts). */
export type Node =
  | { k: "text"; v: string }
  | { k: "out"; e: Expr }
  | { k: "if"; branches: Array<{ test: Expr; body: Node[] }>; otherwise?: Node[] }
  | { k: "for"; targets: string[]; iter: Expr; filter?: Expr; body: Node[]; otherwise?: Node[]; at: number }
  | { k: "set"; target: SetTarget; value?: Expr; body?: Node[]; at: number };

/**
 * Parses a template into statements. Filter and test names are checked here against `known`, so a
 * typo is an error at compile, not at the first send.
 *
 * @example parseTemplate("{{ x | upper }}", { filters: new Set(["upper"]), tests: new Set() })
 */
export function parseTemplate(source: string, known: KnownNames): Node[] {
  return new Parser(tokenize(source), known).template();
}

class Parser extends ExpressionParser {
  template(): Node[] {
    const { nodes } = this.nodes([], undefined);
    return nodes;
  }

  /** Nodes up to one of `ends` (a block tag name), which is consumed; returns which one ended it. */
  private nodes(
    ends: string[],
    opener: { name: string; at: number } | undefined,
  ): { nodes: Node[]; end: string } {
    const nodes: Node[] = [];
    for (;;) {
      const t = this.tok;
      if (t.type === "eof") {
        if (opener) this.fail(`'${opener.name}' is never closed by '${ends.at(-1)}'`, opener.at);
        return { nodes, end: "" };
      }
      this.next();
      if (t.type === "text") nodes.push({ k: "text", v: t.value });
      else if (t.type === "var_begin") {
        nodes.push({ k: "out", e: this.expr() });
        this.expectEnd("var_end");
      } else if (t.type === "block_begin") {
        const word = this.tok;
        if (word.type !== "name") this.fail(`expected a tag name, got ${this.describe(word)}`);
        if (ends.includes(word.value)) {
          this.next();
          return { nodes, end: word.value };
        }
        nodes.push(this.statement(word));
      } else this.fail(`unexpected ${this.describe(t)}`, t.at);
    }
  }

  private statement(word: Token): Node {
    this.next();
    switch (word.value) {
      case "if":
        return this.ifStatement(word.at);
      case "for":
        return this.forStatement(word.at);
      case "set":
        return this.setStatement(word.at);
      default:
        return this.fail(
          /^(end\w+|elif|else)$/.test(word.value)
            ? `unexpected '${word.value}'`
            : `unknown tag '${word.value}' (supported: if, for, set, raw)`,
          word.at,
        );
    }
  }

  private ifStatement(at: number): Node {
    const branches: Array<{ test: Expr; body: Node[] }> = [];
    let test = this.expr();
    for (;;) {
      this.expectEnd("block_end");
      const { nodes, end } = this.nodes(["elif", "else", "endif"], { name: "if", at });
      branches.push({ test, body: nodes });
      if (end === "elif") {
        test = this.expr();
        continue;
      }
      if (end === "else") {
        this.expectEnd("block_end");
        const rest = this.nodes(["endif"], { name: "if", at });
        this.expectEnd("block_end");
        return { k: "if", branches, otherwise: rest.nodes };
      }
      this.expectEnd("block_end");
      return { k: "if", branches };
    }
  }

  private forStatement(at: number): Node {
    const targets = [this.expectName()];
    while (this.isOp(",")) {
      this.next();
      targets.push(this.expectName());
    }
    if (!this.isName("in")) this.fail(`expected 'in', got ${this.describe(this.tok)}`);
    this.next();
    // The iterable takes no `x if y else z`: a trailing `if` filters the items.
    const iter = this.or();
    let filter: Expr | undefined;
    if (this.isName("if")) {
      this.next();
      filter = this.expr();
    }
    this.expectEnd("block_end");
    const { nodes, end } = this.nodes(["else", "endfor"], { name: "for", at });
    let otherwise: Node[] | undefined;
    if (end === "else") {
      this.expectEnd("block_end");
      otherwise = this.nodes(["endfor"], { name: "for", at }).nodes;
    }
    this.expectEnd("block_end");
    return { k: "for", targets, iter, filter, body: nodes, otherwise, at };
  }

  private setStatement(at: number): Node {
    const first = this.expectName();
    let target: SetTarget;
    if (this.isOp(".")) {
      this.next();
      target = { ns: first, attr: this.expectName() };
    } else {
      const names = [first];
      while (this.isOp(",")) {
        this.next();
        names.push(this.expectName());
      }
      target = { names };
    }
    if (this.isOp("=")) {
      this.next();
      const value = this.expr();
      this.expectEnd("block_end");
      return { k: "set", target, value, at };
    }
    this.expectEnd("block_end");
    const body = this.nodes(["endset"], { name: "set", at }).nodes;
    this.expectEnd("block_end");
    return { k: "set", target, body, at };
  }
}
