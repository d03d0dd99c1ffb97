/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import type { IntegrationKind } from "../admin/managed.ts";
import { Fields, type FieldsState } from "./integration-fields.tsx";
import type { Field } from "./integration-form.ts";
import { ago, BASE } from "./layout.tsx";

/** An integration as the console lists it. */
export interface IntegrationRow {
  name: string;
  kind: string;
  endpointPrefix: string;
  /** config: the config file; api: the admin API (and this console); plugin: a plugin's own. */
  source: "config" | "api" | "plugin";
  test?: { method: string; path: string };
  /** Options as the admin API shows them (secret values never: only whether they are set). */
  options: Record<string, unknown>;
  /** Secret fields and whether a value is stored ("set", "missing"); absent: not set. */
  secrets: Record<string, string>;
  usedBy: string[];
  /** Present for an interactive (OAuth authorization_code) integration. */
  oauth?: { authorizedAt?: string };
}

export const SOURCE_TEXT = { config: "config file", api: "admin API", plugin: "a plugin" } as const;
export const TEST_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"] as const;

export const pageOf = (name: string) => `${BASE}/integrations/${encodeURIComponent(name)}`;

/** The state a glance needs: OAuth authorized or not, secrets missing, or nothing to say. */
export function State(props: { row: IntegrationRow; now?: number }) {
  const { row } = props;
  const missing = Object.entries(row.secrets)
    .filter(([, v]) => v === "missing")
    .map(([k]) => k);
  if (missing.length > 0)
    return (
      <span class="bad" data-state="incomplete">
        secrets missing: {missing.join(", ")}
      </span>
    );
  if (row.oauth)
    return row.oauth.authorizedAt ? (
      <span class="ok" data-state="authorized" title={row.oauth.authorizedAt}>
        authorized <span class="muted">({ago(row.oauth.authorizedAt, props.now)})</span>
      </span>
    ) : (
      <span class="warn" data-state="unauthorized">
        not authorized
      </span>
    );
  return (
    <span class="muted" data-state="ready">
      ready
    </span>
  );
}

