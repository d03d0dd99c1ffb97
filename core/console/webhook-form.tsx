/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import type { TemplateParameter } from "../engine/parameters.ts";

/** A webhook's definition as the admin API takes it (`PUT /v1/webhooks/:name`), loosely typed. */
export type Definition = Record<string, unknown>;

/** What a form field is refused with, by field name (the path, or the field it falls in). */
export type FieldErrors = Record<string, string>;

/** The tabs of one webhook's page. */
export const TABS = ["definition", "parameters", "settings", "test"] as const;
export type Tab = (typeof TABS)[number];

/** The fields each editable tab posts (a save keeps every other part of the definition as it is). */
export const TAB_FIELDS: Record<"definition" | "parameters" | "settings", readonly string[]> = {
  definition: [
    "description",
    "method",
    "url",
    "engine",
    "format",
    "integration",
    "headers",
    "body",
    "events",
  ],
  parameters: ["params", "sample"],
  settings: [
    "retry",
    "policy",
    "timeout",
    "orderingKey",
    "batch.size",
    "batch.linger",
    "batch.item",
    "response.format",
    "next",
    "actionId",
    "consent",
  ],
};

const DURATIONS = ["timeout", "batch.linger"];
const METHODS = ["POST", "PUT", "PATCH", "GET", "DELETE"];
const FORMATS = ["json", "text", "xml"];

/** `Name: value` lines (a header per line). */
const headerLines = (h: unknown) =>
  Object.entries((h ?? {}) as Record<string, string>)
    .map(([k, v]) => `${k}: ${v}`)
    .join("\n");

const listText = (v: unknown) => (Array.isArray(v) ? v.join(", ") : typeof v === "string" ? v : "");
const json = (v: unknown) => (v === undefined ? "" : JSON.stringify(v, null, 2));

/** A field's value as the form shows it. */
export function fieldValue(def: Definition, field: string): string {
  const [head, tail] = field.split(".") as [string, string | undefined];
  const v = tail ? ((def[head] ?? {}) as Record<string, unknown>)[tail] : def[head];
  if (field === "headers") return headerLines(v);
  if (field === "integration" || field === "events" || field === "consent") return listText(v);
  if (field === "params" || field === "sample") return json(v);
  return v === undefined || v === null ? "" : String(v);
}

/**
 * The definition a tab's form makes: the current one with the tab's fields replaced (a blank field
 * removes its key). Returns the issues found in the fields themselves (a header line without a
 * colon, JSON that does not parse) by field name; the rest is for the admin API to check.
 *
 * @example applyForm({ url: "https://x.example.com" }, { url: "https://y.example.com" }, TAB_FIELDS.definition)
 */
export function applyForm(
  current: Definition,
  form: Record<string, unknown>,
  fields: readonly string[],
): { definition: Definition; errors: FieldErrors } {
  const def: Definition = structuredClone(current);
  const errors: FieldErrors = {};
  for (const field of fields) {
    if (!(field in form)) continue;
    const raw = String(form[field] ?? "").trim();
    const [head, tail] = field.split(".") as [string, string | undefined];
    let value: unknown = raw === "" ? undefined : raw;
    if (raw !== "" && field === "headers") {
      const headers: Record<string, string> = {};
      for (const line of raw.split(/\r?\n/)) {
        if (!line.trim()) continue;
        const at = line.indexOf(":");
        if (at <= 0) errors.headers = `"${line.trim()}" is not a header: write one per line as Name: value`;
        else headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
      }
      value = headers;
    } else if (raw !== "" && (field === "integration" || field === "events" || field === "consent")) {
      const list = raw
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      value = field === "integration" && list.length === 1 ? list[0] : list;
    } else if (raw !== "" && (field === "params" || field === "sample")) {
      try {
        value = JSON.parse(raw);
      } catch (e) {
        errors[field] = `not JSON: ${(e as Error).message}`;
      }
    } else if (raw !== "" && (field === "batch.size" || (DURATIONS.includes(field) && /^\d+$/.test(raw)))) {
      // A duration in plain digits is milliseconds; "10s" stays text for the schema to read.
      value = Number(raw);
    }
    if (field === "body" && raw === "" && form[field] !== undefined) value = undefined;
    if (tail) {
      const parent = { ...((def[head] ?? {}) as Record<string, unknown>) };
      if (value === undefined) delete parent[tail];
      else parent[tail] = value;
      if (Object.keys(parent).length === 0) delete def[head];
      else def[head] = parent;
    } else if (value === undefined) delete def[head];
    else def[head] = value;
  }
  // A batch needs its size and item together; one left half-filled is said by the API's check.
  return { definition: def, errors };
}

