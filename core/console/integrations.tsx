/** @jsxImportSource hono/jsx */
import type { Context, Hono } from "hono";
import { setCookie } from "hono/cookie";
import { ManagedError } from "../admin/entries.ts";
import type { IntegrationKind } from "../admin/managed.ts";
import { integrationsOf } from "../config/schema.ts";
import type { ConsoleKit, ConsoleSection } from "../contracts/console.ts";
import { HooklineError, HttpError } from "../errors.ts";
import type { AdminApp } from "../http/admin-app.ts";
import { AUTHORIZE_RETURN_COOKIE, isConsolePath } from "../http/integrations.ts";
import { fieldsOf, readOptions } from "./integration-form.tsx";
import {
  type BaseValues,
  IntegrationForm,
  type IntegrationRow,
  IntegrationsPage,
  pageOf,
  ReadOnlyDefinition,
  SOURCE_TEXT,
  State,
  type TestOutcome,
  TestResult,
} from "./integration-pages.tsx";
import { isHtmx } from "./kit.tsx";
import { BASE } from "./layout.tsx";

/** The name rule of the config file (`integrations:` keys), which the create form holds names to. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** How long the way back from an authorization server is kept (its cookie). */
const AUTHORIZE_RETURN_SECONDS = 600;
// The oauth2 plugin keeps the authorized grant's refresh token under this key of the integration's
// sealed state (plugins/oauth2 STATE_KEYS.refreshToken): the row's presence, not its value, is read.
const AUTHORIZED_KEY = "refresh_token";

interface View {
  source: "config" | "api";
  kind: string;
  endpointPrefix: string;
  test?: { method: string; path: string };
  options?: Record<string, unknown>;
  secrets?: Record<string, string>;
}

/** Whether an integration is authorized by a person (OAuth authorization_code), not by its options. */
const interactive = (instance: object): boolean => {
  const i = instance as { authorizationUrl?: unknown; grantType?: unknown };
  return (
    typeof i.authorizationUrl === "function" && (i.grantType ?? "authorization_code") === "authorization_code"
  );
};

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());

/** The integrations as the console shows them, by name (one of `name` only when given). */
async function rowsOf(app: AdminApp, kit: ConsoleKit, kinds: IntegrationKind[], only?: string) {
  const names = only === undefined ? [...app.integrations.keys()].sort() : [only];
  const authorized = new Map(
    (
      await kit.host.sql.query<{ integration: string; updated_at: unknown }>(
        `SELECT integration, updated_at FROM hookline_integration_state WHERE key = $1${only === undefined ? "" : " AND integration = $2"}`,
        only === undefined ? [AUTHORIZED_KEY] : [AUTHORIZED_KEY, only],
      )
    ).map((r) => [r.integration, iso(r.updated_at)]),
  );
  const usedBy = new Map<string, string[]>();
  for (const w of app.webhooks.values())
    for (const i of integrationsOf(w.config)) usedBy.set(i, [...(usedBy.get(i) ?? []), w.name]);
  const rows: IntegrationRow[] = [];
  for (const name of names) {
    const runtime = app.integrations.get(name);
    if (!runtime) continue;
    const view = app.managed.describeIntegration(name) as View | undefined;
    const kind = view?.kind ?? "";
    const options = view?.options ?? {};
    const secretFields = kinds.find((k) => k.kind === kind)?.secretFields ?? [];
    // A config-file entry shows which secrets it has from its options (whose values it never shows).
    const secrets =
      view?.source === "api"
        ? (view.secrets ?? {})
        : Object.fromEntries(secretFields.filter((f) => options[f] !== undefined).map((f) => [f, "set"]));
    rows.push({
      name,
      kind: kind || "?",
      endpointPrefix: runtime.endpointPrefix,
      source: view?.source ?? "plugin",
      test: view?.test,
      options,
      secrets,
      usedBy: (usedBy.get(name) ?? []).sort(),
      ...(interactive(runtime.instance) ? { oauth: { authorizedAt: authorized.get(name) } } : {}),
    });
  }
  return rows;
}

/** "Deleted x." after a delete, for a name that no integration has now (nothing else is echoed). */
const deletedNotice = (app: AdminApp, name: string | undefined) =>
  name && NAME.test(name) && !app.integrations.has(name) ? `Deleted "${name}".` : undefined;

