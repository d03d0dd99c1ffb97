/**
 * The part of bun:test's `expect` that the conformance suite uses, with Bun's semantics (`toEqual`
 * ignores properties whose value is undefined; `toMatchObject` matches a subset), written without
 * any runtime's libraries so that Node and Deno check exactly what Bun checks.
 */

/** Raises a failed expectation; each shim passes its runner's assertion error. */
export type Fail = (
  message: string,
  details: { actual: unknown; expected: unknown; operator: string },
) => never;

abstract class Asymmetric {
  abstract matches(actual: unknown): boolean;
  abstract describe(): string;
}

class AnyOf extends Asymmetric {
  constructor(readonly type: unknown) {
    super();
  }
  matches(actual: unknown): boolean {
    const t = this.type;
    if (t === String) return typeof actual === "string" || actual instanceof String;
    if (t === Number) return typeof actual === "number" || actual instanceof Number;
    if (t === Boolean) return typeof actual === "boolean";
    if (t === BigInt) return typeof actual === "bigint";
    if (t === Function) return typeof actual === "function";
    if (t === Object) return typeof actual === "object" && actual !== null;
    return typeof t === "function" && actual instanceof (t as new () => unknown);
  }
  describe(): string {
    return `Any<${(this.type as { name?: string }).name ?? "?"}>`;
  }
}

class Anything extends Asymmetric {
  matches(actual: unknown): boolean {
    return actual !== null && actual !== undefined;
  }
  describe(): string {
    return "Anything";
  }
}

class StringMatching extends Asymmetric {
  constructor(readonly pattern: RegExp | string) {
    super();
  }
  matches(actual: unknown): boolean {
    if (typeof actual !== "string") return false;
    return typeof this.pattern === "string" ? actual.includes(this.pattern) : this.pattern.test(actual);
  }
  describe(): string {
    return `StringMatching ${String(this.pattern)}`;
  }
}

class ObjectContaining extends Asymmetric {
  constructor(readonly subset: object) {
    super();
  }
  matches(actual: unknown): boolean {
    return matchesObject(actual, this.subset);
  }
  describe(): string {
    return `ObjectContaining ${show(this.subset)}`;
  }
}

class ArrayContaining extends Asymmetric {
  constructor(readonly items: unknown[]) {
    super();
  }
  matches(actual: unknown): boolean {
    return Array.isArray(actual) && this.items.every((item) => actual.some((a) => equals(a, item)));
  }
  describe(): string {
    return `ArrayContaining ${show(this.items)}`;
  }
}

/**
 * A value for messages: JSON where it can, with the class name of objects that are not plain.
 *
 * @example show(new Map([["a", 1]])) // 'Map {"[Map]":[["a",1]]}'
 */
export function show(value: unknown): string {
  if (value instanceof Asymmetric) return value.describe();
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "function") return `[Function ${value.name || "anonymous"}]`;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (typeof value === "bigint") return `${value}n`;
  if (value === undefined) return "undefined";
  try {
    const seen = new WeakSet<object>();
    const text = JSON.stringify(value, (_k, v: unknown) => {
      if (v instanceof Asymmetric) return v.describe();
      if (typeof v === "bigint") return `${v}n`;
      if (v === undefined) return "[undefined]";
      if (typeof v === "object" && v !== null) {
        if (seen.has(v)) return "[Circular]";
        seen.add(v);
        if (v instanceof Map) return { "[Map]": [...v] };
        if (v instanceof Set) return { "[Set]": [...v] };
      }
      return v;
    });
    const name = (value as object)?.constructor?.name;
    const prefix =
      typeof value === "object" && value && name && name !== "Object" && name !== "Array" ? `${name} ` : "";
    return (prefix + (text ?? String(value))).slice(0, 2000);
  } catch {
    return String(value);
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null;

/**
 * Bun's `toEqual`: recursive, properties holding undefined count as absent (`strict`: they count, and
 * prototypes must match).
 *
 * @example equals({ a: 1, b: undefined }, { a: 1 }) // true
 */
export function equals(a: unknown, b: unknown, strict = false): boolean {
  if (b instanceof Asymmetric) return b.matches(a);
  if (a instanceof Asymmetric) return a.matches(b);
  if (Object.is(a, b)) return true;
  if (!isObject(a) || !isObject(b)) return false;
  if (a instanceof Date || b instanceof Date)
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (a instanceof RegExp || b instanceof RegExp) return String(a) === String(b);
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (strict && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !equals(v, b.get(k), strict)) return false;
    return true;
  }
  if (a instanceof Set || b instanceof Set) {
    if (!(a instanceof Set && b instanceof Set) || a.size !== b.size) return false;
    for (const v of a) if (![...b].some((w) => equals(v, w, strict))) return false;
    return true;
  }
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    const x = a as unknown as ArrayLike<number>;
    const y = b as unknown as ArrayLike<number>;
    return x.length === y.length && Array.from(x).every((v, i) => v === y[i]);
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    return a.every((v, i) => equals(v, b[i], strict));
  }
  const keys = (o: Record<string, unknown>) => Object.keys(o).filter((k) => strict || o[k] !== undefined);
  const ka = keys(a);
  const kb = keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && equals(a[k], b[k], strict));
}