/** The form field an API issue's path falls in (`headers.X-Campaign` → `headers`), or undefined. */
export function fieldOf(path: string, fields: readonly string[]): string | undefined {
  return [...fields].sort((a, b) => b.length - a.length).find((f) => path === f || path.startsWith(`${f}.`));
}

/** One labelled field with its hint and its error (said next to it, and tied to it for screen readers). */
function Field(props: {
  name: string;
  label: string;
  hint?: string;
  error?: string;
  full?: boolean;
  children: Child;
}) {
  return (
    <div class={props.full ? "full" : undefined}>
      <label for={`f-${props.name}`}>
        {props.label}
        {props.children}
      </label>
      {props.hint ? (
        <p class="hint" id={`h-${props.name}`}>
          {props.hint}
        </p>
      ) : null}
      {props.error ? (
        <p class="error" role="alert" id={`e-${props.name}`} data-field-error={props.name}>
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

/** The input of a field: a text box, a text area or a select, filled from the definition. */
function Input(props: {
  def: Definition;
  name: string;
  errors: FieldErrors;
  readonly: boolean;
  kind?: "text" | "area" | "code";
  options?: readonly string[];
  placeholder?: string;
  required?: boolean;
}) {
  const { name, errors } = props;
  const value = fieldValue(props.def, name);
  const common = {
    id: `f-${name}`,
    name,
    disabled: props.readonly,
    "aria-invalid": errors[name] ? "true" : undefined,
    "aria-describedby": errors[name] ? `e-${name}` : undefined,
  };
  if (props.options)
    return (
      <select {...common}>
        {props.options.map((o) => (
          <option value={o} selected={o === value}>
            {o || "—"}
          </option>
        ))}
      </select>
    );
  if (props.kind === "area" || props.kind === "code")
    return (
      <textarea {...common} spellcheck={false} placeholder={props.readonly ? undefined : props.placeholder}>
        {value}
      </textarea>
    );
  return (
    <input
      {...common}
      value={value}
      placeholder={props.readonly ? undefined : props.placeholder}
      required={props.required}
    />
  );
}

export interface FormContext {
  def: Definition;
  errors: FieldErrors;
  readonly: boolean;
  engines: readonly string[];
  integrations: readonly string[];
  retries: readonly string[];
  policies: readonly string[];
  /** Admin-API webhooks carry their event trigger; other webhooks' triggers are the config's. */
  events: boolean;
}

/** The definition tab's fields: the request (method, URL, headers, body with its engine and format) and who authenticates it. */
export function DefinitionFields(props: { f: FormContext }) {
  const { f } = props;
  const p = { def: f.def, errors: f.errors, readonly: f.readonly };
  return (
    <div class="fields">
      <Field name="method" label="Method" error={f.errors.method}>
        <Input {...p} name="method" options={METHODS} />
      </Field>
      <Field
        name="url"
        label="URL"
        full
        hint="A template rendering to an absolute URL, e.g. https://crm.example.com/contacts/{{customer.id}}"
        error={f.errors.url}
      >
        <Input {...p} name="url" required />
      </Field>
      <Field name="engine" label="Template engine" error={f.errors.engine}>
        <Input {...p} name="engine" options={f.engines} />
      </Field>
      <Field name="format" label="Body format" error={f.errors.format}>
        <Input {...p} name="format" options={FORMATS} />
      </Field>
      <Field
        name="integration"
        label="Integration"
        hint={`Authentication, or several in order, comma-separated. Known: ${f.integrations.join(", ") || "none"}`}
        error={f.errors.integration}
      >
        <Input {...p} name="integration" />
      </Field>
      {f.events ? (
        <Field
          name="events"
          label="Fired by events"
          hint="Event types that fire it, comma-separated (none: it fires only by hand or from a scenario)"
          error={f.errors.events}
        >
          <Input {...p} name="events" placeholder="signup, purchase" />
        </Field>
      ) : null}
      <Field
        name="headers"
        label="Headers"
        full
        hint="One per line: Name: value (templates)"
        error={f.errors.headers}
      >
        <Input {...p} name="headers" kind="area" placeholder="X-Campaign: {{params.campaign}}" />
      </Field>
      <Field name="body" label="Body template" full error={f.errors.body}>
        <Input {...p} name="body" kind="code" />
      </Field>
      <Field name="description" label="Description" full error={f.errors.description}>
        <Input {...p} name="description" />
      </Field>
    </div>
  );
}

/** The settings tab's fields: retry, throughput policy, timeout, ordering, batch, response, scenario. */
export function SettingsFields(props: { f: FormContext }) {
  const { f } = props;
  const p = { def: f.def, errors: f.errors, readonly: f.readonly };
  return (
    <div class="fields">
      <Field name="retry" label="Retry policy" hint="Empty: bloomreach (the default)" error={f.errors.retry}>
        <Input {...p} name="retry" options={["", ...f.retries]} />
      </Field>
      <Field
        name="policy"
        label="Throughput policy"
        hint="Shares that policy's concurrency limit"
        error={f.errors.policy}
      >
        <Input {...p} name="policy" options={["", ...f.policies]} />
      </Field>
      <Field name="timeout" label="Timeout" hint="e.g. 10s; empty: engine.timeout" error={f.errors.timeout}>
        <Input {...p} name="timeout" />
      </Field>
      <Field
        name="orderingKey"
        label="Ordering key"
        hint="A template (e.g. the customer id): one at a time, in order, per key"
        error={f.errors.orderingKey}
      >
        <Input {...p} name="orderingKey" />
      </Field>
      <Field
        name="batch.size"
        label="Batch size"
        hint="Customers per request (1..1000)"
        error={f.errors["batch.size"]}
      >
        <Input {...p} name="batch.size" />
      </Field>
      <Field name="batch.linger" label="Batch linger" hint="e.g. 1s" error={f.errors["batch.linger"]}>
        <Input {...p} name="batch.linger" />
      </Field>
      <Field
        name="batch.item"
        label="Batch item template"
        full
        hint="What each customer renders to; the body is the root around them"
        error={f.errors["batch.item"]}
      >
        <Input {...p} name="batch.item" kind="code" />
      </Field>
      <Field name="response.format" label="Response format" error={f.errors["response.format"]}>
        <Input {...p} name="response.format" options={["json", "text"]} />
      </Field>
      <Field
        name="next"
        label="Next step"
        hint="The webhook sent after this one succeeds"
        error={f.errors.next}
      >
        <Input {...p} name="next" />
      </Field>
      <Field name="actionId" label="Action id" error={f.errors.actionId}>
        <Input {...p} name="actionId" />
      </Field>
      <Field
        name="consent"
        label="Consent objectives"
        full
        hint="Comma-separated; a customer who granted none of them is skipped (reason consent), not sent. Empty: no consent needed"
        error={f.errors.consent}
      >
        <Input {...p} name="consent" placeholder="marketing-email, sms" />
      </Field>
    </div>
  );
}

/** Every parameter: its default, the templates that read it, an unused one flagged; then the defaults and sample as JSON. */
export function ParameterFields(props: { f: FormContext; parameters: readonly TemplateParameter[] }) {
  const { f } = props;
  const p = { def: f.def, errors: f.errors, readonly: f.readonly };
  return (
    <>
      {props.parameters.length === 0 ? (
        <p class="muted">No parameter: no template reads it.params, and none is declared.</p>
      ) : (
        <div class="table-wrap">
          <table aria-label="Parameters">
            <thead>
              <tr>
                <th>Parameter</th>
                <th>Default</th>
                <th>Used in</th>
              </tr>
            </thead>
            <tbody>
              {props.parameters.map((t) => (
                <tr data-parameter={t.name}>
                  <td>
                    <code>{t.name}</code>{" "}
                    {t.unused ? (
                      <span class="tag warn" data-unused="true">
                        unused
                      </span>
                    ) : null}
                  </td>
                  <td>
                    {"default" in t ? (
                      <code>{JSON.stringify(t.default)}</code>
                    ) : (
                      <span class="warn">none</span>
                    )}
                  </td>
                  <td>
                    {t.usedIn.length > 0 ? t.usedIn.join(", ") : <span class="muted">no template</span>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div class="fields">
        <Field
          name="params"
          label="Defaults (JSON)"
          full
          hint={'e.g. {"list": "main"}: a trigger or the event may override them'}
          error={f.errors.params}
        >
          <Input {...p} name="params" kind="code" />
        </Field>
        <Field
          name="sample"
          label="Sample data (JSON)"
          full
          hint={'What the test renders with: {"event": {…}, "customer": {…}, "params": {…}}'}
          error={f.errors.sample}
        >
          <Input {...p} name="sample" kind="code" />
        </Field>
      </div>
    </>
  );
}