type Form = Record<string, unknown>;
const str = (form: Form, k: string) => (typeof form[k] === "string" ? (form[k] as string) : "");

/** The body `PUT /v1/integrations/:name` would take, read from the form; and what could not be read. */
function bodyOf(kind: IntegrationKind, form: Form) {
  const read = readOptions(fieldsOf(kind), form);
  const path = str(form, "test.path").trim();
  const body: Record<string, unknown> = {
    kind: kind.kind,
    endpointPrefix: str(form, "endpointPrefix").trim(),
    ...(path ? { test: { method: str(form, "test.method") || "GET", path } } : {}),
    ...read.options,
  };
  const base: BaseValues = {
    name: str(form, "name").trim(),
    endpointPrefix: str(form, "endpointPrefix"),
    testMethod: str(form, "test.method"),
    testPath: str(form, "test.path"),
  };
  return { body, base, options: read.options, issues: read.issues };
}

/** Errors by the form's field: an issue's first path segment (a base field or a kind's option). */
const errorsOf = (issues: Array<{ path: string; message: string }>) => {
  const errors: Record<string, string> = {};
  for (const i of issues) {
    const key = i.path.split(".")[0] || "";
    if (key && !errors[key]) errors[key] = i.message;
  }
  return errors;
};

/**
 * The console's Integrations section: the list (kind, endpoint prefix, source, OAuth state, the
 * webhooks using each), a form per kind made from its schema with write-only secrets, the test
 * request, OAuth "Authorize" and delete — each allowed to the roles its admin API route allows.
 *
 * @example consoleRoutes(app, { sections: [integrationsSection(app)] })
 */