/**
 * Bun's `toMatchObject`: every property of `expected` matches, recursively; arrays match element-wise.
 *
 * @example matchesObject({ a: 1, b: { c: 2, d: 3 } }, { b: { c: 2 } }) // true
 */
export function matchesObject(actual: unknown, expected: unknown): boolean {
  if (expected instanceof Asymmetric) return expected.matches(actual);
  if (!isObject(expected) || expected instanceof Date || expected instanceof RegExp)
    return equals(actual, expected);
  if (!isObject(actual)) return false;
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((e, i) => matchesObject(actual[i], e))
    );
  }
  return Object.keys(expected).every(
    (k) =>
      (k in actual || expected[k] === undefined) &&
      matchesObject((actual as Record<string, unknown>)[k], expected[k]),
  );
}

function errorMatches(error: unknown, expected: unknown): boolean {
  if (expected === undefined) return true;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof expected === "string") return message.includes(expected);
  if (expected instanceof RegExp) return expected.test(message);
  if (typeof expected === "function") return error instanceof (expected as new () => unknown);
  if (isObject(expected)) return matchesObject(error, expected);
  return false;
}

type Matchers = Record<string, (...args: any[]) => any> & {
  not: Matchers;
  resolves: Matchers;
  rejects: Matchers;
};

/**
 * Makes `expect` for a runner: `fail` raises the runner's own assertion error.
 *
 * @example const expect = makeExpect((m) => { throw new Error(m) }); expect(1 + 1).toBe(2);
 */
