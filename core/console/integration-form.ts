/** @jsxImportSource hono/jsx */
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

/** How many blank rows a list shows besides its items (a secret list shows only blank ones). */
const BLANK_ROWS = 2;
const SECRET_ROWS = 4;

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

const label = (key: string) => key.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/^./, (c) => c.toUpperCase());
const shown = (v: unknown): string =>
  v === undefined || v === null ? "" : typeof v === "string" ? v : JSON.stringify(v);

/** Where the form stands: the values to show (never a secret's), errors by field, who may set secrets. */
export interface FieldsState {
  values: Record<string, unknown>;
  /** Secret fields and whether a value is stored ("set") — absent: not set. */
  secrets: Record<string, string>;
  errors: Record<string, string>;
  /** Whether the viewer may enter secrets (admins; an editor's integration carries none). */
  canSetSecrets: boolean;
}

const Hint = (props: {
  id: string;
  f: Field;
  secretState?: string;
  canSetSecrets: boolean;
  error?: string;
}) => {
  const { f } = props;
  const parts = [
    f.secret
      ? props.secretState === "set"
        ? "set — leave blank to keep it"
        : props.secretState === "missing"
          ? "missing — enter it again"
          : "not set"
      : "",
    f.secret && !props.canSetSecrets ? "only an admin can set secrets" : "",
    f.control === "lines" ? "one per line" : "",
    f.control === "union" && f.objects ? 'text, or JSON for another form (e.g. {"file": "/path"})' : "",
    f.control === "json" ? "JSON" : "",
    f.default !== undefined && f.control !== "checkbox" ? `default ${shown(f.default)}` : "",
    f.description ?? "",
  ].filter(Boolean);
  return (
    <>
      {f.secret ? (
        <span class="tag" data-secret={f.key} data-state={props.secretState ?? "not set"}>
          {props.secretState === "set" ? "set" : props.secretState === "missing" ? "missing" : "not set"}
        </span>
      ) : null}
      {parts.length > 0 ? (
        <span class="hint" id={props.id}>
          {parts.join(" · ")}
        </span>
      ) : null}
      {props.error ? (
        <span class="error" role="alert">
          {props.error}
        </span>
      ) : null}
    </>
  );
};

function Input(props: {
  f: Field;
  name: string;
  value: unknown;
  disabled: boolean;
  label: string;
  hintId?: string;
  /** Whether the browser should ask for it (never in a list's rows, which may stay blank). */
  required?: boolean;
}) {
  const { f, name, value } = props;
  const required = props.required ?? false;
  const common = {
    name,
    id: props.hintId ? `field-${f.key}` : undefined,
    disabled: props.disabled,
    "aria-describedby": props.hintId,
    "aria-label": props.hintId ? undefined : props.label,
  };
  switch (f.control) {
    case "select":
      return (
        <select {...common}>
          {f.required && f.default === undefined ? null : (
            <option value="">{f.default === undefined ? "(none)" : `(default: ${shown(f.default)})`}</option>
          )}
          {(f.choices ?? []).map((c) => (
            <option value={c} selected={value === c}>
              {c}
            </option>
          ))}
        </select>
      );
    case "checkbox":
      return <input type="checkbox" {...common} checked={Boolean(value ?? f.default)} />;
    case "number":
      return <input type="number" step={f.integer ? "1" : "any"} value={shown(value)} {...common} />;
    case "password":
      // Write-only: never a value attribute, whatever is stored.
      return <input type="password" autocomplete="new-password" {...common} />;
    case "url":
      return <input type="url" value={shown(value)} required={required} {...common} />;
    case "lines":
      return (
        <textarea rows={3} {...common}>
          {Array.isArray(value) ? value.join("\n") : shown(value)}
        </textarea>
      );
    case "union":
    case "json":
      return (
        <textarea rows={f.secret ? 5 : 3} autocomplete="off" spellcheck={false} {...common}>
          {f.secret
            ? ""
            : f.control === "json" && value !== undefined
              ? JSON.stringify(value, null, 2)
              : shown(value)}
        </textarea>
      );
    default:
      return <input type="text" value={shown(value)} required={required} {...common} />;
  }
}

/**
 * The inputs of a kind's options: one label per field with its hint (default, description, a secret's
 * "set" / "not set") and its error; lists as rows of inputs. Secret inputs are always empty.
 */
export function Fields(props: { fields: readonly Field[]; state: FieldsState }) {
  const { state } = props;
  return (
    <>
      {props.fields.map((f) => {
        const name = `o.${f.key}`;
        const hintId = `hint-${f.key}`;
        const value = f.secret ? undefined : state.values[f.key];
        const disabled = f.secret && !state.canSetSecrets;
        const hint = (
          <Hint
            id={hintId}
            f={f}
            secretState={state.secrets[f.key]}
            canSetSecrets={state.canSetSecrets}
            error={state.errors[f.key]}
          />
        );
        if (f.control === "rows" || f.control === "secret-list") {
          const items = Array.isArray(value) ? value : [];
          const count = f.secret ? SECRET_ROWS : items.length + BLANK_ROWS;
          const cols = f.columns ?? [{ ...f, key: "", control: "password" as const }];
          return (
            <fieldset class="full rows" aria-describedby={hintId}>
              <legend>
                {label(f.key)}
                {f.required ? " *" : ""}
              </legend>
              {hint}
              <div class="table-wrap">
                <table>
                  {f.columns ? (
                    <thead>
                      <tr>
                        {cols.map((c) => (
                          <th>{label(c.key)}</th>
                        ))}
                      </tr>
                    </thead>
                  ) : null}
                  <tbody>
                    {Array.from({ length: count }, (_, i) => (
                      <tr>
                        {cols.map((c) => {
                          const item = items[i] as Record<string, unknown> | undefined;
                          const cellName = c.key ? `${name}.${i}.${c.key}` : `${name}.${i}`;
                          return (
                            <td>
                              <Input
                                f={c}
                                name={cellName}
                                value={item?.[c.key]}
                                disabled={disabled}
                                label={`${label(f.key)} ${i + 1}${c.key ? ` ${c.key}` : ""}`}
                              />
                            </td>
                          );
                        })}
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            </fieldset>
          );
        }
        const wide = ["lines", "union", "json"].includes(f.control);
        return f.control === "checkbox" ? (
          <label class={wide ? "full" : undefined} for={`field-${f.key}`}>
            <span>
              <Input
                f={f}
                name={name}
                value={value}
                disabled={disabled}
                label={label(f.key)}
                hintId={hintId}
              />{" "}
              {label(f.key)}
            </span>
            {hint}
          </label>
        ) : (
          <label class={wide ? "full" : undefined} for={`field-${f.key}`}>
            {label(f.key)}
            {f.required ? " *" : ""}
            <Input
              f={f}
              name={name}
              value={value}
              disabled={disabled}
              label={label(f.key)}
              hintId={hintId}
              required={f.required && !f.secret}
            />
            {hint}
          </label>
        );
      })}
    </>
  );
}
