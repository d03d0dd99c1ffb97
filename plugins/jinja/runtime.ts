import { FILTERS, TESTS } from "./filters.ts";
import type { Expr, Node, SetTarget } from "./parser.ts";
import {
  contains,
  equals,
  getAttr,
  getItem,
  iterate,
  JinjaFunction,
  JinjaValue,
  Namespace,
  toText,
  truthy,
  typeName,
} from "./values.ts";

/** A fault while rendering; `at` is the offset in the source of the expression or tag at fault. */
export class JinjaRenderError extends Error {
  override name = "JinjaRenderError";
  constructor(
    message: string,
    readonly at: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Loop iterations one render may run: a runaway template fails instead of spinning. */
const MAX_ITERATIONS = 1_000_000;
/** Characters one render may write (and one string may grow to). */
const MAX_OUTPUT = 10 * 1024 * 1024;
/** Elements `range()` may produce. */
const MAX_RANGE = 100_000;

/** A scope: a null-prototype object whose prototype is the enclosing scope (lookups walk the chain). */
export type Scope = Record<string, unknown>;

function range(args: unknown[]): number[] {
  const ns = args.map((a) => {
    if (typeof a !== "number" || !Number.isInteger(a)) throw new Error("range() needs integers");
    return a;
  });
  const [start, stop, step] = ns.length === 1 ? [0, ns[0]!, 1] : [ns[0]!, ns[1]!, ns[2] ?? 1];
  if (step === 0) throw new Error("range() step must not be zero");
  const count = Math.max(0, Math.ceil((stop - start) / step));
  if (count > MAX_RANGE) throw new Error(`range() of ${count} elements exceeds ${MAX_RANGE}`);
  return Array.from({ length: count }, (_, i) => start + i * step);
}

/** Functions every template can call. */
export const GLOBALS: Readonly<Record<string, JinjaValue>> = {
  range: new JinjaFunction((args) => range(args)),
  namespace: new JinjaFunction((_args, kwargs) => {
    const ns = new Namespace();
    Object.assign(ns.vars, kwargs);
    return ns;
  }),
  dict: new JinjaFunction((_args, kwargs) => ({ ...kwargs })),
};

/**
 * Renders parsed statements against a scope. One instance per render: it counts iterations and
 * output against the limits.
 *
 * @example new Interpreter().render(parseTemplate("{{ 1 + 1 }}", known), Object.create(null)) // "2"
 */
export class Interpreter {
  private iterations = 0;
  private size = 0;

  render(nodes: Node[], scope: Scope): string {
    const out: string[] = [];
    this.exec(nodes, scope, out);
    return out.join("");
  }

  private write(out: string[], s: string, at?: number): void {
    this.size += s.length;
    if (this.size > MAX_OUTPUT) throw new JinjaRenderError(`output exceeds ${MAX_OUTPUT} characters`, at);
    out.push(s);
  }

  private exec(nodes: Node[], scope: Scope, out: string[]): void {
    for (const node of nodes) {
      switch (node.k) {
        case "text":
          this.write(out, node.v);
          break;
        case "out":
          this.write(out, toText(this.eval(node.e, scope)), node.e.at);
          break;
        case "if": {
          const branch = node.branches.find((b) => truthy(this.eval(b.test, scope)));
          if (branch) this.exec(branch.body, scope, out);
          else if (node.otherwise) this.exec(node.otherwise, scope, out);
          break;
        }
        case "for":
          this.loop(node, scope, out);
          break;
        case "set":
          this.assign(
            node.target,
            node.value ? this.eval(node.value, scope) : this.capture(node.body!, scope),
            scope,
            node.at,
          );
          break;
      }
    }
  }

  private capture(body: Node[], scope: Scope): string {
    const out: string[] = [];
    this.exec(body, scope, out);
    return out.join("");
  }

  private assign(target: SetTarget, value: unknown, scope: Scope, at: number): void {
    if ("ns" in target) {
      const ns = scope[target.ns];
      if (!(ns instanceof Namespace)) {
        throw new JinjaRenderError(
          `cannot set '${target.attr}' on ${typeName(ns)}: only on a namespace()`,
          at,
        );
      }
      ns.vars[target.attr] = value;
      return;
    }
    if (target.names.length === 1) {
      scope[target.names[0]!] = value;
      return;
    }
    const items = Array.isArray(value) ? value : undefined;
    if (!items || items.length !== target.names.length) {
      throw new JinjaRenderError(`cannot unpack ${typeName(value)} into ${target.names.length} names`, at);
    }
    target.names.forEach((name, i) => {
      scope[name] = items[i];
    });
  }

  private loop(node: Extract<Node, { k: "for" }>, scope: Scope, out: string[]): void {
    let items: unknown[];
    try {
      items = iterate(this.eval(node.iter, scope));
    } catch (e) {
      throw this.fault(e, node.iter.at);
    }
    const bind = (s: Scope, item: unknown) => {
      if (node.targets.length === 1) s[node.targets[0]!] = item;
      else if (Array.isArray(item) && item.length === node.targets.length) {
        node.targets.forEach((name, i) => {
          s[name] = item[i];
        });
      } else
        throw new JinjaRenderError(
          `cannot unpack ${typeName(item)} into ${node.targets.length} names`,
          node.at,
        );
    };
    if (node.filter) {
      items = items.filter((item) => {
        const s = Object.create(scope) as Scope;
        bind(s, item);
        return truthy(this.eval(node.filter!, s));
      });
    }
    if (items.length === 0) {
      if (node.otherwise) this.exec(node.otherwise, scope, out);
      return;
    }
    const length = items.length;
    items.forEach((item, i) => {
      if (++this.iterations > MAX_ITERATIONS) {
        throw new JinjaRenderError(`template exceeded ${MAX_ITERATIONS} loop iterations`, node.at);
      }
      // Each iteration has its own scope: a `set` inside a loop does not leak out (Jinja's rule).
      const s = Object.create(scope) as Scope;
      bind(s, item);
      s.loop = {
        index: i + 1,
        index0: i,
        revindex: length - i,
        revindex0: length - i - 1,
        first: i === 0,
        last: i === length - 1,
        length,
        previtem: items[i - 1],
        nextitem: items[i + 1],
      };
      this.exec(node.body, s, out);
    });
  }

  private fault(e: unknown, at: number): JinjaRenderError {
    return e instanceof JinjaRenderError ? e : new JinjaRenderError((e as Error).message, at, { cause: e });
  }

  eval(e: Expr, scope: Scope): unknown {
    switch (e.k) {
      case "lit":
        return e.v;
      case "name":
        // Only the scope chain (null-prototype objects): `process`, `globalThis` name nothing.
        return e.name in scope ? scope[e.name] : Object.hasOwn(GLOBALS, e.name) ? GLOBALS[e.name] : undefined;
      case "list":
        return e.items.map((x) => this.eval(x, scope));
      case "dict": {
        const d: Record<string, unknown> = {};
        for (const [k, v] of e.entries) {
          const key = toText(this.eval(k, scope));
          // A `__proto__` key must be data, not a prototype switch.
          Object.defineProperty(d, key, {
            value: this.eval(v, scope),
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        return d;
      }
      case "attr":
        return getAttr(this.eval(e.obj, scope), e.name);
      case "item":
        return getItem(this.eval(e.obj, scope), this.eval(e.key, scope));
      case "slice":
        return this.slice(e, scope);
      case "call":
        return this.call(e, scope);
      case "filter": {
        const value = this.eval(e.value, scope);
        const { args, kwargs } = this.args(e.args, e.kwargs, scope);
        try {
          return FILTERS[e.name]!(value, args, kwargs);
        } catch (err) {
          throw this.fault(new Error(`filter '${e.name}': ${(err as Error).message}`), e.at);
        }
      }
      case "test": {
        const value = this.eval(e.value, scope);
        const result = TESTS[e.name]!(
          value,
          e.args.map((a) => this.eval(a, scope)),
        );
        return e.negated ? !result : result;
      }
      case "unary": {
        const v = this.eval(e.operand, scope);
        if (e.op === "not") return !truthy(v);
        if (typeof v !== "number")
          throw new JinjaRenderError(`unary '${e.op}' needs a number, got ${typeName(v)}`, e.at);
        return e.op === "-" ? -v : v;
      }
      case "bin":
        return this.binary(e.op, this.eval(e.left, scope), this.eval(e.right, scope), e.at);
      case "compare": {
        let left = this.eval(e.first, scope);
        for (const [op, rightExpr] of e.rest) {
          const right = this.eval(rightExpr, scope);
          if (!this.compare(op, left, right, rightExpr.at)) return false;
          left = right;
        }
        return true;
      }
      case "and": {
        const left = this.eval(e.left, scope);
        return truthy(left) ? this.eval(e.right, scope) : left;
      }
      case "or": {
        const left = this.eval(e.left, scope);
        return truthy(left) ? left : this.eval(e.right, scope);
      }
      case "cond":
        return truthy(this.eval(e.test, scope))
          ? this.eval(e.ifTrue, scope)
          : e.otherwise
            ? this.eval(e.otherwise, scope)
            : undefined;
    }
  }

  private args(args: Expr[], kwargs: Array<[string, Expr]>, scope: Scope) {
    const kw: Record<string, unknown> = Object.create(null);
    for (const [name, x] of kwargs) kw[name] = this.eval(x, scope);
    return { args: args.map((a) => this.eval(a, scope)), kwargs: kw };
  }

  private call(e: Extract<Expr, { k: "call" }>, scope: Scope): unknown {
    const fn = this.eval(e.fn, scope);
    if (!(fn instanceof JinjaValue) || !fn.call) {
      throw new JinjaRenderError(`${typeName(fn)} is not callable`, e.at);
    }
    const { args, kwargs } = this.args(e.args, e.kwargs, scope);
    try {
      return fn.call(args, kwargs);
    } catch (err) {
      throw this.fault(err, e.at);
    }
  }

  private slice(e: Extract<Expr, { k: "slice" }>, scope: Scope): unknown {
    const obj = this.eval(e.obj, scope);
    const bound = (x: Expr | undefined) => (x ? this.eval(x, scope) : undefined);
    const [start, stop, step] = [bound(e.start), bound(e.stop), bound(e.step)];
    if (!Array.isArray(obj) && typeof obj !== "string") return undefined;
    const items = typeof obj === "string" ? Array.from(obj) : obj;
    const st = typeof step === "number" && step !== 0 ? step : 1;
    const norm = (v: unknown, dflt: number) =>
      typeof v !== "number"
        ? dflt
        : v < 0
          ? Math.max(items.length + v, st > 0 ? 0 : -1)
          : Math.min(v, items.length);
    const picked: unknown[] = [];
    if (st > 0) for (let i = norm(start, 0); i < norm(stop, items.length); i += st) picked.push(items[i]);
    else for (let i = norm(start, items.length - 1); i > norm(stop, -1); i += st) picked.push(items[i]);
    return typeof obj === "string" ? picked.join("") : picked;
  }

  private binary(op: string, a: unknown, b: unknown, at: number): unknown {
    if (op === "~") return this.checked(toText(a) + toText(b), at);
    if (op === "+") {
      if (typeof a === "string" && typeof b === "string") return this.checked(a + b, at);
      if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
    }
    const x = typeof a === "boolean" ? Number(a) : a;
    const y = typeof b === "boolean" ? Number(b) : b;
    if (typeof x !== "number" || typeof y !== "number") {
      throw new JinjaRenderError(`unsupported operands for '${op}': ${typeName(a)} and ${typeName(b)}`, at);
    }
    if ((op === "/" || op === "//" || op === "%") && y === 0)
      throw new JinjaRenderError("division by zero", at);
    switch (op) {
      case "+":
        return x + y;
      case "-":
        return x - y;
      case "*":
        return x * y;
      case "/":
        return x / y;
      case "//":
        return Math.floor(x / y);
      case "%":
        // Python's modulo takes the sign of the divisor.
        return ((x % y) + y) % y;
      default:
        return x ** y;
    }
  }

  private checked(s: string, at: number): string {
    if (s.length > MAX_OUTPUT) throw new JinjaRenderError(`string exceeds ${MAX_OUTPUT} characters`, at);
    return s;
  }

  private compare(op: string, a: unknown, b: unknown, at: number): boolean {
    try {
      switch (op) {
        case "==":
          return equals(a, b);
        case "!=":
          return !equals(a, b);
        case "in":
          return contains(b, a);
        case "not in":
          return !contains(b, a);
      }
    } catch (e) {
      throw this.fault(e, at);
    }
    const comparable =
      (typeof a === "number" && typeof b === "number") || (typeof a === "string" && typeof b === "string");
    if (!comparable)
      throw new JinjaRenderError(`cannot compare ${typeName(a)} with ${typeName(b)} using '${op}'`, at);
    const [x, y] = [a as number | string, b as number | string];
    return op === "<" ? x < y : op === ">" ? x > y : op === "<=" ? x <= y : x >= y;
  }
}
