import type { IntegrationKind } from "../admin/managed.ts";

/**
 * An integration form's fields, made from a kind's options as JSON Schema (`ManagedConfig.kinds()`,
 * from the provider's zod schema) rather than a form written per kind. Secret fields are write-only:
 * their inputs are never filled, a blank one keeps the stored value.
 */

/** The part of JSON Schema the kinds' options use. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  default?: unknown;
  description?: string;
  format?: string;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
}

type Control =
  | "text"
  | "url"
  | "password"
  | "number"
  | "select"
  | "checkbox"
  | "lines"
  | "secret-list"
  | "rows"
  | "union"
  | "json";

/** One input of the form (or, for `rows`, a table of them). */
export interface Field {
  key: string;
  control: Control;
  required: boolean;
  secret: boolean;
  description?: string;
  default?: unknown;
  choices?: string[];
  /** `rows`: the columns of one row. */
  columns?: Field[];
  /** `union`: whether a JSON object is one of its forms (else only scalars: numbers read as numbers). */
  objects?: boolean;
  integer?: boolean;
}

const typeOf = (s: JsonSchema): string | undefined =>
  Array.isArray(s.type) ? s.type.find((t) => t !== "null") : s.type;

function resolve(s: JsonSchema, root: JsonSchema): JsonSchema {
  const ref = s.$ref?.match(/^#\/\$defs\/(.+)$/)?.[1];
  return ref && root.$defs?.[ref] ? resolve(root.$defs[ref], root) : s;
}

function fieldOf(
  key: string,
  raw: JsonSchema,
  root: JsonSchema,
  required: boolean,
  secret: boolean,
  inRow = false,
): Field {
  const s = resolve(raw, root);
  const base = { key, required, secret, description: s.description, default: s.default };
  const alternatives = (s.anyOf ?? s.oneOf)?.map((a) => resolve(a, root));
  const type = typeOf(s);
  if (s.enum?.every((v) => typeof v === "string"))
    return { ...base, control: "select", choices: s.enum as string[] };
  if (alternatives)
    return { ...base, control: "union", objects: alternatives.some((a) => typeOf(a) === "object") };
  if (type === "boolean") return { ...base, control: "checkbox" };
  if (type === "integer" || type === "number")
    return { ...base, control: "number", integer: type === "integer" };
  // In a secret list's rows a name stays readable (a header's); every other text is a password.
  if (type === "string")
    return {
      ...base,
      control: secret && !(inRow && key === "name") ? "password" : s.format === "uri" ? "url" : "text",
    };
  if (type === "array" && s.items) {
    const item = resolve(s.items, root);
    if (typeOf(item) === "string") return { ...base, control: secret ? "secret-list" : "lines" };
    if (typeOf(item) === "object" && item.properties) {
      const columns = Object.entries(item.properties).map(([k, v]) =>
        fieldOf(k, v, root, item.required?.includes(k) ?? false, secret, true),
      );
      if (columns.every((c) => !["rows", "json", "lines", "secret-list"].includes(c.control)))
        return { ...base, control: "rows", columns };
    }
  }
  return { ...base, control: "json" };
}

/**
 * The fields of a kind's options, in the schema's order.
 *
 * @example fieldsOf(kinds.find((k) => k.kind === "basic")!) // [{ key: "username", control: "text" }, { key: "password", control: "password", secret: true }]
 */
export function fieldsOf(kind: IntegrationKind): Field[] {
  const root = kind.options as JsonSchema;
  return Object.entries(root.properties ?? {}).map(([key, s]) =>
    fieldOf(key, s, root, root.required?.includes(key) ?? false, kind.secretFields.includes(key)),
  );
}

const isBlank = (v: unknown) => v === undefined || (typeof v === "string" && v.trim() === "");

/** A form's values by input name (`parseBody({ all: true })`: a repeated name gives an array). */
export type FormValues = Record<string, unknown>;

const text = (form: FormValues, name: string): string => {
  const v = form[name];
  return typeof v === "string" ? v : Array.isArray(v) && typeof v[0] === "string" ? v[0] : "";
};

/** What a form gave, or why a field could not be read. */
export interface ReadOptions {
  options: Record<string, unknown>;
  issues: Array<{ path: string; message: string }>;
}

function scalar(f: Field, raw: string, path: string, issues: ReadOptions["issues"]): unknown {
  const v = raw.trim();
  if (f.control === "checkbox") return raw === "on" || raw === "true";
  if (v === "") return undefined;
  if (f.control === "number") {
    const n = Number(v);
    if (!Number.isFinite(n) || (f.integer && !Number.isInteger(n)))
      issues.push({ path, message: `expected ${f.integer ? "a whole number" : "a number"}` });
    return n;
  }
  if (f.control === "union") {
    // Browsers send a textarea's line breaks as CRLF; PEM and JSON read the same with LF.
    const lf = v.replace(/\r\n/g, "\n");
    if (!f.objects) return /^-?\d+(\.\d+)?$/.test(lf) ? Number(lf) : lf;
    if (!lf.startsWith("{")) return lf;
    try {
      return JSON.parse(lf);
    } catch {
      issues.push({ path, message: "starts with { but is not JSON" });
      return undefined;
    }
  }
  if (f.control === "password") return raw;
  return v;
}

const rowIndexes = (form: FormValues, prefix: string): number[] => {
  const seen = new Set<number>();
  for (const name of Object.keys(form)) {
    const m = name.startsWith(prefix) ? /^(\d+)(?:\.|$)/.exec(name.slice(prefix.length)) : null;
    if (m) seen.add(Number(m[1]));
  }
  return [...seen].sort((a, b) => a - b);
};

/**
 * Reads a kind's options from the form (inputs named `o.<field>`, `o.<field>.<row>.<column>`): a blank
 * field is left out (its default applies, or a secret keeps its stored value); a blank row is skipped.
 *
 * @example readOptions(fieldsOf(basicKind), { "o.username": "u", "o.password": "" }) // { options: { username: "u" }, issues: [] }
 */
export function readOptions(fields: readonly Field[], form: FormValues): ReadOptions {
  const options: Record<string, unknown> = {};
  const issues: ReadOptions["issues"] = [];
  for (const f of fields) {
    const name = `o.${f.key}`;
    let value: unknown;
    if (f.control === "lines") {
      const lines = text(form, name)
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter(Boolean);
      value = lines.length > 0 ? lines : undefined;
    } else if (f.control === "secret-list") {
      const given = rowIndexes(form, `${name}.`)
        .map((i) => text(form, `${name}.${i}`))
        .filter((v) => !isBlank(v));
      value = given.length > 0 ? given : undefined;
    } else if (f.control === "rows") {
      const rows: Record<string, unknown>[] = [];
      for (const i of rowIndexes(form, `${name}.`)) {
        const cols = f.columns ?? [];
        const typed = cols.filter((c) => c.control !== "checkbox" && c.control !== "select");
        if (typed.every((c) => isBlank(text(form, `${name}.${i}.${c.key}`)))) continue;
        const row: Record<string, unknown> = {};
        for (const c of cols) {
          const v = scalar(c, text(form, `${name}.${i}.${c.key}`), `${f.key}.${i}.${c.key}`, issues);
          if (v !== undefined) row[c.key] = v;
        }
        rows.push(row);
      }
      value = rows.length > 0 ? rows : undefined;
    } else if (f.control === "json") {
      const raw = text(form, name).trim();
      if (raw) {
        try {
          value = JSON.parse(raw);
        } catch {
          issues.push({ path: f.key, message: "expected JSON" });
        }
      }
    } else {
      value = scalar(f, text(form, name), f.key, issues);
    }
    if (value !== undefined) options[f.key] = value;
  }
  return { options, issues };
}
