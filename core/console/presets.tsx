/** @jsxImportSource hono/jsx */
import type { Context } from "hono";
import { ManagedError } from "../admin/entries.ts";
import {
  BUILTIN_PRESETS,
  builtinPresets,
  type PresetNeed,
  type PresetParamDoc,
} from "../config/builtin-presets.ts";
import { resolveWebhooks, templatesOf } from "../config/presets.ts";
import { DEFAULT_ENGINE } from "../config/templates.ts";
import type { ConsoleKit, ConsoleSection } from "../contracts/console.ts";
import { HttpError } from "../errors.ts";
import type { AdminApp } from "../http/admin-app.ts";
import { BASE } from "./layout.tsx";

/** A preset as the gallery shows it: a built-in one, or one of the config file's `presets:`. */
export interface GalleryPreset {
  name: string;
  title: string;
  description: string;
  source: "built-in" | "config file";
  /** The destination's documentation the request follows (built-in presets). */
  docs?: string;
  params: readonly PresetParamDoc[];
  /** What a webhook made from it writes itself. */
  needs: readonly PresetNeed[];
  /** Its fields with its chain applied (what a webhook extending it starts from). */
  fields: Record<string, unknown>;
  example?: string;
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

const URL_NEED: PresetNeed = { field: "url", description: "the destination's URL" };

/**
 * The gallery: the built-in presets, then the config file's (which shadow a built-in of their name).
 * A file preset over a built-in one keeps the built-in's parameter docs, with the file's defaults; one
 * of its own lists the parameters its templates read (`Renderer.parameters`) and those it sets.
 *
 * @example presetGallery(app).find((p) => p.name === "slack")?.params.map((p) => p.name) // ["text", "blocks"]
 */
export function presetGallery(app: AdminApp): GalleryPreset[] {
  const own = app.managed.d.config.presets as Record<string, Record<string, unknown>>;
  const names = Object.keys(own);
  const { webhooks } = resolveWebhooks(
    own,
    Object.fromEntries(names.map((n) => [n, { extends: n }])),
    BUILTIN_PRESETS,
  );
  /** The built-in preset a chain of the file's presets ends at, if any. */
  const builtinUnder = (name: string) => {
    const seen = new Set<string>();
    let at: unknown = name;
    while (typeof at === "string" && !seen.has(at)) {
      if (!Object.hasOwn(own, at)) return builtinPresets.find((b) => b.name === at);
      seen.add(at);
      at = own[at]?.extends;
    }
    return undefined;
  };
  const fromFile = names.flatMap((name): GalleryPreset[] => {
    const fields = webhooks[name];
    if (!isMap(fields)) return [];
    const set = isMap(fields.params) ? fields.params : {};
    const base = builtinUnder(name);
    const description = typeof fields.description === "string" ? fields.description : "";
    let params: PresetParamDoc[];
    let needs: PresetNeed[];
    if (base) {
      params = base.params.map((p) =>
        Object.hasOwn(set, p.name) ? { ...p, required: false, default: set[p.name] } : p,
      );
      needs = base.needs.filter((n) => fields[n.field] === undefined);
    } else {
      const engine = typeof fields.engine === "string" ? fields.engine : DEFAULT_ENGINE;
      const renderer = app.catalogue.renderers.findLast((r) => r.name === engine);
      const read = templatesOf(fields).flatMap((t) => renderer?.parameters?.(t.source) ?? []);
      params = [...new Set([...read, ...Object.keys(set)])].map((p) => ({
        name: p,
        description: read.includes(p)
          ? "read by the preset's templates"
          : "set by the preset, read by none of its templates",
        required: false,
        ...(Object.hasOwn(set, p) ? { default: set[p] } : {}),
      }));
      needs = fields.url === undefined ? [URL_NEED] : [];
    }
    return [
      {
        name,
        title: description || name,
        description: base ? `Over the built-in ${base.name}: ${base.description}` : description,
        source: "config file",
        params,
        needs,
        fields,
      },
    ];
  });
  const builtins = builtinPresets
    .filter((b) => !Object.hasOwn(own, b.name))
    .map(
      (b): GalleryPreset => ({
        name: b.name,
        title: b.title,
        description: b.description,
        source: "built-in",
        docs: b.docs,
        params: b.params,
        needs: b.needs,
        fields: b.preset as Record<string, unknown>,
        example: b.example,
      }),
    );
  return [...builtins, ...fromFile];
}

/** Documentation text with its `code` spans as code (each part rendered as text, never as markup). */
const Prose = (props: { text: string }) => (
  <>{props.text.split("`").map((part, i) => (i % 2 === 1 ? <code>{part}</code> : part))}</>
);

/**
 * The documentation pages a preset follows, each with a short text (host and page): a whole URL is
 * too long to wrap on a phone. Only https links; the rest of the text is left out.
 */
const linksOf = (docs: string) =>
  docs
    .split(/\s+/)
    .filter((w) => w.startsWith("https://") && URL.canParse(w))
    .map((w) => {
      const u = new URL(w);
      const page = u.pathname.split("/").filter(Boolean).at(-1);
      return { href: u.href, text: page ? `${u.host} · ${page}` : u.host };
    });

/** A value as the page shows it: text as is, anything else as JSON. */
const shown = (v: unknown) => (typeof v === "string" ? v : JSON.stringify(v));

/** The gallery: one card per preset with what it is for and a link to its page. */
export function GalleryPage(props: { presets: readonly GalleryPreset[] }) {
  return (
    <>
      <h1>Presets</h1>
      <p class="muted">
        Ready-made webhooks for common destinations. Pick one, fill in its parameters and create a webhook
        from it in one step; a webhook in hookline.yaml uses the same preset with <code>extends:</code>.
      </p>
      <div class="grid">
        {props.presets.map((p) => (
          <section class="card" aria-labelledby={`preset-${p.name}`} data-preset={p.name}>
            <h2 id={`preset-${p.name}`}>{p.title}</h2>
            <p>
              <span class="tag">{p.name}</span> <span class="tag">{p.source}</span>
            </p>
            <p>
              <Prose text={p.description} />
            </p>
            <p class="hint">
              {p.params.length === 0
                ? "No parameters"
                : `Parameters: ${p.params.map((x) => x.name).join(", ")}`}
            </p>
            <p>
              <a href={`${BASE}/presets/${encodeURIComponent(p.name)}`} aria-label={`Use ${p.title}`}>
                Use this preset →
              </a>
            </p>
          </section>
        ))}
      </div>
    </>
  );
}

/** What the create form was given, to show it again with what was wrong. */
export interface CreateInput {
  name?: string;
  integration?: string;
  events?: string;
  params?: Record<string, string>;
}

const FIELD_HINT =
  "A value written as JSON — a list [ … ] or a map { … } — is sent as one; anything else as text.";

/** One preset: what it sends, its parameters, what the webhook writes itself, and the create form. */
export function PresetPage(props: {
  c: Context;
  kit: ConsoleKit;
  preset: GalleryPreset;
  integrations: readonly string[];
  canCreate: boolean;
  input?: CreateInput;
  error?: { message: string; issues?: ReadonlyArray<{ path: string; message: string }> };
}) {
  const { c, kit, preset: p } = props;
  const input = props.input ?? {};
  const needsUrl = p.needs.some((n) => n.field === "url");
  const needsIntegration = p.needs.find((n) => n.field === "integration");
  const f = p.fields;
  return (
    <>
      <p>
        <a href={`${BASE}/presets`}>← Presets</a>
      </p>
      <h1>{p.title}</h1>
      <p>
        <span class="tag">{p.name}</span> <span class="tag">{p.source}</span>
      </p>
      <div class="split">
        <section class="card" aria-labelledby="h-what">
          <h2 id="h-what">What it sends</h2>
          <p>
            <Prose text={p.description} />
          </p>
          <dl class="counts">
            <dt>Method</dt>
            <dd>{shown(f.method ?? "POST")}</dd>
            <dt>Format</dt>
            <dd>{shown(f.format ?? "json")}</dd>
            <dt>URL</dt>
            <dd>{f.url === undefined ? "the webhook's own" : <pre>{shown(f.url)}</pre>}</dd>
            {isMap(f.batch) && f.batch.size !== undefined ? (
              <>
                <dt>Batch</dt>
                <dd>up to {shown(f.batch.size)} customers per request</dd>
              </>
            ) : null}
          </dl>
          {p.docs ? (
            <>
              <h3>Follows</h3>
              <ul>
                {linksOf(p.docs).map((u) => (
                  <li>
                    <a href={u.href} title={u.href}>
                      {u.text}
                    </a>
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          {p.needs.length > 0 ? (
            <>
              <h3>The webhook writes itself</h3>
              <ul>
                {p.needs.map((n) => (
                  <li>
                    <code>{n.field}</code>: <Prose text={n.description} />
                  </li>
                ))}
              </ul>
            </>
          ) : null}
          {p.example ? (
            <details>
              <summary>As hookline.yaml writes it</summary>
              <pre>{p.example}</pre>
            </details>
          ) : null}
        </section>
        <section class="card" aria-labelledby="h-params">
          <h2 id="h-params">Parameters</h2>
          {p.params.length === 0 ? (
            <p class="muted">None.</p>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Parameter</th>
                    <th>Required</th>
                    <th>Default</th>
                  </tr>
                </thead>
                <tbody>
                  {p.params.map((x) => (
                    <tr data-param={x.name}>
                      <td>
                        <code>{x.name}</code>
                        <div class="hint" data-part="what">
                          <Prose text={x.description} />
                        </div>
                      </td>
                      <td data-part="required">{x.required ? "yes" : "no"}</td>
                      <td data-part="default">{"default" in x ? <code>{shown(x.default)}</code> : ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </section>
      </div>
      <section class="card" aria-labelledby="h-create">
        <h2 id="h-create">Create a webhook from it</h2>
        {!props.canCreate ? (
          <p class="hint">Only an admin or an editor may create webhooks.</p>
        ) : (
          <form class="stack" method="post" action={`${BASE}/presets/${encodeURIComponent(p.name)}`}>
            <kit.Csrf c={c} />
            {props.error ? (
              <div class="notice error" role="alert">
                <p>{props.error.message}</p>
                {props.error.issues && props.error.issues.length > 0 ? (
                  <ul>
                    {props.error.issues.map((i) => (
                      <li>
                        {i.path ? <code>{i.path}</code> : null} {i.message}
                      </li>
                    ))}
                  </ul>
                ) : null}
              </div>
            ) : null}
            <div class="fields">
              <label>
                Webhook name
                <input
                  name="name"
                  required
                  pattern="[A-Za-z0-9][A-Za-z0-9._\-]{0,99}"
                  value={input.name ?? ""}
                  autocomplete="off"
                />
                <span class="hint">letters, digits, '.', '_' and '-'</span>
              </label>
              {needsUrl ? (
                <label>
                  URL
                  <input type="url" name="url" required autocomplete="off" placeholder="https://…" />
                  <span class="hint">
                    The URL itself (a{" "}
                    <code>
                      {"$"}
                      {"{ENV}"}
                    </code>{" "}
                    reference is for the config file). It is never shown back: enter it again after an error.
                  </span>
                </label>
              ) : null}
              <label>
                Integration
                <select name="integration" required={needsIntegration !== undefined}>
                  <option value="">{needsIntegration ? "choose one" : "none"}</option>
                  {props.integrations.map((i) => (
                    <option value={i} selected={input.integration === i}>
                      {i}
                    </option>
                  ))}
                </select>
                <span class="hint">
                  {needsIntegration
                    ? needsIntegration.description
                    : "the credentials it is sent with, if any"}
                </span>
              </label>
              <label>
                Events that send it
                <input
                  name="events"
                  value={input.events ?? ""}
                  placeholder="signup, order-paid"
                  autocomplete="off"
                />
                <span class="hint">
                  event types, comma-separated; empty: only triggers of the config file send it
                </span>
              </label>
            </div>
            {p.params.length > 0 ? (
              <fieldset class="fields">
                <legend>Parameters</legend>
                {p.params.map((x) =>
                  typeof x.default === "boolean" ? (
                    <label>
                      <span>
                        <input
                          type="checkbox"
                          name={`param.${x.name}`}
                          checked={input.params ? input.params[x.name] === "on" : x.default}
                        />{" "}
                        {x.name}
                      </span>
                      <span class="hint">{x.description}</span>
                    </label>
                  ) : (
                    <label>
                      {x.required ? `${x.name} (required)` : x.name}
                      <input
                        name={`param.${x.name}`}
                        required={x.required}
                        value={input.params?.[x.name] ?? ""}
                        placeholder={"default" in x ? shown(x.default) : ""}
                        autocomplete="off"
                      />
                      <span class="hint">{x.description}</span>
                    </label>
                  ),
                )}
                <p class="hint full">{FIELD_HINT} Left empty, a parameter takes its default.</p>
              </fieldset>
            ) : null}
            <div class="actions">
              <button type="submit">Create webhook</button>
            </div>
          </form>
        )}
      </section>
    </>
  );
}

const WEBHOOK_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** A parameter's value as typed: JSON for a list or a map, `true` for a ticked box, text otherwise. */
function paramValue(name: string, typed: string, doc: PresetParamDoc): unknown {
  if (typeof doc.default === "boolean") return typed === "on";
  const t = typed.trim();
  if (!t.startsWith("[") && !t.startsWith("{")) return typed;
  try {
    return JSON.parse(t);
  } catch (e) {
    throw new ManagedError(
      400,
      `parameter ${name}: it starts like JSON but is not (${(e as Error).message})`,
      [{ path: `params.${name}`, message: "not valid JSON" }],
    );
  }
}

/**
 * The console's Presets section: the gallery (built-in presets and the config file's), one preset's
 * page with its parameters documented, and creating an admin-API webhook from it in one step (as `PUT
 * /v1/webhooks/:name` with `extends`, for the roles that route allows), which lands on the new
 * webhook's page.
 *
 * @example consoleRoutes(app, { sections: [presetsSection(app)] })
 */
export const presetsSection = (app: AdminApp): ConsoleSection => ({
  path: "presets",
  label: "Presets",
  order: 40,
  mount(r, kit) {
    const find = (name: string) => {
      const preset = presetGallery(app).find((p) => p.name === name);
      if (!preset) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no preset "${name}"`);
      return preset;
    };
    const show = (
      c: Context,
      preset: GalleryPreset,
      status: 200 | 400 | 403 | 409 | 503 = 200,
      more: Pick<Parameters<typeof PresetPage>[0], "input" | "error"> = {},
    ) =>
      c.html(
        <kit.Layout c={c} title={preset.title} active="presets">
          <PresetPage
            c={c}
            kit={kit}
            preset={preset}
            integrations={[...app.integrations.keys()].sort()}
            canCreate={kit.may(c, "PUT", "/v1/webhooks/new")}
            {...more}
          />
        </kit.Layout>,
        status,
      );

    r.get("/", kit.page("The console's preset gallery"), (c) =>
      c.html(
        <kit.Layout c={c} title="Presets" active="presets">
          <GalleryPage presets={presetGallery(app)} />
        </kit.Layout>,
      ),
    );
    const params = { name: "the preset's name" };
    r.get(
      "/:name",
      kit.page("One preset: its parameters and the form that creates a webhook from it", { params }),
      (c) => show(c, find(c.req.param("name"))),
    );
    r.post(
      "/:name",
      kit.page("Creates an admin-API webhook from the preset (admins, editors)", {
        params,
        answers: {
          303: { description: "to the new webhook's page" },
          400: { description: "the form with what is wrong" },
        },
      }),
      async (c) => {
        const preset = find(c.req.param("name"));
        const form = await c.req.parseBody();
        const text = (k: string) => (typeof form[k] === "string" ? (form[k] as string) : "");
        const name = text("name").trim();
        kit.allow(c, "PUT", `/v1/webhooks/${name || "new"}`);
        const input: CreateInput = {
          name,
          integration: text("integration"),
          events: text("events"),
          params: Object.fromEntries(preset.params.map((x) => [x.name, text(`param.${x.name}`)])),
        };
        try {
          if (!WEBHOOK_NAME.test(name))
            throw new ManagedError(
              400,
              "the webhook's name: letters, digits, '.', '_' and '-' (at most 100)",
              [{ path: "name", message: "invalid name" }],
            );
          if (app.webhooks.has(name))
            throw new ManagedError(409, `a webhook "${name}" exists already: choose another name`, [
              { path: "name", message: "taken" },
            ]);
          const given: Record<string, unknown> = {};
          for (const x of preset.params) {
            const typed = input.params?.[x.name] ?? "";
            if (typed === "" && typeof x.default !== "boolean") continue;
            given[x.name] = paramValue(x.name, typed, x);
          }
          const events = (input.events ?? "")
            .split(",")
            .map((e) => e.trim())
            .filter(Boolean);
          const url = text("url").trim();
          await app.managed.putWebhook(name, {
            extends: preset.name,
            ...(url ? { url } : {}),
            ...(input.integration ? { integration: input.integration } : {}),
            ...(Object.keys(given).length > 0 ? { params: given } : {}),
            ...(events.length > 0 ? { events } : {}),
          });
        } catch (e) {
          if (!(e instanceof ManagedError)) throw e;
          const status = ([400, 403, 409, 503] as const).find((s) => s === e.status) ?? 400;
          return show(c, preset, status, {
            input,
            error: { message: `Not created: ${app.redactor.redact(e.message)}`, issues: e.issues },
          });
        }
        return c.redirect(`${BASE}/webhooks/${encodeURIComponent(name)}`, 303);
      },
    );
  },
});
