import { JinjaSyntaxError, type Token } from "./lexer.ts";

/** Expressions; `at` is the offset in the source (for error positions). */
export type Expr =
  | { k: "lit"; v: unknown; at: number }
  | { k: "name"; name: string; at: number }
  | { k: "list"; items: Expr[]; at: number }
  | { k: "dict"; entries: Array<[Expr, Expr]>; at: number }
  | { k: "attr"; obj: Expr; name: string; at: number }
  | { k: "item"; obj: Expr; key: Expr; at: number }
  | { k: "slice"; obj: Expr; start?: Expr; stop?: Expr; step?: Expr; at: number }
  | { k: "call"; fn: Expr; args: Expr[]; kwargs: Array<[string, Expr]>; at: number }
  | { k: "filter"; value: Expr; name: string; args: Expr[]; kwargs: Array<[string, Expr]>; at: number }
  | { k: "test"; value: Expr; name: string; args: Expr[]; negated: boolean; at: number }
  | { k: "unary"; op: string; operand: Expr; at: number }
  | { k: "bin"; op: string; left: Expr; right: Expr; at: number }
  | { k: "compare"; first: Expr; rest: Array<[string, Expr]>; at: number }
  | { k: "and" | "or"; left: Expr; right: Expr; at: number }
  | { k: "cond"; test: Expr; ifTrue: Expr; otherwise?: Expr; at: number };

const KEYWORDS = new Set(["and", "or", "not", "in", "is", "if", "else"]);
const COMPARE = new Set(["==", "!=", "<", ">", "<=", ">="]);

/** The names of the filters and tests a template may use; others are errors at compile. */
export interface KnownNames {
  filters: ReadonlySet<string>;
  tests: ReadonlySet<string>;
}

/**
 * Jinja expressions, lowest precedence first as in Jinja's own parser: conditional, `or`, `and`,
 * `not`, comparisons (`==`, `in`, chained), `+ -`, `~`, `* / // %`, `**`, unary, then postfix
 * (`.name`, `[key]`, `[a:b]`, calls), filters (`| name(args)`) and tests (`is [not] name`). The
 * statement parser extends it.
 */
export class ExpressionParser {
  protected i = 0;
  constructor(
    protected readonly tokens: Token[],
    private readonly known: KnownNames,
  ) {}

  protected get tok(): Token {
    return this.tokens[this.i]!;
  }
  protected next(): Token {
    return this.tokens[this.i++]!;
  }
  protected isOp(value: string): boolean {
    return this.tok.type === "op" && this.tok.value === value;
  }
  protected isName(value: string): boolean {
    return this.tok.type === "name" && this.tok.value === value;
  }
  protected fail(message: string, at = this.tok.at): never {
    throw new JinjaSyntaxError(message, at);
  }
  protected describe(t: Token): string {
    if (t.type === "eof") return "end of template";
    if (t.type === "var_end" || t.type === "block_end") return `'${t.value}'`;
    return t.type === "string" ? "a string" : `'${t.value}'`;
  }
  protected expectOp(value: string): Token {
    if (!this.isOp(value)) this.fail(`expected '${value}', got ${this.describe(this.tok)}`);
    return this.next();
  }
  protected expectName(): string {
    if (this.tok.type !== "name") this.fail(`expected a name, got ${this.describe(this.tok)}`);
    return this.next().value;
  }
  protected expectEnd(type: "var_end" | "block_end"): void {
    if (this.tok.type !== type) {
      this.fail(`expected '${type === "var_end" ? "}}" : "%}"}', got ${this.describe(this.tok)}`);
    }
    this.next();
  }

  expr(): Expr {
    let e = this.or();
    while (this.isName("if")) {
      const at = this.next().at;
      const test = this.or();
      let otherwise: Expr | undefined;
      if (this.isName("else")) {
        this.next();
        otherwise = this.expr();
      }
      e = { k: "cond", test, ifTrue: e, otherwise, at };
    }
    return e;
  }

  protected or(): Expr {
    let left = this.and();
    while (this.isName("or")) {
      const at = this.next().at;
      left = { k: "or", left, right: this.and(), at };
    }
    return left;
  }

  private and(): Expr {
    let left = this.not();
    while (this.isName("and")) {
      const at = this.next().at;
      left = { k: "and", left, right: this.not(), at };
    }
    return left;
  }

  private not(): Expr {
    if (this.isName("not")) {
      const at = this.next().at;
      return { k: "unary", op: "not", operand: this.not(), at };
    }
    return this.compare();
  }

  private compare(): Expr {
    const first = this.math1();
    const rest: Array<[string, Expr]> = [];
    for (;;) {
      if (this.tok.type === "op" && COMPARE.has(this.tok.value)) rest.push([this.next().value, this.math1()]);
      else if (this.isName("in")) {
        this.next();
        rest.push(["in", this.math1()]);
      } else if (this.isName("not") && this.tokens[this.i + 1]?.value === "in") {
        this.i += 2;
        rest.push(["not in", this.math1()]);
      } else break;
    }
    return rest.length === 0 ? first : { k: "compare", first, rest, at: first.at };
  }

  private binary(ops: string[], operand: () => Expr): Expr {
    let left = operand();
    while (this.tok.type === "op" && ops.includes(this.tok.value)) {
      const t = this.next();
      left = { k: "bin", op: t.value, left, right: operand(), at: t.at };
    }
    return left;
  }
  private math1 = (): Expr => this.binary(["+", "-"], this.concat);
  private concat = (): Expr => this.binary(["~"], this.math2);
  private math2 = (): Expr => this.binary(["*", "/", "//", "%"], this.pow);
  private pow = (): Expr => this.binary(["**"], () => this.unary(true));