export function makeExpect(fail: Fail) {
  const matchers = (actual: unknown, negated: boolean): Record<string, (...args: any[]) => void> => {
    const check = (pass: boolean, name: string, expected: unknown, detail = "") => {
      if (pass !== negated) return;
      const not = negated ? ".not" : "";
      fail(
        `expect(received)${not}.${name}(expected)${detail ? ` — ${detail}` : ""}\n\nExpected${negated ? " not" : ""}: ${show(expected)}\nReceived: ${show(actual)}`,
        { actual, expected, operator: name },
      );
    };
    const size = (v: unknown) =>
      (v as { length?: number; size?: number }).length ?? (v as { size?: number }).size;
    return {
      toBe: (e: unknown) => check(Object.is(actual, e), "toBe", e),
      toEqual: (e: unknown) => check(equals(actual, e), "toEqual", e),
      toStrictEqual: (e: unknown) => check(equals(actual, e, true), "toStrictEqual", e),
      toMatchObject: (e: unknown) => check(matchesObject(actual, e), "toMatchObject", e),
      toContain: (e: unknown) =>
        check(
          typeof actual === "string"
            ? actual.includes(String(e))
            : Array.from(actual as Iterable<unknown>).includes(e),
          "toContain",
          e,
        ),
      toContainEqual: (e: unknown) =>
        check(
          Array.from(actual as Iterable<unknown>).some((a) => equals(a, e)),
          "toContainEqual",
          e,
        ),
      toHaveLength: (n: number) => check(size(actual) === n, "toHaveLength", n, `length ${size(actual)}`),
      toHaveProperty: (path: string | string[], ...value: unknown[]) => {
        const parts = Array.isArray(path) ? path : path.split(".");
        let at: unknown = actual;
        let found = true;
        for (const p of parts) {
          if (isObject(at) && p in at) at = at[p];
          else {
            found = false;
            break;
          }
        }
        check(
          found && (value.length === 0 || equals(at, value[0])),
          "toHaveProperty",
          value.length ? value[0] : path,
        );
      },
      toBeInstanceOf: (c: new (...a: any[]) => unknown) => check(actual instanceof c, "toBeInstanceOf", c),
      toBeTypeOf: (t: string) => check(typeof actual === t, "toBeTypeOf", t),
      toBeDefined: () => check(actual !== undefined, "toBeDefined", "defined"),
      toBeUndefined: () => check(actual === undefined, "toBeUndefined", undefined),
      toBeNull: () => check(actual === null, "toBeNull", null),
      toBeTruthy: () => check(Boolean(actual), "toBeTruthy", "truthy"),
      toBeFalsy: () => check(!actual, "toBeFalsy", "falsy"),
      toBeGreaterThan: (n: number) => check((actual as number) > n, "toBeGreaterThan", n),
      toBeGreaterThanOrEqual: (n: number) => check((actual as number) >= n, "toBeGreaterThanOrEqual", n),
      toBeLessThan: (n: number) => check((actual as number) < n, "toBeLessThan", n),
      toBeLessThanOrEqual: (n: number) => check((actual as number) <= n, "toBeLessThanOrEqual", n),
      toBeCloseTo: (n: number, digits = 2) =>
        check(Math.abs((actual as number) - n) < 10 ** -digits / 2, "toBeCloseTo", n),
      toMatch: (p: RegExp | string) =>
        check(
          typeof actual === "string" && (typeof p === "string" ? actual.includes(p) : p.test(actual)),
          "toMatch",
          p,
        ),
      toStartWith: (p: string) => check(typeof actual === "string" && actual.startsWith(p), "toStartWith", p),
      toEndWith: (p: string) => check(typeof actual === "string" && actual.endsWith(p), "toEndWith", p),
      toThrow: (e?: unknown) => {
        let thrown = false;
        let error: unknown;
        try {
          (actual as () => unknown)();
        } catch (x) {
          thrown = true;
          error = x;
        }
        check(
          thrown && errorMatches(error, e),
          "toThrow",
          e ?? "an error",
          thrown ? `threw ${show(error)}` : "did not throw",
        );
      },
    };
  };

  const build = (actual: unknown): Matchers => {
    const direct = matchers(actual, false) as Matchers;
    direct.not = matchers(actual, true) as Matchers;
    const settled = (rejected: boolean): Matchers =>
      new Proxy({} as Matchers, {
        get: (_t, name: string) => {
          if (name === "not")
            return new Proxy({} as Matchers, {
              get:
                (_u, inner: string) =>
                async (...args: unknown[]) => {
                  const value = await outcome(rejected, name);
                  return (matchers(value, true)[inner] as (...a: unknown[]) => void)(...args);
                },
            });
          return async (...args: unknown[]) => {
            const value = await outcome(rejected, name);
            // `rejects.toThrow(x)` checks the rejection reason itself, not a function that throws it.
            if (rejected && name === "toThrow") {
              const ok = errorMatches(value, args[0]);
              if (!ok)
                fail(
                  `expect(promise).rejects.toThrow(expected)\n\nExpected: ${show(args[0])}\nReceived: ${show(value)}`,
                  {
                    actual: value,
                    expected: args[0],
                    operator: "rejects.toThrow",
                  },
                );
              return;
            }
            return (matchers(value, false)[name] as (...a: unknown[]) => void)(...args);
          };
        },
      });
    const outcome = async (rejected: boolean, name: string): Promise<unknown> => {
      let value: unknown;
      let threw = false;
      try {
        value = await (actual as Promise<unknown>);
      } catch (e) {
        threw = true;
        value = e;
      }
      if (rejected && !threw)
        fail(`expect(promise).rejects.${name}(): the promise resolved with ${show(value)}`, {
          actual: value,
          expected: "a rejection",
          operator: "rejects",
        });
      if (!rejected && threw)
        fail(`expect(promise).resolves.${name}(): the promise rejected with ${show(value)}`, {
          actual: value,
          expected: "a value",
          operator: "resolves",
        });
      return value;
    };
    Object.defineProperty(direct, "resolves", { get: () => settled(false) });
    Object.defineProperty(direct, "rejects", { get: () => settled(true) });
    return direct;
  };

  return Object.assign(build, {
    any: (type: unknown) => new AnyOf(type),
    anything: () => new Anything(),
    stringMatching: (p: RegExp | string) => new StringMatching(p),
    stringContaining: (s: string) => new StringMatching(s),
    objectContaining: (o: object) => new ObjectContaining(o),
    arrayContaining: (a: unknown[]) => new ArrayContaining(a),
  });
}
