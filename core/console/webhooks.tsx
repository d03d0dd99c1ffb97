/** @jsxImportSource hono/jsx */
import type { Context } from "hono";
import { ManagedError } from "../admin/entries.ts";
import type { ConsoleKit, ConsoleSection } from "../contracts/console.ts";
import { webhookParameters } from "../engine/parameters.ts";
import type { PreviewStep } from "../engine/preview.ts";
import { HttpError } from "../errors.ts";
import type { AdminApp } from "../http/admin-app.ts";
import {
  copyWebhook,
  definitionOf,
  disableWebhook,
  enableWebhook,
  fireWebhook,
  knownWebhook,
  resumeWebhook,
  type WebhookState,
  webhookStates,
} from "../http/webhook-lifecycle.ts";
import { testWebhook } from "../http/webhook-test.ts";
import { REDIRECT } from "./kit.tsx";
import {
  applyForm,
  type Definition,
  DefinitionFields,
  type FieldErrors,
  type FormContext,
  fieldOf,
  ParameterFields,
  SettingsFields,
  TAB_FIELDS,
  TABS,
  type Tab,
} from "./webhook-form.tsx";
import { type TestChoice, TestPanel, testInput } from "./webhook-test.tsx";

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
const api = (name: string, action = "") => `/v1/webhooks/${name}${action}`;
const TAB_LABELS: Record<Tab, string> = {
  definition: "Definition",
  parameters: "Parameters",
  settings: "Settings",
  test: "Test",
};

/** Where a webhook is defined, in words (a config file's with its line). */
function SourceText(props: { s: WebhookState }) {
  const { s } = props;
  if (s.source === "config")
    return <span data-source="config">{`${s.file ?? "config file"}${s.line ? `:${s.line}` : ""}`}</span>;
  if (s.source === "api") return <span data-source="api">admin API</span>;
  return <span data-source="plugin">{s.source}</span>;
}

/** Its state: active, paused (after failing continuously) or disabled (by an operator). */
function StateTag(props: { s: WebhookState }) {
  const { s } = props;
  if (s.disabled)
    return (
      <span class="tag bad" data-state="disabled" title={s.disabled.reason}>
        disabled
      </span>
    );
  if (s.paused)
    return (
      <span class="tag warn" data-state="paused" title={s.paused.reason}>
        paused
      </span>
    );
  return (
    <span class="tag ok" data-state="active">
      active
    </span>
  );
}

/** A one-button form posting to the section (the CSRF field included). */
function Action(props: {
  kit: ConsoleKit;
  c: Context;
  to: string;
  label: string;
  kind?: "secondary" | "danger";
  fields?: Record<string, string>;
}) {
  return (
    <form method="post" action={props.to}>
      <props.kit.Csrf c={props.c} />
      {Object.entries(props.fields ?? {}).map(([k, v]) => (
        <input type="hidden" name={k} value={v} />
      ))}
      <button type="submit" class={props.kind}>
        {props.label}
      </button>
    </form>
  );
}

/**
 * The console's Webhooks section: the list with each webhook's state and source; one webhook's
 * definition, parameters and settings as forms (admin-API webhooks are editable, the others read-only
 * with where they are defined); the test panel; create, copy, disable, enable, resume and delete.
 * Each action checks the role of the admin API route it stands for.
 *
 * @example consoleRoutes(app, { sections: [webhooksSection(app)] })
 */
