import type { IntegrationKind } from "../admin/managed.ts";
import { integrationsOf } from "../config/schema.ts";
import type { ConsoleKit } from "../contracts/console.ts";
import type { AdminApp } from "../http/admin-app.ts";
import { fieldsOf, readOptions } from "./integration-form.ts";
import type { BaseValues, IntegrationRow } from "./integration-pages.tsx";

// What the Integrations section reads: the integrations as it lists them, and a form as the body
// `PUT /v1/integrations/:name` takes.

/** The name rule of the config file (`integrations:` keys), which the create form holds names to. */
export const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
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
export const interactive = (instance: object): boolean => {
  const i = instance as { authorizationUrl?: unknown; grantType?: unknown };
  return (
    typeof i.authorizationUrl === "function" && (i.grantType ?? "authorization_code") === "authorization_code"
  );
};

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());

/** The integrations as the console shows them, by name (one of `name` only when given). */
export async function rowsOf(app: AdminApp, kit: ConsoleKit, kinds: IntegrationKind[], only?: string) {
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
export const deletedNotice = (app: AdminApp, name: string | undefined) =>
  name && NAME.test(name) && !app.integrations.has(name) ? `Deleted "${name}".` : undefined;

export type Form = Record<string, unknown>;
export const str = (form: Form, k: string) => (typeof form[k] === "string" ? (form[k] as string) : "");

/** The body `PUT /v1/integrations/:name` would take, read from the form; and what could not be read. */
export function bodyOf(kind: IntegrationKind, form: Form) {
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
export const errorsOf = (issues: Array<{ path: string; message: string }>) => {
  const errors: Record<string, string> = {};
  for (const i of issues) {
    const key = i.path.split(".")[0] || "";
    if (key && !errors[key]) errors[key] = i.message;
  }
  return errors;
};
