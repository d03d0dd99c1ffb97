/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import type { IntegrationKind } from "../admin/managed.ts";
import { fieldsOf } from "./integration-form.ts";
import {
  type BaseValues,
  IntegrationForm,
  type IntegrationRow,
  pageOf,
  ReadOnlyDefinition,
  SOURCE_TEXT,
  State,
  type TestOutcome,
  TestResult,
} from "./integration-pages.tsx";
import { BASE, Notices } from "./layout.tsx";

type Issue = { path: string; message: string };

/** A refused form, to show again: what was typed (never a secret), errors by field, the refusal. */
export interface FormAgain {
  base: BaseValues;
  values: Record<string, unknown>;
  errors: Record<string, string>;
  error: string;
  issues?: Issue[];
}

/** A URL that may break after each "/" on a narrow screen (no style can say so under the CSP). */
export const Breakable = (props: { text: string }) => (
  <code>
    {props.text.split("/").map((part, i) => (
      <>
        {i > 0 ? "/" : ""}
        {i > 0 ? <wbr /> : null}
        {part}
      </>
    ))}
  </code>
);

/** What the viewer's role may do here (the admin API routes' roles). */
export interface Abilities {
  edit: boolean;
  test: boolean;
  authorize: boolean;
  delete: boolean;
  setSecrets: boolean;
}

/**
 * One integration: its summary (kind, prefix, source, state, webhooks using it), the test request and
 * its result, OAuth authorization, and its form (admin-API ones, for roles that may edit) or its
 * read-only definition; "Delete" for those who may.
 */
export function IntegrationPage(props: {
  row: IntegrationRow;
  kind?: IntegrationKind;
  may: Abilities;
  secretKeySet: boolean;
  csrf: Child;
  notice?: string;
  error?: string;
  test?: { outcome?: TestOutcome; error?: string };
  form?: FormAgain;
}) {
  const { row, kind, may } = props;
  const page = pageOf(row.name);
  return (
    <>
      <p>
        <a href={`${BASE}/integrations`}>← Integrations</a>
      </p>
      <h1>
        Integration <code>{row.name}</code>
      </h1>
      <Notices notice={props.notice} error={props.error} />
      <div class="grid">
        <section class="card" aria-labelledby="h-summary">
          <h2 id="h-summary">Summary</h2>
          <dl class="counts">
            <dt>Kind</dt>
            <dd>
              <span class="tag">{row.kind}</span>
            </dd>
            <dt>Endpoint prefix</dt>
            <dd>
              <Breakable text={row.endpointPrefix} />
            </dd>
            <dt>Source</dt>
            <dd data-source={row.source}>{SOURCE_TEXT[row.source]}</dd>
            <dt>State</dt>
            <dd>
              <State row={row} />
            </dd>
            <dt>Used by</dt>
            <dd>{row.usedBy.length === 0 ? <span class="muted">no webhook</span> : row.usedBy.join(", ")}</dd>
          </dl>
        </section>
        <section class="card" aria-labelledby="h-test">
          <h2 id="h-test">Test request</h2>
          {row.test ? (
            <p>
              <code>
                {row.test.method} {row.test.path}
              </code>{" "}
              <span class="muted">with the credentials; success is HTTP 200</span>
            </p>
          ) : (
            <p class="muted">
              None:{" "}
              {row.source === "api"
                ? "set a test path in the form below."
                : "give it test: { method, path } where it is defined."}
            </p>
          )}
          {may.test && row.test ? (
            <form
              method="post"
              action={`${page}/test`}
              hx-post={`${page}/test`}
              hx-target="#test-result"
              hx-swap="outerHTML"
              class="actions"
            >
              {props.csrf}
              <button type="submit">Send test request</button>
            </form>
          ) : null}
          <TestResult outcome={props.test?.outcome} error={props.test?.error} />
        </section>
        {row.oauth ? (
          <section class="card" aria-labelledby="h-authorize">
            <h2 id="h-authorize">Authorization</h2>
            <p>
              <State row={row} />
            </p>
            <p class="muted">
              OAuth 2.0 authorization code: a person signs in at the authorization server once; hookline keeps
              the refresh token sealed and brings you back here.
            </p>
            {may.authorize ? (
              <form
                method="post"
                action={`${page}/authorize`}
                hx-post={`${page}/authorize`}
                hx-target="#authorize-result"
                hx-swap="outerHTML"
                class="actions"
              >
                {props.csrf}
                <button type="submit">{row.oauth.authorizedAt ? "Authorize again" : "Authorize"}</button>
              </form>
            ) : null}
            <div id="authorize-result" />
          </section>
        ) : null}
        {may.edit && kind ? (
          <IntegrationForm
            action={page}
            creating={false}
            kind={kind}
            fields={fieldsOf(kind)}
            base={
              props.form?.base ?? {
                endpointPrefix: row.endpointPrefix,
                testMethod: row.test?.method,
                testPath: row.test?.path,
              }
            }
            state={{
              values: props.form?.values ?? row.options,
              secrets: row.secrets,
              errors: props.form?.errors ?? {},
              canSetSecrets: may.setSecrets,
            }}
            error={props.form?.error}
            issues={props.form?.issues}
            secretKeySet={props.secretKeySet}
            csrf={props.csrf}
          />
        ) : (
          <ReadOnlyDefinition row={row} secretFields={kind?.secretFields ?? []} />
        )}
      </div>
      {may.delete ? (
        <p class="actions">
          <a href={`${page}/delete`}>Delete this integration…</a>
        </p>
      ) : null}
    </>
  );
}

/** The create page: the kind to make (a GET form, so it works without script), then its form. */
export function NewIntegrationPage(props: {
  kinds: readonly IntegrationKind[];
  kind?: IntegrationKind;
  form?: Partial<FormAgain>;
  canSetSecrets: boolean;
  secretKeySet: boolean;
  csrf: Child;
}) {
  const { kind, form } = props;
  return (
    <>
      <p>
        <a href={`${BASE}/integrations`}>← Integrations</a>
      </p>
      <h1>New integration</h1>
      <form method="get" action={`${BASE}/integrations/new`} class="filters" aria-label="Kind">
        <label for="pick-kind">
          Kind
          <select id="pick-kind" name="kind">
            {props.kinds.map((k) => (
              <option value={k.kind} selected={kind?.kind === k.kind}>
                {k.kind}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" class={kind ? "secondary" : undefined}>
          {kind ? "Change kind" : "Continue"}
        </button>
      </form>
      {kind ? (
        <IntegrationForm
          action={`${BASE}/integrations/new`}
          creating
          kind={kind}
          fields={fieldsOf(kind)}
          base={form?.base ?? {}}
          state={{
            values: form?.values ?? {},
            secrets: {},
            errors: form?.errors ?? {},
            canSetSecrets: props.canSetSecrets,
          }}
          error={form?.error}
          issues={form?.issues}
          secretKeySet={props.secretKeySet}
          csrf={props.csrf}
        />
      ) : null}
    </>
  );
}