export const webhooksSection = (app: AdminApp): ConsoleSection => ({
  path: "webhooks",
  label: "Webhooks",
  order: 20,
  mount(r, kit) {
    const base = `${kit.base}/webhooks`;
    const at = (name: string, rest = "") => `${base}/${encodeURIComponent(name)}${rest}`;
    const nameParam = { name: "the webhook's name" };

    r.get("/", kit.page("The console's webhooks list"), async (c) => {
      const states = await webhookStates(app);
      const notice = c.req.query("notice");
      return c.html(
        <kit.Layout c={c} title="Webhooks" active="webhooks">
          <h1>Webhooks</h1>
          {notice ? (
            <p class="notice" role="status">
              {notice}
            </p>
          ) : null}
          {kit.may(c, "PUT", api("new")) ? (
            <p class="actions">
              <a href={`${base}/new`}>New webhook</a>
            </p>
          ) : null}
          <div class="table-wrap card">
            <table aria-label="Webhooks">
              <thead>
                <tr>
                  <th>Webhook</th>
                  <th>State</th>
                  <th>Source</th>
                  <th class="hide-narrow">Method</th>
                  <th class="hide-narrow">URL</th>
                  <th class="hide-narrow">Integration</th>
                </tr>
              </thead>
              <tbody>
                {[...states.values()].map((s) => {
                  const hook = app.webhooks.get(s.name)!;
                  return (
                    <tr data-webhook={s.name}>
                      <td>
                        <a href={at(s.name)}>{s.name}</a>
                      </td>
                      <td>
                        <span class="actions">
                          <StateTag s={s} />
                          {s.disabled && kit.may(c, "POST", api(s.name, "/enable")) ? (
                            <Action
                              kit={kit}
                              c={c}
                              to={at(s.name, "/enable")}
                              label="Enable"
                              kind="secondary"
                            />
                          ) : null}
                          {s.paused && !s.disabled && kit.may(c, "POST", api(s.name, "/resume")) ? (
                            <Action
                              kit={kit}
                              c={c}
                              to={at(s.name, "/resume")}
                              label="Resume"
                              kind="secondary"
                            />
                          ) : null}
                        </span>
                      </td>
                      <td>
                        <SourceText s={s} />
                      </td>
                      <td class="hide-narrow">{hook.config.method}</td>
                      <td class="hide-narrow">
                        <code>{hook.config.url}</code>
                      </td>
                      <td class="hide-narrow">{[hook.config.integration ?? []].flat().join(", ")}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          {states.size === 0 ? <p class="muted">No webhook yet.</p> : null}
        </kit.Layout>,
      );
    });

    const formContext = (
      def: Definition,
      errors: FieldErrors,
      readonly: boolean,
      events: boolean,
    ): FormContext => ({
      def,
      errors,
      readonly,
      events,
      engines: [...new Set(app.catalogue.renderers.map((x) => x.name))],
      integrations: [...app.integrations.keys()].sort(),
      retries: ["bloomreach", "exponential", ...Object.keys(app.managed.d.config.retryPolicies)],
      policies: Object.keys(app.managed.d.config.policies),
    });

    /** The stored definition of an admin-API webhook (with its `events`), else its loaded config. */
    const definition = async (name: string, source: string): Promise<Definition> => {
      if (source === "api") {
        const row = await app.managed.d.entries.get("webhook", name);
        if (row) return row.spec as Definition;
      }
      return definitionOf(knownWebhook(app, name));
    };

    /** Turns a refusal of the managed layer into field errors (or one message for the form's top). */
    const refusal = (e: unknown, fields: readonly string[]): { errors: FieldErrors; message?: string } => {
      if (!(e instanceof ManagedError)) throw e;
      const errors: FieldErrors = {};
      const loose: string[] = [];
      for (const i of e.issues ?? []) {
        const f = fieldOf(i.path, fields);
        if (f && !errors[f]) errors[f] = i.message;
        else loose.push(`${i.path}: ${i.message}`);
      }
      const message = e.issues?.length && loose.length === 0 ? undefined : [e.message, ...loose].join("; ");
      return { errors, message };
    };

    /** One webhook's page, on one tab. */
    const show = async (
      c: Context,
      name: string,
      tab: Tab,
      more: {
        def?: Definition;
        errors?: FieldErrors;
        error?: string;
        notice?: string;
        choice?: TestChoice;
        result?: { steps: PreviewStep[]; stopped?: string; sent: boolean };
        status?: 200 | 400 | 404 | 409 | 422;
      } = {},
    ) => {
      const hook = knownWebhook(app, name);
      const s = (await webhookStates(app)).get(name)!;
      const editable = s.source === "api" && kit.may(c, "PUT", api(name));
      const def = more.def ?? (await definition(name, s.source));
      const f = formContext(def, more.errors ?? {}, !editable, s.source === "api");
      const parameters = webhookParameters(
        tab === "parameters" && more.def ? (def as Parameters<typeof webhookParameters>[0]) : hook.config,
        app.catalogue.renderers,
      );
      const recent = tab === "test" ? await app.store.listDeliveries({ webhook: name, limit: 10 }) : [];
      const save = at(name, "/save");
      return c.html(
        <kit.Layout c={c} title={`Webhook ${name}`} active="webhooks">
          <p>
            <a href={base}>← Webhooks</a>
          </p>
          <h1>
            {name} <StateTag s={s} />
          </h1>
          <p class="muted" data-part="source">
            {s.source === "api" ? (
              "Made in the admin API: editable here."
            ) : s.source === "config" ? (
              <>
                Defined in the config file, at <SourceText s={s} />: read-only here; change it there.
              </>
            ) : (
              <>
                Made by <SourceText s={s} />: read-only.
              </>
            )}
            {s.disabled ? ` Disabled: ${s.disabled.reason}.` : ""}
            {s.paused ? ` Paused: ${s.paused.reason}.` : ""}
          </p>
          {more.notice ? (
            <p class="notice" role="status">
              {more.notice}
            </p>
          ) : null}
          <div class="actions">
            {kit.may(c, "POST", api(name, "/copy")) ? (
              <form method="post" action={at(name, "/copy")} class="actions">
                <kit.Csrf c={c} />
                <label>
                  Copy as
                  <input name="copy" value={`${name}-copy`} required pattern={NAME.source} />
                </label>
                <button type="submit" class="secondary">
                  Copy
                </button>
              </form>
            ) : null}
            {s.disabled
              ? kit.may(c, "POST", api(name, "/enable")) && (
                  <Action kit={kit} c={c} to={at(name, "/enable")} label="Enable" kind="secondary" />
                )
              : kit.may(c, "POST", api(name, "/disable")) && (
                  <form method="post" action={at(name, "/disable")} class="actions">
                    <kit.Csrf c={c} />
                    <label>
                      Queued deliveries
                      <select name="queued">
                        <option value="wait">wait until enabled</option>
                        <option value="cancel">cancel them</option>
                      </select>
                    </label>
                    <button type="submit" class="secondary">
                      Disable
                    </button>
                  </form>
                )}
            {s.paused && !s.disabled && kit.may(c, "POST", api(name, "/resume")) ? (
              <Action kit={kit} c={c} to={at(name, "/resume")} label="Resume" kind="secondary" />
            ) : null}
            {!s.disabled && kit.may(c, "POST", api(name, "/fire")) ? (
              <form method="post" action={at(name, "/fire")} class="actions">
                <kit.Csrf c={c} />
                <label>
                  Fire for a customer
                  <input name="customer" required placeholder="customer id, or email=… of a profile" />
                </label>
                <button type="submit" class="secondary">
                  Fire
                </button>
              </form>
            ) : null}
            {s.source === "api" && kit.may(c, "DELETE", api(name)) ? (
              <a href={at(name, "/delete")}>Delete…</a>
            ) : null}
          </div>
          <nav class="tabs" aria-label="Webhook">
            {TABS.map((t) => (
              <a href={at(name, `?tab=${t}`)} aria-current={t === tab ? "page" : undefined}>
                {TAB_LABELS[t]}
              </a>
            ))}
          </nav>
          {more.error ? (
            <p class="notice error" role="alert">
              {more.error}
            </p>
          ) : null}
          {tab === "test" ? (
            <TestPanel
              action={at(name, "/test")}
              csrf={<kit.Csrf c={c} />}
              choice={more.choice ?? { source: "sample" }}
              profiles={app.profiles !== undefined}
              recent={recent}
              canTest={kit.may(c, "POST", api(name, "/test"))}
              result={more.result}
            />
          ) : (
            <form method="post" action={save} class="stack card" aria-label={TAB_LABELS[tab]}>
              <kit.Csrf c={c} />
              <input type="hidden" name="_tab" value={tab} />
              {tab === "definition" ? <DefinitionFields f={f} /> : null}
              {tab === "settings" ? <SettingsFields f={f} /> : null}
              {tab === "parameters" ? <ParameterFields f={f} parameters={parameters} /> : null}
              {editable ? (
                <div class="actions">
                  <button type="submit">Save</button>
                </div>
              ) : null}
            </form>
          )}
        </kit.Layout>,
        more.status ?? 200,
      );
    };

    const tabOf = (v: string | undefined): Tab =>
      (TABS as readonly string[]).includes(v ?? "") ? (v as Tab) : "definition";

    // A blank form: the name and the definition tab's fields.
    const blank: Definition = { method: "POST", url: "", engine: "mustache", format: "json" };
    const newPage = (
      c: Context,
      def: Definition,
      name: string,
      errors: FieldErrors = {},
      error?: string,
      status: 200 | 400 = 200,
    ) => {
      const f = formContext(def, errors, false, true);
      if (!f.engines.includes(String(def.engine)))
        def.engine = f.engines.find((e) => e !== "eta") ?? f.engines[0];
      return c.html(
        <kit.Layout c={c} title="New webhook" active="webhooks">
          <p>
            <a href={base}>← Webhooks</a>
          </p>
          <h1>New webhook</h1>
          {error ? (
            <p class="notice error" role="alert">
              {error}
            </p>
          ) : null}
          <form method="post" action={`${base}/new`} class="stack card" aria-label="New webhook">
            <kit.Csrf c={c} />
            <div class="fields">
              <div>
                <label for="f-name">Name</label>
                <input id="f-name" name="name" value={name} required pattern={NAME.source} />
                {errors.name ? (
                  <p class="error" role="alert" data-field-error="name">
                    {errors.name}
                  </p>
                ) : null}
              </div>
            </div>
            <DefinitionFields f={f} />
            <div class="actions">
              <button type="submit">Create</button>
            </div>
          </form>
        </kit.Layout>,
        status,
      );
    };

    r.get("/new", kit.page("A blank form for a new webhook"), (c) => {
      kit.allow(c, "PUT", api("new"));
      return newPage(c, { ...blank }, "");
    });
    r.post(
      "/new",
      kit.page("Creates a webhook (as PUT /v1/webhooks/:name)", { answers: REDIRECT }),
      async (c) => {
        const form = await c.req.parseBody();
        const name = String(form.name ?? "").trim();
        kit.allow(c, "PUT", api(name || "new"));
        const { definition: def, errors } = applyForm({}, form, TAB_FIELDS.definition);
        if (!NAME.test(name)) errors.name = "a name of letters, digits, '.', '_' and '-' (at most 100)";
        else if (app.webhooks.has(name)) errors.name = `webhook "${name}" exists already`;
        if (Object.keys(errors).length > 0) return newPage(c, def, name, errors, undefined, 400);
        try {
          await app.managed.putWebhook(name, def);
        } catch (e) {
          const r = refusal(e, TAB_FIELDS.definition);
          return newPage(c, def, name, r.errors, r.message, 400);
        }
        return c.redirect(at(name, "?tab=parameters"), 303);
      },
    );

    r.get(
      "/:name",
      kit.page("One webhook: its definition, parameters, settings and test", { params: nameParam }),
      (c) => show(c, c.req.param("name"), tabOf(c.req.query("tab"))),
    );

    r.post(
      "/:name/save",
      kit.page("Saves a tab of an admin-API webhook", { params: nameParam, answers: REDIRECT }),
      async (c) => {
        const name = c.req.param("name");
        kit.allow(c, "PUT", api(name));
        const form = await c.req.parseBody();
        const tab = tabOf(String(form._tab ?? ""));
        const fields = TAB_FIELDS[tab === "test" ? "definition" : tab];
        const s = (await webhookStates(app)).get(name);
        if (!s) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no webhook "${name}"`);
        const current = await definition(name, s.source);
        const { definition: def, errors } = applyForm(current, form, fields);
        if (Object.keys(errors).length > 0) return show(c, name, tab, { def, errors, status: 400 });
        try {
          await app.managed.putWebhook(name, def);
        } catch (e) {
          const r = refusal(e, fields);
          return show(c, name, tab, { def, errors: r.errors, error: r.message, status: 400 });
        }
        return c.redirect(at(name, `?tab=${tab}`), 303);
      },
    );

    r.post(
      "/:name/test",
      kit.page("Previews or sends a webhook's test", { params: nameParam }),
      async (c) => {
        const name = c.req.param("name");
        kit.allow(c, "POST", api(name, "/test"));
        const hook = knownWebhook(app, name);
        const form = await c.req.parseBody();
        const source = String(form.source ?? "sample");
        const choice: TestChoice = {
          source: source === "profile" || source === "delivery" ? source : "sample",
          profile: String(form.profile ?? ""),
          delivery: String(form.delivery ?? ""),
        };
        const send = form.action === "send";
        try {
          const outcome = await testWebhook(app, hook, await testInput(app, name, choice, send));
          return show(c, name, "test", { choice, result: { ...outcome, sent: send } });
        } catch (e) {
          if (!(e instanceof HttpError)) throw e;
          return show(c, name, "test", { choice, error: e.message, status: e.status as 400 });
        }
      },
    );

    r.post(
      "/:name/copy",
      kit.page("Copies a webhook into a new admin-API one", { params: nameParam, answers: REDIRECT }),
      async (c) => {
        const name = c.req.param("name");
        kit.allow(c, "POST", api(name, "/copy"));
        const copy = String((await c.req.parseBody()).copy ?? "").trim();
        if (!NAME.test(copy))
          return show(c, name, "definition", {
            error: `"${copy}" is not a name: letters, digits, '.', '_' and '-'`,
            status: 400,
          });
        try {
          await copyWebhook(app, name, copy);
        } catch (e) {
          if (!(e instanceof HttpError) && !(e instanceof ManagedError)) throw e;
          return show(c, name, "definition", { error: e.message, status: 409 });
        }
        return c.redirect(at(copy), 303);
      },
    );

    r.post(
      "/:name/disable",
      kit.page("Disables a webhook", { params: nameParam, answers: REDIRECT }),
      async (c) => {
        const name = c.req.param("name");
        kit.allow(c, "POST", api(name, "/disable"));
        const queued = (await c.req.parseBody()).queued === "cancel" ? "cancel" : "wait";
        const done = await disableWebhook(app, name, { queued, reason: "disabled in the console" });
        const notice =
          queued === "cancel"
            ? `Disabled; ${done.halted} queued deliveries cancelled.`
            : "Disabled; queued deliveries wait.";
        return c.redirect(`${at(name)}?notice=${encodeURIComponent(notice)}`, 303);
      },
    );

    // As POST /v1/webhooks/:name/fire: one delivery for one customer, then its page.
    r.post(
      "/:name/fire",
      kit.page("Fires a webhook for one customer", { params: nameParam, answers: REDIRECT }),
      async (c) => {
        const name = c.req.param("name");
        kit.allow(c, "POST", api(name, "/fire"));
        const customer = String((await c.req.parseBody()).customer ?? "").trim();
        if (!customer)
          return show(c, name, "definition", { error: "Say which customer to fire it for.", status: 400 });
        try {
          const fired = await fireWebhook(app, name, { customer });
          return c.redirect(`${kit.base}/deliveries/${encodeURIComponent(fired.delivery)}`, 303);
        } catch (e) {
          if (!(e instanceof HttpError)) throw e;
          return show(c, name, "definition", { error: e.message, status: e.status as 409 });
        }
      },
    );

    r.post(
      "/:name/enable",
      kit.page("Enables a disabled webhook", { params: nameParam, answers: REDIRECT }),
      async (c) => {
        const name = c.req.param("name");
        kit.allow(c, "POST", api(name, "/enable"));
        await enableWebhook(app, name);
        return c.redirect(`${base}?notice=${encodeURIComponent(`Enabled ${name}.`)}`, 303);
      },
    );

    r.post(
      "/:name/resume",
      kit.page("Resumes a paused webhook", { params: nameParam, answers: REDIRECT }),
      async (c) => {
        const name = c.req.param("name");
        kit.allow(c, "POST", api(name, "/resume"));
        await resumeWebhook(app, name);
        return c.redirect(`${base}?notice=${encodeURIComponent(`Resumed ${name}.`)}`, 303);
      },
    );

    // Deleting asks first, on a page of its own (a form, so that it works without script).
    r.get("/:name/delete", kit.page("Asks to confirm deleting a webhook", { params: nameParam }), (c) => {
      const name = c.req.param("name");
      kit.allow(c, "DELETE", api(name));
      knownWebhook(app, name);
      return c.html(
        <kit.Layout c={c} title={`Delete ${name}`} active="webhooks">
          <section class="card">
            <h1>Delete webhook {name}?</h1>
            <p>Its definition is removed; deliveries already made stay in the log. This cannot be undone.</p>
            <form method="post" action={at(name, "/delete")} class="actions">
              <kit.Csrf c={c} />
              <button type="submit" class="danger">
                Delete {name}
              </button>
              <a href={at(name)}>Cancel</a>
            </form>
          </section>
        </kit.Layout>,
      );
    });
    r.post(
      "/:name/delete",
      kit.page("Deletes an admin-API webhook", { params: nameParam, answers: REDIRECT }),
      async (c) => {
        const name = c.req.param("name");
        kit.allow(c, "DELETE", api(name));
        try {
          await app.managed.deleteWebhook(name);
        } catch (e) {
          if (!(e instanceof ManagedError)) throw e;
          throw new HttpError(
            e.status === 404 ? "HOOKLINE_HTTP_NOT_FOUND" : "HOOKLINE_HTTP_CONFLICT",
            e.message,
          );
        }
        return c.redirect(`${base}?notice=${encodeURIComponent(`Deleted ${name}.`)}`, 303);
      },
    );
  },
});
