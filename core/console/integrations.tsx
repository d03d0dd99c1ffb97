/** @jsxImportSource hono/jsx */
import type { Context, Hono } from "hono";
import { setCookie } from "hono/cookie";
import { ManagedError } from "../admin/entries.ts";
import type { IntegrationKind } from "../admin/managed.ts";
import type { ConsoleKit, ConsoleSection } from "../contracts/console.ts";
import { HooklineError, HttpError } from "../errors.ts";
import type { AdminApp } from "../http/admin-app.ts";
import { AUTHORIZE_RETURN_COOKIE, isConsolePath } from "../http/integrations.ts";
import {
  bodyOf,
  deletedNotice,
  errorsOf,
  type Form,
  interactive,
  NAME,
  rowsOf,
  str,
} from "./integration-data.ts";
import {
  type Abilities,
  type FormAgain,
  IntegrationPage,
  NewIntegrationPage,
} from "./integration-detail.tsx";
import { IntegrationsPage, pageOf, SOURCE_TEXT, type TestOutcome, TestResult } from "./integration-pages.tsx";
import { isHtmx } from "./kit.tsx";
import { BASE } from "./layout.tsx";

/** How long the way back from an authorization server is kept (its cookie). */
const AUTHORIZE_RETURN_SECONDS = 600;
/** The statuses a page of this section answers with. */
type Status = 200 | 400 | 403 | 409 | 503;

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
      form?: Partial<FormAgain>,
      status: Status = 200,
    ) =>
      c.html(
        <kit.Layout c={c} title="New integration" active="integrations">
          <NewIntegrationPage
            kinds={kinds()}
            kind={kind}
            form={form}
            canSetSecrets={kit.viewer(c).role === "admin"}
            secretKeySet={secretKeySet()}
            csrf={csrf(c)}
          />
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
      again: (form: FormAgain, status: Status) => Response | Promise<Response>,
    ) => {
      const { body, base, options, issues } = bodyOf(kind, form);
      const refuse = (error: string, status: Status, list = issues) =>
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
        if (e instanceof ManagedError) return refuse(e.message, e.status as Status, e.issues ?? []);
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
        const again = (more: FormAgain, status: Status) => createPage(c, kind, more, status);
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
      more: Omit<
        Parameters<typeof IntegrationPage>[0],
        "row" | "kind" | "may" | "secretKeySet" | "csrf"
      > = {},
      status: Status = 200,
    ) => {
      const row = await one(name);
      const kind = kindNamed(row.kind);
      const may: Abilities = {
        edit: row.source === "api" && !!kind && kit.may(c, "PUT", `/v1/integrations/${name}`),
        test: kit.may(c, "POST", `/v1/integrations/${name}/test`),
        authorize: kit.may(c, "POST", `/v1/integrations/${name}/authorize`),
        delete: row.source === "api" && kit.may(c, "DELETE", `/v1/integrations/${name}`),
        setSecrets: kit.viewer(c).role === "admin",
      };
      return c.html(
        <kit.Layout c={c} title={`Integration ${name}`} active="integrations">
          <IntegrationPage
            row={row}
            kind={kind}
            may={may}
            secretKeySet={secretKeySet()}
            csrf={csrf(c)}
            {...more}
            notice={more.notice ?? (c.req.query("saved") ? "Saved." : undefined)}
          />
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
