/** @jsxImportSource hono/jsx */
import type { Field } from "./integration-form.ts";

// The inputs of an integration form's kind-specific fields (see integration-form.ts): labelled,
// with their hints and errors; a secret's input is never filled, whatever is stored.

/** How many blank rows a list shows besides its items (a secret list shows only blank ones). */
const BLANK_ROWS = 2;
const SECRET_ROWS = 4;

const label = (key: string) => key.replace(/([a-z])([A-Z])/g, "$1 $2").replace(/^./, (c) => c.toUpperCase());
export const shown = (v: unknown): string =>
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
    // The tag beside says set / not set; the hint says what a blank input does.
    f.secret && props.secretState === "set" ? "leave blank to keep it" : "",
    f.secret && props.secretState === "missing" ? "enter it again" : "",
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
        <span>
          <span class="tag" data-secret={f.key} data-state={props.secretState ?? "not set"}>
            {props.secretState === "set" ? "set" : props.secretState === "missing" ? "missing" : "not set"}
          </span>
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
            // In a scroller: a fieldset is never narrower than its table, and a phone is.
            <div class="full table-wrap">
              <fieldset aria-describedby={hintId}>
                <legend>
                  {label(f.key)}
                  {f.required ? " *" : ""}
                </legend>
                {hint}
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
              </fieldset>
            </div>
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