export const integrationsSection = (app: AdminApp): ConsoleSection => ({
  path: "integrations",
  label: "Integrations",
  order: 30,
  mount(r: Hono, kit: ConsoleKit) {
    const kinds = () => app.managed.kinds();
    const kindNamed = (k: string) => kinds().find((x) => x.kind === k);
    const secretKeySet = () => Boolean(kit.host.env.HOOKLINE_SECRET_KEY);
    const csrf = (c: Context) => <kit.Csrf c={c} />;
    const one = async (name: string) => {
      const [row] = await rowsOf(app, kit, kinds(), name);
      if (!row) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no integration "${name}"`);
      return row;
    };
    const params = { name: "the integration's name" };

    r.get("/", kit.page("The console's integrations list"), async (c) =>
      c.html(
        <kit.Layout c={c} title="Integrations" active="integrations">
          <IntegrationsPage
            rows={await rowsOf(app, kit, kinds())}
            canCreate={kit.may(c, "PUT", "/v1/integrations/new-one")}
            notice={deletedNotice(app, c.req.query("deleted"))}
          />
        </kit.Layout>,
      ),
    );

    // The create form: pick a kind, then its form.
    const createPage = (
      c: Context,
      kind: IntegrationKind | undefined,
      more: {
        base?: BaseValues;
        values?: Form;
        errors?: Record<string, string>;
        error?: string;
        issues?: Array<{ path: string; message: string }>;
      } = {},
      status: 200 | 400 | 403 | 409 | 503 = 200,
    ) =>
      c.html(
        <kit.Layout c={c} title="New integration" active="integrations">
          <p>
            <a href={`${BASE}/integrations`}>← Integrations</a>
          </p>
          <h1>New integration</h1>
          <form method="get" action={`${BASE}/integrations/new`} class="filters" aria-label="Kind">
            <label for="pick-kind">
              Kind
              <select id="pick-kind" name="kind">
                {kinds().map((k) => (
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
              base={more.base ?? {}}
              state={{
                values: more.values ?? {},
                secrets: {},
                errors: more.errors ?? {},
                canSetSecrets: kit.viewer(c).role === "admin",
              }}
              error={more.error}
              issues={more.issues}
              secretKeySet={secretKeySet()}
              csrf={csrf(c)}
            />
          ) : null}
        </kit.Layout>,
        status,
      );

    r.get("/new", kit.page("The form that creates an integration"), (c) => {
      kit.allow(c, "PUT", "/v1/integrations/new-one");
      const k = c.req.query("kind");
      const kind = k ? kindNamed(k) : undefined;
      if (k && !kind) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no authentication kind "${k}"`);
      return createPage(c, kind);
    });

    /** Saves a form (create or edit) as `PUT /v1/integrations/:name` would; the form again on a refusal. */
    const save = async (
      c: Context,
      name: string,
      kind: IntegrationKind,
      form: Form,
      again: (
        more: {
          base: BaseValues;
          values: Form;
          errors: Record<string, string>;
          error: string;
          issues?: Array<{ path: string; message: string }>;
        },
        status: 400 | 403 | 409 | 503,
      ) => Response | Promise<Response>,
    ) => {
      const { body, base, options, issues } = bodyOf(kind, form);
      const refuse = (error: string, status: 400 | 403 | 409 | 503, list = issues) =>
        again({ base, values: options, errors: errorsOf(list), error, issues: list }, status);
      if (issues.length > 0) return refuse("Some fields could not be read.", 400);
      const secrets = app.managed.secretsGiven(body);
      if (kit.viewer(c).role !== "admin" && secrets.length > 0)
        return refuse(
          `an ${kit.viewer(c).role} may not set an integration's secrets (${secrets.join(", ")}): sign in with an admin token`,
          403,
          [],
        );
      try {
        await app.managed.putIntegration(name, body);
      } catch (e) {
        if (e instanceof ManagedError)
          return refuse(e.message, (e.status as 400 | 409 | 503) ?? 400, e.issues ?? []);
        throw e;
      }
      return c.redirect(`${pageOf(name)}?saved=1`, 303);
    };

    r.post(
      "/new",
      kit.page("Creates an integration (editors; secrets: admins)", {
        answers: {
          303: { description: "to the new integration" },
          400: { description: "the form again, with the errors" },
        },
      }),
      async (c) => {
        const form = (await c.req.parseBody()) as Form;
        const name = str(form, "name").trim();
        kit.allow(c, "PUT", `/v1/integrations/${name || "new-one"}`);
        const kind = kindNamed(str(form, "kind"));
        if (!kind)
          throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no authentication kind "${str(form, "kind")}"`);
        const again = (more: Parameters<Parameters<typeof save>[4]>[0], status: 400 | 403 | 409 | 503) =>
          createPage(c, kind, more, status);
        const nameProblem = !NAME.test(name)
          ? "a name of letters, digits, '.', '_' and '-' (at most 100), starting with a letter or digit"
          : name === "new"
            ? '"new" is the path of this form: choose another name'
            : app.integrations.has(name)
              ? `an integration "${name}" exists already: edit it from its page`
              : undefined;
        if (nameProblem) {
          const { base, options } = bodyOf(kind, form);
          return again(
            { base, values: options, errors: { name: nameProblem }, error: `Name: ${nameProblem}` },
            nameProblem.startsWith("an integration") ? 409 : 400,
          );
        }
        return save(c, name, kind, form, again);
      },
    );

    /** One integration's page: what it is, its test request, authorization, and its form or definition. */
    const detail = async (
      c: Context,
      name: string,
      more: {
        test?: { outcome?: TestOutcome; error?: string };
        notice?: string;
        error?: string;
        form?: {
          base: BaseValues;
          values: Form;
          errors: Record<string, string>;
          error: string;
          issues?: Array<{ path: string; message: string }>;
        };
      } = {},
      status: 200 | 400 | 403 | 409 | 503 = 200,
    ) => {
      const row = await one(name);
      const kind = kindNamed(row.kind);
      const canEdit = row.source === "api" && !!kind && kit.may(c, "PUT", `/v1/integrations/${name}`);
      const canTest = !!row.test && kit.may(c, "POST", `/v1/integrations/${name}/test`);
      const canAuthorize = !!row.oauth && kit.may(c, "POST", `/v1/integrations/${name}/authorize`);
      const canDelete = row.source === "api" && kit.may(c, "DELETE", `/v1/integrations/${name}`);
      const notice = more.notice ?? (c.req.query("saved") ? "Saved." : undefined);
      return c.html(
        <kit.Layout c={c} title={`Integration ${name}`} active="integrations">
          <p>
            <a href={`${BASE}/integrations`}>← Integrations</a>
          </p>
          <h1>
            Integration <code>{name}</code>
          </h1>
          {notice ? (
            <p class="notice" role="status">
              {notice}
            </p>
          ) : null}
          {more.error ? (
            <p class="notice error" role="alert">
              {more.error}
            </p>
          ) : null}
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
                  <code>{row.endpointPrefix}</code>
                </dd>
                <dt>Source</dt>
                <dd data-source={row.source}>{SOURCE_TEXT[row.source]}</dd>
                <dt>State</dt>
                <dd>
                  <State row={row} />
                </dd>
                <dt>Used by</dt>
                <dd>
                  {row.usedBy.length === 0 ? <span class="muted">no webhook</span> : row.usedBy.join(", ")}
                </dd>
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
                <p class="muted">None: set a test path in the definition.</p>
              )}
              {canTest ? (
                <form
                  method="post"
                  action={`${pageOf(name)}/test`}
                  hx-post={`${pageOf(name)}/test`}
                  hx-target="#test-result"
                  hx-swap="outerHTML"
                  class="actions"
                >
                  {csrf(c)}
                  <button type="submit">Send test request</button>
                </form>
              ) : null}
              <TestResult outcome={more.test?.outcome} error={more.test?.error} />
            </section>
            {row.oauth ? (
              <section class="card" aria-labelledby="h-authorize">
                <h2 id="h-authorize">Authorization</h2>
                <p>
                  <State row={row} />
                </p>
                <p class="muted">
                  OAuth 2.0 authorization code: a person signs in at the authorization server once; hookline
                  keeps the refresh token sealed and returns you here.
                </p>
                {canAuthorize ? (
                  <form
                    method="post"
                    action={`${pageOf(name)}/authorize`}
                    hx-post={`${pageOf(name)}/authorize`}
                    hx-target="#authorize-result"
                    hx-swap="outerHTML"
                    class="actions"
                  >
                    {csrf(c)}
                    <button type="submit">{row.oauth.authorizedAt ? "Authorize again" : "Authorize"}</button>
                  </form>
                ) : null}
                <div id="authorize-result" />
              </section>
            ) : null}
          </div>
          {canEdit && kind ? (
            <IntegrationForm
              action={pageOf(name)}
              creating={false}
              kind={kind}
              fields={fieldsOf(kind)}
              base={
                more.form?.base ?? {
                  endpointPrefix: row.endpointPrefix,
                  testMethod: row.test?.method,
                  testPath: row.test?.path,
                }
              }
              state={{
                values: more.form?.values ?? row.options,
                secrets: row.secrets,
                errors: more.form?.errors ?? {},
                canSetSecrets: kit.viewer(c).role === "admin",
              }}
              error={more.form?.error}
              issues={more.form?.issues}
              secretKeySet={secretKeySet()}
              csrf={csrf(c)}
            />
          ) : (
            <ReadOnlyDefinition row={row} secretFields={kind?.secretFields ?? []} />
          )}
          {canDelete ? (
            <p class="actions">
              <a href={`${pageOf(name)}/delete`}>Delete this integration…</a>
            </p>
          ) : null}
        </kit.Layout>,
        status,
      );
    };

    r.get("/:name", kit.page("One integration: summary, test, authorization, form", { params }), (c) =>
      detail(c, c.req.param("name")),
    );

    r.post(
      "/:name",
      kit.page("Saves an integration of the admin API (editors; secrets: admins)", {
        params,
        answers: {
          303: { description: "back to the integration" },
          400: { description: "the form again, with the errors" },
        },
      }),
      async (c) => {
        const name = c.req.param("name");
        kit.allow(c, "PUT", `/v1/integrations/${name}`);
        const row = await one(name);
        const kind = kindNamed(row.kind);
        if (row.source !== "api" || !kind)
          return detail(
            c,
            name,
            { error: `integration "${name}" is defined in the ${SOURCE_TEXT[row.source]}; change it there` },
            409,
          );
        return save(c, name, kind, (await c.req.parseBody()) as Form, (form, status) =>
          detail(c, name, { form }, status),
        );
      },
    );

    r.post(
      "/:name/test",
      kit.page("Sends the integration's test request (editors); its result as a fragment with htmx", {
        params,
      }),
      async (c) => {
        const name = c.req.param("name");
        kit.allow(c, "POST", `/v1/integrations/${name}/test`);
        const row = await one(name);
        let outcome: TestOutcome | undefined;
        let error: string | undefined;
        if (!row.test) error = `integration "${name}" has no test request: set a test path`;
        else {
          const started = performance.now();
          const result = await app.deliverer.testIntegration(
            name,
            row.test as { method: "GET"; path: string },
          );
          outcome = { ...result, durationMs: Math.round(performance.now() - started) };
        }
        if (isHtmx(c)) return c.html(<TestResult outcome={outcome} error={error} />);
        return detail(c, name, { test: { outcome, error } }, error ? 400 : 200);
      },
    );

    r.post(
      "/:name/authorize",
      kit.page("Starts an OAuth authorization (admins): with htmx, to the authorization server", {
        params,
        answers: { 200: { description: "HX-Redirect to the authorization URL, or a page linking to it" } },
      }),
      async (c) => {
        const name = c.req.param("name");
        kit.allow(c, "POST", `/v1/integrations/${name}/authorize`);
        const runtime = app.integrations.get(name);
        if (!runtime) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no integration "${name}"`);
        if (!interactive(runtime.instance) || !runtime.instance.authorizationUrl)
          throw new HttpError(
            "HOOKLINE_HTTP_NOT_APPLICABLE",
            `integration "${name}" has no interactive authorization`,
          );
        let url: string;
        try {
          url = await runtime.instance.authorizationUrl();
        } catch (e) {
          if (!(e instanceof HooklineError)) throw e;
          const message = `Could not start the authorization: ${app.redactor.redact(e.message)}`;
          if (isHtmx(c))
            return c.html(
              <p id="authorize-result" class="error" role="alert">
                {message}
              </p>,
            );
          return detail(c, name, { error: message }, 503);
        }
        // The callback sends the person back here (a console path only: see isConsolePath).
        const back = pageOf(name);
        if (isConsolePath(back))
          setCookie(c, AUTHORIZE_RETURN_COOKIE, back, {
            path: `/oauth/callback/${encodeURIComponent(name)}`,
            httpOnly: true,
            // Lax: the person comes back from the authorization server's site, a top-level GET.
            sameSite: "Lax",
            secure: new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https",
            maxAge: AUTHORIZE_RETURN_SECONDS,
          });
        // form-action 'self' stops a form's redirect to another site: htmx navigates instead.
        if (isHtmx(c)) return c.body(null, 200, { "hx-redirect": url });
        return c.html(
          <kit.Layout c={c} title={`Authorize ${name}`} active="integrations">
            <section class="card">
              <h1>Authorize {name}</h1>
              <p>Sign in at the authorization server and allow hookline; you come back here afterwards.</p>
              <p class="actions">
                <a href={url} rel="noreferrer">
                  Open the authorization page
                </a>
              </p>
            </section>
          </kit.Layout>,
        );
      },
    );

    r.get("/:name/delete", kit.page("Asks to confirm deleting an integration", { params }), async (c) => {
      const name = c.req.param("name");
      kit.allow(c, "DELETE", `/v1/integrations/${name}`);
      const row = await one(name);
      return c.html(
        <kit.Layout c={c} title={`Delete ${name}`} active="integrations">
          <p>
            <a href={pageOf(name)}>← {name}</a>
          </p>
          <section class="card" aria-labelledby="h-delete">
            <h1 id="h-delete">Delete integration {name}?</h1>
            {row.usedBy.length > 0 ? (
              <p class="warn">
                Webhooks use it ({row.usedBy.join(", ")}): it cannot be deleted while they do.
              </p>
            ) : (
              <p>Its stored secrets and authorization are deleted with it.</p>
            )}
            <form method="post" action={`${pageOf(name)}/delete`} class="actions">
              {csrf(c)}
              <button type="submit" class="danger">
                Delete
              </button>
              <a href={pageOf(name)}>Cancel</a>
            </form>
          </section>
        </kit.Layout>,
      );
    });

    r.post(
      "/:name/delete",
      kit.page("Deletes an integration of the admin API (admins)", {
        params,
        answers: {
          303: { description: "to the list" },
          409: { description: "the refusal (webhooks use it)" },
        },
      }),
      async (c) => {
        const name = c.req.param("name");
        kit.allow(c, "DELETE", `/v1/integrations/${name}`);
        try {
          await app.managed.deleteIntegration(name);
        } catch (e) {
          if (!(e instanceof ManagedError)) throw e;
          if (e.status === 404) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", e.message);
          return detail(c, name, { error: `Not deleted: ${e.message}` }, 409);
        }
        return c.redirect(`${BASE}/integrations?deleted=${encodeURIComponent(name)}`, 303);
      },
    );
  },
});