  private unary(withFilter: boolean): Expr {
    let e: Expr;
    if (this.isOp("-") || this.isOp("+")) {
      const t = this.next();
      e = { k: "unary", op: t.value, operand: this.unary(false), at: t.at };
    } else e = this.postfix(this.primary());
    return withFilter ? this.filters(e) : e;
  }

  private filters(value: Expr): Expr {
    let e = value;
    for (;;) {
      if (this.isOp("|")) {
        this.next();
        const at = this.tok.at;
        const name = this.expectName();
        if (!this.known.filters.has(name)) this.fail(`unknown filter '${name}'`, at);
        const { args, kwargs } = this.isOp("(") ? this.callArgs() : { args: [], kwargs: [] };
        e = { k: "filter", value: e, name, args, kwargs, at };
      } else if (this.isName("is")) {
        this.next();
        const negated = this.isName("not");
        if (negated) this.next();
        const at = this.tok.at;
        const name = this.tok.type === "name" ? this.next().value : this.fail("expected a test name");
        if (!this.known.tests.has(name)) this.fail(`unknown test '${name}'`, at);
        let args: Expr[] = [];
        if (this.isOp("(")) args = this.callArgs().args;
        else if (this.tok.type === "number" || this.tok.type === "string") args = [this.primary()];
        e = { k: "test", value: e, name, args, negated, at };
      } else return e;
    }
  }

  private callArgs(): { args: Expr[]; kwargs: Array<[string, Expr]> } {
    this.expectOp("(");
    const args: Expr[] = [];
    const kwargs: Array<[string, Expr]> = [];
    while (!this.isOp(")")) {
      if (this.tok.type === "name" && this.tokens[this.i + 1]?.value === "=") {
        const name = this.next().value;
        this.next();
        kwargs.push([name, this.expr()]);
      } else {
        if (kwargs.length > 0) this.fail("positional argument after a keyword argument");
        args.push(this.expr());
      }
      if (!this.isOp(",")) break;
      this.next();
    }
    this.expectOp(")");
    return { args, kwargs };
  }

  private postfix(start: Expr): Expr {
    let e = start;
    for (;;) {
      const at = this.tok.at;
      if (this.isOp(".")) {
        this.next();
        const t = this.next();
        if (t.type === "name") e = { k: "attr", obj: e, name: t.value, at };
        else if (t.type === "number" && /^\d+$/.test(t.value)) {
          e = { k: "item", obj: e, key: { k: "lit", v: Number(t.value), at: t.at }, at };
        } else this.fail(`expected an attribute name after '.', got ${this.describe(t)}`, t.at);
      } else if (this.isOp("[")) {
        this.next();
        e = this.subscript(e, at);
        this.expectOp("]");
      } else if (this.isOp("(")) {
        const { args, kwargs } = this.callArgs();
        e = { k: "call", fn: e, args, kwargs, at };
      } else return e;
    }
  }

  private subscript(obj: Expr, at: number): Expr {
    const part = () => (this.isOp(":") || this.isOp("]") ? undefined : this.expr());
    const start = part();
    if (!this.isOp(":")) {
      if (!start) this.fail("expected an index");
      return { k: "item", obj, key: start, at };
    }
    this.next();
    const stop = part();
    let step: Expr | undefined;
    if (this.isOp(":")) {
      this.next();
      step = part();
    }
    return { k: "slice", obj, start, stop, step, at };
  }

  private primary(): Expr {
    const t = this.next();
    switch (t.type) {
      case "name": {
        if (t.value === "true" || t.value === "True") return { k: "lit", v: true, at: t.at };
        if (t.value === "false" || t.value === "False") return { k: "lit", v: false, at: t.at };
        if (t.value === "none" || t.value === "None") return { k: "lit", v: null, at: t.at };
        if (KEYWORDS.has(t.value)) this.fail(`unexpected '${t.value}'`, t.at);
        return { k: "name", name: t.value, at: t.at };
      }
      case "number":
        return { k: "lit", v: Number(t.value), at: t.at };
      case "string": {
        let v = t.value;
        // Adjacent literals concatenate, as in Python.
        while (this.tok.type === "string") v += this.next().value;
        return { k: "lit", v, at: t.at };
      }
      case "op":
        if (t.value === "(") {
          const e = this.expr();
          if (!this.isOp(",")) {
            this.expectOp(")");
            return e;
          }
          // A tuple: a list for our purposes.
          const items = [e];
          while (this.isOp(",")) {
            this.next();
            if (this.isOp(")")) break;
            items.push(this.expr());
          }
          this.expectOp(")");
          return { k: "list", items, at: t.at };
        }
        if (t.value === "[") {
          const items: Expr[] = [];
          while (!this.isOp("]")) {
            items.push(this.expr());
            if (!this.isOp(",")) break;
            this.next();
          }
          this.expectOp("]");
          return { k: "list", items, at: t.at };
        }
        if (t.value === "{") {
          const entries: Array<[Expr, Expr]> = [];
          while (!this.isOp("}")) {
            const key = this.expr();
            this.expectOp(":");
            entries.push([key, this.expr()]);
            if (!this.isOp(",")) break;
            this.next();
          }
          this.expectOp("}");
          return { k: "dict", entries, at: t.at };
        }
        break;
    }
    return this.fail(`unexpected ${this.describe(t)}`, t.at);
  }
}