/** The list: name, kind, endpoint prefix, source, state, the webhooks that use each. */
export function IntegrationsPage(props: { rows: IntegrationRow[]; canCreate: boolean; notice?: string }) {
  return (
    <>
      <h1>Integrations</h1>
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}
      {props.canCreate ? (
        <p class="actions">
          <a href={`${BASE}/integrations/new`}>New integration</a>
        </p>
      ) : null}
      {props.rows.length === 0 ? (
        <p class="muted">No integrations yet.</p>
      ) : (
        <div class="table-wrap">
          <table class="card">
            <thead>
              <tr>
                <th>Name</th>
                <th>Kind</th>
                <th class="hide-narrow">Endpoint prefix</th>
                <th>Source</th>
                <th>State</th>
                <th class="hide-narrow">Used by</th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((r) => (
                <tr data-integration={r.name}>
                  <td>
                    <a href={pageOf(r.name)}>{r.name}</a>
                  </td>
                  <td>
                    <span class="tag">{r.kind}</span>
                  </td>
                  <td class="hide-narrow">
                    <code>{r.endpointPrefix}</code>
                  </td>
                  <td>{SOURCE_TEXT[r.source]}</td>
                  <td>
                    <State row={r} />
                  </td>
                  <td class="hide-narrow">
                    {r.usedBy.length === 0 ? <span class="muted">none</span> : r.usedBy.join(", ")}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** What a test request came to, with how long it took: the text is the server's, escaped here. */
export interface TestOutcome {
  ok: boolean;
  status?: number;
  durationMs: number;
  request?: { method: string; url: string };
  reason?: string;
}

/** The test panel's result (an htmx fragment, or part of the page without htmx). */
export function TestResult(props: { outcome?: TestOutcome; error?: string }) {
  const o = props.outcome;
  return (
    <div id="test-result" role="status" aria-live="polite">
      {props.error ? <p class="error">{props.error}</p> : null}
      {o ? (
        <>
          <p>
            <strong class={o.ok ? "ok" : "bad"} data-outcome={o.ok ? "ok" : "failed"}>
              {o.ok ? "Succeeded" : "Failed"}
            </strong>
            {o.status !== undefined ? ` · HTTP ${o.status}` : ""} · {o.durationMs} ms
          </p>
          {o.request ? (
            <p>
              <code>
                {o.request.method} {o.request.url}
              </code>
            </p>
          ) : null}
          {o.reason ? <pre data-part="response">{o.reason}</pre> : null}
        </>
      ) : null}
    </div>
  );
}

/** Values of the base fields (name, endpoint prefix, test request) a form shows again. */
export interface BaseValues {
  name?: string;
  endpointPrefix?: string;
  testMethod?: string;
  testPath?: string;
}

/**
 * The create or edit form of one kind: the base fields (name when creating, endpoint prefix, test
 * request), then the kind's own (from its schema), then Save. Errors beside their fields and on top.
 */
export function IntegrationForm(props: {
  action: string;
  creating: boolean;
  kind: IntegrationKind;
  fields: readonly Field[];
  base: BaseValues;
  state: FieldsState;
  /** The refusal as a whole (the managed layer's message and issues). */
  error?: string;
  issues?: Array<{ path: string; message: string }>;
  secretKeySet: boolean;
  csrf: Child;
}) {
  const { base, state } = props;
  const err = (k: string) =>
    state.errors[k] ? (
      <span class="error" role="alert">
        {state.errors[k]}
      </span>
    ) : null;
  return (
    <form method="post" action={props.action} class="stack card wide" aria-labelledby="h-form">
      {props.csrf}
      <input type="hidden" name="kind" value={props.kind.kind} />
      <h2 id="h-form">
        {props.creating ? "New " : "Edit "}
        <span class="tag">{props.kind.kind}</span> integration
      </h2>
      {props.error ? (
        <div class="notice error" role="alert" data-part="form-error">
          <p>{props.error}</p>
          {props.issues && props.issues.length > 0 ? (
            <ul>
              {props.issues.map((i) => (
                <li>{i.path ? `${i.path}: ${i.message}` : i.message}</li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : null}
      {!props.secretKeySet && props.kind.secretFields.length > 0 ? (
        <p class="notice warn">
          HOOKLINE_SECRET_KEY is not set on this server, so secrets cannot be saved: set it (openssl rand
          -base64 32) and restart.
        </p>
      ) : null}
      <div class="fields">
        {props.creating ? (
          <label for="field-name">
            Name *
            <input
              id="field-name"
              name="name"
              required
              pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,99}"
              value={base.name ?? ""}
              aria-describedby="hint-name"
            />
            <span class="hint" id="hint-name">
              letters, digits, '.', '_' and '-'; webhooks name it in integration:
            </span>
            {err("name")}
          </label>
        ) : null}
        <label class="full" for="field-endpointPrefix">
          Endpoint prefix *
          <input
            id="field-endpointPrefix"
            type="url"
            name="endpointPrefix"
            required
            value={base.endpointPrefix ?? ""}
            aria-describedby="hint-endpointPrefix"
          />
          <span class="hint" id="hint-endpointPrefix">
            credentials are sent only to URLs under it; changing it asks for the secrets again
          </span>
          {err("endpointPrefix")}
        </label>
        <label for="field-testMethod">
          Test method
          <select id="field-testMethod" name="test.method">
            {TEST_METHODS.map((m) => (
              <option value={m} selected={(base.testMethod ?? "GET") === m}>
                {m}
              </option>
            ))}
          </select>
        </label>
        <label for="field-testPath">
          Test path
          <input
            id="field-testPath"
            name="test.path"
            value={base.testPath ?? ""}
            placeholder="/ping"
            aria-describedby="hint-testPath"
          />
          <span class="hint" id="hint-testPath">
            a request (empty body) that checks the credentials; success is HTTP 200. Blank: no test
          </span>
          {err("test")}
        </label>
        <Fields fields={props.fields} state={state} />
      </div>
      <div class="actions">
        <button type="submit">{props.creating ? "Create" : "Save"}</button>
        <a href={props.creating ? `${BASE}/integrations` : props.action}>Cancel</a>
      </div>
    </form>
  );
}

/** A config-file integration's definition, read-only (secret fields only as "set" / "not set"). */
export function ReadOnlyDefinition(props: { row: IntegrationRow; secretFields: readonly string[] }) {
  const { row } = props;
  const options = Object.entries(row.options).filter(([k]) => !props.secretFields.includes(k));
  return (
    <section class="card wide" aria-labelledby="h-definition">
      <h2 id="h-definition">Definition</h2>
      <p class="muted" data-part="read-only">
        {row.source === "config"
          ? "Defined in the config file: change it there (read-only here)."
          : row.source === "plugin"
            ? "Defined by a plugin (read-only here)."
            : "Read-only for your role."}
      </p>
      <dl class="counts">
        {options.map(([k, v]) => (
          <>
            <dt>{k}</dt>
            <dd>
              <code>{typeof v === "string" ? v : JSON.stringify(v)}</code>
            </dd>
          </>
        ))}
        {props.secretFields.map((k) => (
          <>
            <dt>{k}</dt>
            <dd>
              <span class="tag" data-secret={k}>
                {row.secrets[k] ?? "not set"}
              </span>
            </dd>
          </>
        ))}
      </dl>
    </section>
  );
}
