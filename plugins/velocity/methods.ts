import { TOOLS } from "./tools.ts";

/**
 * The methods a Velocity template may call, and nothing else: Java's `Map`, `List` and `String`
 * methods that eSputnik's templates use (`$data.get('WH5')`, `$list.get(0)`, `$s.toUpperCase()`),
 * implemented over plain JavaScript values, and the tools' own methods. No function of the host, of
 * the caller's data or of a prototype is ever called.
 */

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A value's own property, never an inherited one and never a function. */
export function ownValue(base: unknown, key: unknown): unknown {
  if (base === null || base === undefined) return undefined;
  const k = typeof key === "number" ? key : String(key);
  if (typeof base === "object") {
    if (!Object.hasOwn(base, k)) return undefined;
  } else if (typeof base === "string") {
    if (!Object.hasOwn(Object(base), k)) return undefined;
  } else return undefined;
  const v = (base as Record<string | number, unknown>)[k];
  return typeof v === "function" ? undefined : v;
}

function listGet(list: readonly unknown[], index: unknown): unknown {
  const i = typeof index === "string" && index.trim() !== "" ? Number(index) : index;
  return typeof i === "number" && Number.isInteger(i) && i >= 0 ? ownValue(list, i) : undefined;
}

const str = (v: unknown) => String(v ?? "");

type Method<T> = (self: T, args: unknown[], mutable: boolean) => unknown;

const STRING_METHODS: Record<string, Method<string>> = {
  length: (s) => s.length,
  isEmpty: (s) => s.length === 0,
  toUpperCase: (s) => s.toUpperCase(),
  toLowerCase: (s) => s.toLowerCase(),
  trim: (s) => s.trim(),
  substring: (s, [a, b]) => s.substring(Number(a), b === undefined ? undefined : Number(b)),
  charAt: (s, [i]) => s.charAt(Number(i)),
  contains: (s, [x]) => s.includes(str(x)),
  startsWith: (s, [x]) => s.startsWith(str(x)),
  endsWith: (s, [x]) => s.endsWith(str(x)),
  indexOf: (s, [x]) => s.indexOf(str(x)),
  // Java's String.replace(CharSequence, CharSequence) replaces every occurrence, literally.
  replace: (s, [a, b]) => s.split(str(a)).join(str(b)),
  split: (s, [sep]) => s.split(str(sep)),
  equals: (s, [x]) => s === x,
  equalsIgnoreCase: (s, [x]) => typeof x === "string" && s.toLowerCase() === x.toLowerCase(),
  toString: (s: string) => s,
};

const LIST_METHODS: Record<string, Method<unknown[]>> = {
  get: (l, [i]) => listGet(l, i),
  size: (l) => l.length,
  isEmpty: (l) => l.length === 0,
  contains: (l, [x]) => l.includes(x),
  indexOf: (l, [x]) => l.indexOf(x),
  subList: (l, [a, b]) => l.slice(Number(a), b === undefined ? undefined : Number(b)),
  // Mutators only touch lists the template built itself (`#set($l = [])`), never the caller's data.
  add: (l, [x], mutable) => {
    if (!mutable) return undefined;
    l.push(x);
    return true;
  },
  toString: (l: unknown[]) => `[${l.map(str).join(", ")}]`,
};

/** `getFoo()` / `isFoo()` read the bean property `foo` (or `Foo`), as Velocity does for Java beans. */
function beanGetter(name: string): string | undefined {
  const m = /^(?:get|is)([A-Za-z_$][\w$]*)$/.exec(name);
  return m ? m[1] : undefined;
}

const MAP_METHODS: Record<string, Method<Record<string, unknown>>> = {
  get: (m, [k]) => ownValue(m, k),
  containsKey: (m, [k]) => Object.hasOwn(m, str(k)),
  size: (m) => Object.keys(m).length,
  isEmpty: (m) => Object.keys(m).length === 0,
  keySet: (m) => Object.keys(m),
  values: (m) => Object.values(m).filter((v) => typeof v !== "function"),
  entrySet: (m) => Object.keys(m).map((key) => ({ key, value: ownValue(m, key) })),
  put: (m, [k, v], mutable) => {
    const key = str(k);
    // `__proto__` as a plain assignment would rewrite the prototype, not add a key.
    if (!mutable || key === "__proto__") return undefined;
    const old = ownValue(m, key);
    m[key] = v;
    return old;
  },
};

/**
 * Calls `name(...args)` on a template value: a tool's method, or a Java-style method implemented
 * here for strings, lists and maps. `mutable` says whether the value was built by the template
 * (only those accept `add`/`put`). Anything else yields `undefined`, which Velocity prints as the
 * reference text (or nothing, with `$!`).
 *
 * @example callMethod({ WH5: { promocode: "X" } }, "get", ["WH5"], false) // { promocode: "X" }
 */
export function callMethod(self: unknown, name: string, args: unknown[], mutable: boolean): unknown {
  if (typeof self === "object" && self !== null && TOOLS.has(self)) {
    const fn = Object.hasOwn(self, name) ? (self as Record<string, unknown>)[name] : undefined;
    return typeof fn === "function" ? fn(...args) : undefined;
  }
  if (typeof self === "string") {
    return Object.hasOwn(STRING_METHODS, name) ? STRING_METHODS[name]!(self, args, false) : undefined;
  }
  if (typeof self === "number" || typeof self === "boolean") {
    return name === "toString" ? String(self) : undefined;
  }
  if (Array.isArray(self)) {
    return Object.hasOwn(LIST_METHODS, name) ? LIST_METHODS[name]!(self, args, mutable) : undefined;
  }
  if (isPlainObject(self)) {
    if (Object.hasOwn(MAP_METHODS, name)) return MAP_METHODS[name]!(self, args, mutable);
    const bean = beanGetter(name);
    if (bean === undefined || args.length > 0) return undefined;
    const lower = bean[0]!.toLowerCase() + bean.slice(1);
    return Object.hasOwn(self, lower) ? ownValue(self, lower) : ownValue(self, bean);
  }
  return undefined;
}
