import { Compile } from "velocityjs";
import { callMethod, ownValue } from "./methods.ts";

type Ast = Record<string, any>;

/** A template ran past a limit (loop iterations, range size): the render fails, the process goes on. */
export class VelocityLimitError extends Error {
  override name = "VelocityLimitError";
}

/** Blocks and loop iterations one render may go through; a runaway template fails instead of spinning. */
const MAX_STEPS = 1_000_000;
/** Elements a range literal `[1..n]` may have. */
const MAX_RANGE = 100_000;

/** The velocityjs internals overridden or called below (declared on its mixins, not on `Compile`). */
interface Internals {
  getReferences(ast: Ast, isVal?: boolean): unknown;
  getContext(id: string): Record<string, unknown>;
}

/**
 * velocityjs's interpreter with a sandbox: references read only own, non-function properties
 * (never `constructor`, `__proto__` or anything inherited), method calls go to `callMethod` and
 * never to a function of the host, `#set` writes only into the render's own scope and into maps
 * and lists the template built itself, undefined macros are ignored, and a render has a step budget.
 * The caller's data is never mutated.
 *
 * @example new SandboxedCompile(parse("$data.get('x')")).render({ data: { x: 1 } }) // "1"
 */
export class SandboxedCompile extends Compile {
  /** Maps and lists created by this render's literals: the only values `#set`/`put`/`add` may change. */
  private owned: WeakSet<object> | undefined;
  private steps = 0;

  override renderAstList(asts?: any[], contextId?: string): string {
    if (++this.steps > MAX_STEPS) throw new VelocityLimitError(`template exceeded ${MAX_STEPS} steps`);
    return super.renderAstList(asts, contextId);
  }

  /** `$a.b`, `$a[k]`, `$a.m(...)`: own data only; methods through the allow-list. */
  getAttributes(property: Ast, baseRef: unknown, _ast: Ast): unknown {
    if (baseRef === null || baseRef === undefined) return undefined;
    if (property.type === "method") return this.getPropMethod(property, baseRef);
    if (property.type === "property") return ownValue(baseRef, property.id);
    const id = property.id as Ast;
    const key = id.type === "references" ? (this as unknown as Internals).getReferences(id) : id.value;
    return ownValue(baseRef, key);
  }

  /** Also reached for a top-level `$name(...)`, with the render's root scope as `baseRef`. */
  getPropMethod(property: Ast, baseRef: unknown): unknown {
    const args = Array.isArray(property.args) ? property.args.map((a) => this.getLiteral(a) as unknown) : [];
    const mutable = typeof baseRef === "object" && baseRef !== null && (this.owned?.has(baseRef) ?? false);
    return callMethod(baseRef, String(property.id), args, mutable);
  }

  protected override getLiteral(ast: any): string {
    if (ast.type === "array" && ast.isRange === true) this.checkRange(ast);
    const value = super.getLiteral(ast) as unknown;
    if ((ast.type === "map" || ast.type === "array") && typeof value === "object" && value !== null) {
      this.own(value);
    }
    return value as string;
  }

  private own(value: object): void {
    this.owned ??= new WeakSet();
    this.owned.add(value);
  }

  private checkRange(ast: Ast): void {
    const [from, to] = (ast.value as unknown[]).map((e) =>
      typeof e === "string"
        ? Number.parseInt(e, 10)
        : typeof e === "number"
          ? e
          : (this as unknown as Internals).getReferences(e as Ast),
    );
    const size = Math.abs(Number(to) - Number(from));
    if (size > MAX_RANGE) throw new VelocityLimitError(`range of ${size} elements exceeds ${MAX_RANGE}`);
  }

  /** `#set($x = …)` always works (the render's scope); `#set($x.k = …)` only on the template's own maps. */
  protected override setValue(ast: any): void {
    const ref = ast.equal[0] as Ast;
    const path = (ref.path as Ast[] | undefined) ?? [];
    if (path.length === 0) {
      super.setValue(ast);
      return;
    }
    const scope = String(this.contextId).startsWith("macro:")
      ? this.context
      : (this as unknown as Internals).getContext(ref.id);
    const root = scope[ref.id];
    if (typeof root !== "object" || root === null) {
      // velocityjs replaces a non-object root with a fresh map: that map is the template's own.
      super.setValue(ast);
      const created = scope[ref.id];
      if (typeof created === "object" && created !== null) this.own(created);
      return;
    }
    let parent: unknown = root;
    for (const step of path.slice(0, -1)) {
      const key = step.type === "property" ? step.id : this.getLiteral(step.id);
      parent = ownValue(parent, key);
    }
    if (typeof parent === "object" && parent !== null && this.owned?.has(parent)) super.setValue(ast);
  }

  /** Only macros the template defined, and `#stop`; not `#eval` nor anything on a prototype. */
  protected override getMacro(ast: any, bodyContent?: string): string {
    if (ast.id === "stop" || Object.hasOwn(this.macrosStore, ast.id)) {
      return (Compile.prototype as any).getMacro.call(this, ast, bodyContent);
    }
    return "";
  }
}
