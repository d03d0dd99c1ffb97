/**
 * The values a Jinja template handles: the caller's plain data (strings, numbers, booleans, null,
 * arrays, plain objects) and values the renderer built (`JinjaValue`: functions, namespaces, the
 * `webhook` response accessor). Attribute and item access read own data properties only, never a
 * function of the data and never anything inherited: that is the sandbox.
 */

/** A value the renderer built: it may be called and may answer attributes. */
export class JinjaValue {
  /** Called as `value(args…)`; a value without it is not callable. */
  call?(args: unknown[], kwargs: Record<string, unknown>): unknown;
  /** `value.name` */
  attr(_name: string): unknown {
    return undefined;
  }
  /** How `{{ value }}` prints. */
  text(): string {
    return "";
  }
}

/**
 * A callable made from a host function; the only way host code is reachable from a template.
 *
 * @example new JinjaFunction((args) => args.length).call([1, 2], {}) // 2
 */
export class JinjaFunction extends JinjaValue {
  constructor(private readonly fn: (args: unknown[], kwargs: Record<string, unknown>) => unknown) {
    super();
  }
  override call(args: unknown[], kwargs: Record<string, unknown>): unknown {
    return this.fn(args, kwargs);
  }
}

/** `namespace(total=0)`: the one object a template may assign attributes on (`set ns.total = …`). */
export class Namespace extends JinjaValue {
  readonly vars: Record<string, unknown> = Object.create(null);
  override attr(name: string): unknown {
    return this.vars[name];
  }
}

export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof JinjaValue);

const str = (v: unknown) => toText(v);

const STRING_METHODS: Record<string, (s: string, args: unknown[]) => unknown> = {
  upper: (s) => s.toUpperCase(),
  lower: (s) => s.toLowerCase(),
  strip: (s) => s.trim(),
  lstrip: (s) => s.trimStart(),
  rstrip: (s) => s.trimEnd(),
  startswith: (s, [x]) => s.startsWith(str(x)),
  endswith: (s, [x]) => s.endsWith(str(x)),
  replace: (s, [a, b]) => s.split(str(a)).join(str(b)),
  split: (s, [sep]) =>
    sep === undefined || sep === null ? s.trim().split(/\s+/).filter(Boolean) : s.split(str(sep)),
  title: (s) =>
    s.toLowerCase().replace(/(^|[^\p{L}\p{N}'])(\p{L})/gu, (_, p, c: string) => p + c.toUpperCase()),
  capitalize: (s) => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase(),
};

const DICT_METHODS: Record<string, (d: Record<string, unknown>, args: unknown[]) => unknown> = {
  items: (d) => Object.keys(d).map((k) => [k, ownValue(d, k)]),
  keys: (d) => Object.keys(d),
  values: (d) => Object.keys(d).map((k) => ownValue(d, k)),
  get: (d, [k, fallback]) => (Object.hasOwn(d, str(k)) ? ownValue(d, str(k)) : (fallback ?? null)),
};

function ownValue(obj: object, key: string | number): unknown {
  if (!Object.hasOwn(obj, key)) return undefined;
  const v = (obj as Record<string | number, unknown>)[key];
  return typeof v === "function" ? undefined : v;
}

/**
 * `obj.name` in a template: own data properties, then the allow-listed string and dict methods.
 *
 * @example getAttr({ a: 1 }, "constructor") // undefined
 */
export function getAttr(obj: unknown, name: string): unknown {
  if (obj === null || obj === undefined) return undefined;
  if (obj instanceof JinjaValue) return obj.attr(name);
  if (typeof obj === "string") {
    const m = Object.hasOwn(STRING_METHODS, name) ? STRING_METHODS[name]! : undefined;
    return m && new JinjaFunction((args) => m(obj, args));
  }
  if (isPlainObject(obj)) {
    if (Object.hasOwn(obj, name)) return ownValue(obj, name);
    const m = Object.hasOwn(DICT_METHODS, name) ? DICT_METHODS[name]! : undefined;
    return m && new JinjaFunction((args) => m(obj, args));
  }
  return undefined;
}

/** `obj[key]`: list and string indexes (negative from the end), dict keys, else as an attribute. */
export function getItem(obj: unknown, key: unknown): unknown {
  if ((Array.isArray(obj) || typeof obj === "string") && typeof key === "number") {
    if (!Number.isInteger(key)) return undefined;
    const i = key < 0 ? obj.length + key : key;
    return i >= 0 && i < obj.length ? (typeof obj === "string" ? obj[i] : ownValue(obj, i)) : undefined;
  }
  if (isPlainObject(obj) && (typeof key === "string" || typeof key === "number")) return ownValue(obj, key);
  return typeof key === "string" ? getAttr(obj, key) : undefined;
}

/** Python's truthiness: empty strings, lists and dicts are false, so are 0, none and undefined. */
export function truthy(v: unknown): boolean {
  if (Array.isArray(v) || typeof v === "string") return v.length > 0;
  if (isPlainObject(v)) return Object.keys(v).length > 0;
  return Boolean(v);
}

/** Python's repr, as Jinja prints lists and dicts: `['a', 1]`, `{'k': True}`. */
export function repr(v: unknown): string {
  if (typeof v === "string") {
    const quote = v.includes("'") && !v.includes('"') ? '"' : "'";
    const body = v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t");
    return quote + (quote === "'" ? body.replace(/'/g, "\\'") : body) + quote;
  }
  if (Array.isArray(v)) return `[${v.map(repr).join(", ")}]`;
  if (isPlainObject(v)) {
    return `{${Object.keys(v)
      .map((k) => `${repr(k)}: ${repr(ownValue(v, k))}`)
      .join(", ")}}`;
  }
  return v === undefined ? "" : toText(v);
}

/** How `{{ v }}` prints: Python's str() (`True`, `None`), undefined prints nothing. */
export function toText(v: unknown): string {
  switch (typeof v) {
    case "string":
      return v;
    case "number":
      return Number.isNaN(v) ? "nan" : v === Infinity ? "inf" : v === -Infinity ? "-inf" : String(v);
    case "boolean":
      return v ? "True" : "False";
    case "undefined":
      return "";
    case "object":
      if (v === null) return "None";
      if (v instanceof JinjaValue) return v.text();
      return repr(v);
    default:
      return "";
  }
}

/** `==`: deep for lists and dicts, strict otherwise. */
export function equals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((x, i) => equals(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && equals(a[k], b[k]));
  }
  return false;
}

/** `x in y`: substring, list member, dict key. */
export function contains(container: unknown, item: unknown): boolean {
  if (typeof container === "string") return container.includes(toText(item));
  if (Array.isArray(container)) return container.some((x) => equals(x, item));
  if (isPlainObject(container)) return typeof item === "string" && Object.hasOwn(container, item);
  if (container === undefined || container === null) return false;
  throw new Error(`'in' needs a string, list or dict on the right, got ${typeName(container)}`);
}

/** The items a `for` loop or a filter iterates: list items, dict keys, string characters. */
export function iterate(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (typeof v === "string") return Array.from(v);
  if (isPlainObject(v)) return Object.keys(v);
  if (v === undefined || v === null) return [];
  throw new Error(`${typeName(v)} is not iterable`);
}

/** A type name for messages, in Jinja's words. */
export function typeName(v: unknown): string {
  if (v === undefined) return "undefined";
  if (v === null) return "none";
  if (Array.isArray(v)) return "list";
  if (v instanceof JinjaValue) return v.call ? "function" : "object";
  if (typeof v === "object") return "dict";
  return typeof v === "boolean" ? "bool" : typeof v;
}
