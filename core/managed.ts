import { z } from "zod";
import { withPreset } from "./config/presets.ts";
import { type HooklineConfig, IntegrationBase, integrationsOf, WebhookConfig } from "./config/schema.ts";
import { compiledTemplates } from "./config/templates.ts";
import type { AuthContext, AuthIntegration, AuthProvider } from "./contracts/auth.ts";
import type { Logger } from "./contracts/logger.ts";
import type { Renderer } from "./contracts/renderer.ts";
import type { SqlDriver } from "./contracts/store.ts";
import type { TriggerInstance } from "./contracts/trigger.ts";
import type { IntegrationRuntime } from "./engine/deliver.ts";
import { eventTrigger } from "./engine/event-trigger.ts";
import { type CompiledWebhook, compileOrderingKey } from "./engine/webhooks.ts";
import { HooklineError } from "./errors.ts";
import type { Redactor } from "./security/redact.ts";
import type { SecretBox } from "./security/secret-box.ts";
import { isPlainHttp } from "./transport/https-only.ts";

/** A refusal of the admin API, with the HTTP status it answers and the issues found. */
export class ManagedError extends HooklineError {
  constructor(
    readonly status: number,
    message: string,
    readonly issues?: Array<{ path: string; message: string }>,
  ) {
    super("HOOKLINE_MANAGED", message);
  }
}

const issuesOf = (e: z.ZodError, prefix = "") =>
  e.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join("."),
    message: i.message,
  }));

/** A webhook as the admin API takes it: the config's fields, plus the event types that fire it. */
export const ManagedWebhook = WebhookConfig.extend({
  events: z.array(z.string().min(1)).optional(),
}).strict();

interface Row {
  kind: "integration" | "webhook";
  name: string;
  spec: Record<string, unknown>;
  sealed: string | null;
  missing_secrets: string[];
}

export interface ManagedDeps {
  sql: SqlDriver;
  box?: SecretBox;
  config: HooklineConfig;
  providers: ReadonlyMap<string, AuthProvider>;
  renderers: readonly Renderer[];
  integrations: Map<string, IntegrationRuntime>;
  webhooks: Map<string, CompiledWebhook>;
  triggers: TriggerInstance[];
  redactor: Redactor;
  logger: Logger;
  context: (name: string, endpointPrefix: string) => AuthContext;
  /** What the plugins provide (`profiles` for response mapping). */
  capabilities?: readonly string[];
  /** `engine.requireHttps` as the app resolved it: plain http:// targets are refused (400). */
  requireHttps?: boolean;
}

const BASE_KEYS = ["kind", "endpointPrefix", "test"];
const split = (o: Record<string, unknown>, keys: readonly string[]) => {
  const inside: Record<string, unknown> = {};
  const outside: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) (keys.includes(k) ? inside : outside)[k] = v;
  return [inside, outside] as const;
};

/** An integration imported without its secrets: every delivery through it fails, saying what is missing. */
const incomplete = (name: string, missing: string[]): AuthIntegration => ({
  secrets: () => [],
  authorize() {
    throw new HooklineError(
      "HOOKLINE_INTEGRATION_INCOMPLETE",
      `integration "${name}" needs its secrets re-entered (${missing.join(", ")}): PUT /v1/integrations/${name}`,
    );
  },
});

/**
 * Integrations and webhooks created through the admin API: stored in `hookline_managed` with their
 * secret fields sealed (`SecretBox`), live in the running app at once, and picked up by other
 * processes on their next `refresh()`. Entries of the config file are read-only here.
 *
 * @example await managed.putIntegration("crm", { kind: "basic", endpointPrefix: "https://crm.example.com/api", username: "u", password: "p" });
 */
export class ManagedConfig {
  private managedTriggers = new Map<string, TriggerInstance>();
  /** Public spec and missing secrets of each managed integration, for describing it. */
  private specs = new Map<string, { spec: Record<string, unknown>; missing: string[] }>();
  private version = "";

  constructor(private readonly d: ManagedDeps) {}

  private place = (name: string) => `integration:${name}`;

  /** Refuses (400) a literal http:// target while `engine.requireHttps` is on. */
  private needHttps(what: string, path: string, url: string): void {
    if (!this.d.requireHttps || !isPlainHttp(url)) return;
    throw new ManagedError(400, `${what}: plain http:// is refused (engine.requireHttps); use https://`, [
      { path, message: "expected an https:// URL (engine.requireHttps)" },
    ]);
  }

  private needBox(what: string): SecretBox {
    if (!this.d.box) {
      throw new ManagedError(
        503,
        `${what}: HOOKLINE_SECRET_KEY is not set, so secrets cannot be sealed; set it (openssl rand -base64 32) and restart`,
      );
    }
    return this.d.box;
  }

  /** Loads every managed entry into the live app; a sealed secret without HOOKLINE_SECRET_KEY stops start-up. */
  async load(): Promise<void> {
    const rows = await this.d.sql.query<Row & { updated_at: unknown }>(
      "SELECT kind, name, spec, sealed, missing_secrets, updated_at FROM hookline_managed ORDER BY kind, name",
    );
    if (rows.some((r) => r.sealed) && !this.d.box) {
      throw new HooklineError(
        "HOOKLINE_SECRET_KEY_MISSING",
        `HOOKLINE_SECRET_KEY is not set, but the store holds sealed secrets of integrations (${rows
          .filter((r) => r.sealed)
          .map((r) => r.name)
          .join(", ")}); start with the key they were sealed with`,
      );
    }
    for (const r of rows.filter((x) => x.kind === "integration")) await this.activateIntegration(r);
    for (const r of rows.filter((x) => x.kind === "webhook"))
      this.activateWebhook(r.name, ManagedWebhook.parse(r.spec));
    this.version = await this.currentVersion();
  }

  private async currentVersion(): Promise<string> {
    const [v] = await this.d.sql.query<{ v: string }>(
      "SELECT count(*)::text || ':' || coalesce(max(updated_at)::text, '') AS v FROM hookline_managed",
    );
    return v?.v ?? "";
  }

  /** Reloads when another process changed managed entries (cheap when nothing changed). */
  async refresh(): Promise<boolean> {
    const v = await this.currentVersion();
    if (v === this.version) return false;
    for (const [name] of this.managedTriggers) this.deactivateWebhook(name);
    await this.load();
    return true;
  }

  private async secretsOf(row: Row): Promise<Record<string, unknown>> {
    if (!row.sealed) return {};
    return JSON.parse(await this.needBox(`integration "${row.name}"`).open(row.sealed, this.place(row.name)));
  }

  private async activateIntegration(row: Row): Promise<void> {
    const spec = row.spec as Record<string, unknown> & { kind: string; endpointPrefix: string };
    this.specs.set(row.name, { spec, missing: row.missing_secrets });
    const old = this.d.integrations.get(row.name);
    let instance: AuthIntegration;
    if (row.missing_secrets.length > 0) instance = incomplete(row.name, row.missing_secrets);
    else {
      const provider = this.d.providers.get(spec.kind);
      if (!provider)
        throw new HooklineError(
          "HOOKLINE_MANAGED_KIND",
          `stored integration "${row.name}" has kind "${spec.kind}", which no plugin provides`,
        );
      const [, options] = split({ ...spec, ...(await this.secretsOf(row)) }, BASE_KEYS);
      instance = provider.create(
        provider.schema.parse(options),
        this.d.context(row.name, spec.endpointPrefix),
      );
      this.d.redactor.add(instance.secrets());
    }
    this.d.integrations.set(row.name, { name: row.name, endpointPrefix: spec.endpointPrefix, instance });
    await old?.instance.close?.();
  }

  private async row(kind: Row["kind"], name: string): Promise<Row | undefined> {
    const [r] = await this.d.sql.query<Row>(
      "SELECT kind, name, spec, sealed, missing_secrets FROM hookline_managed WHERE kind = $1 AND name = $2",
      [kind, name],
    );
    return r;
  }

  private async save(
    kind: Row["kind"],
    name: string,
    spec: object,
    sealed: string | null,
    missing: string[],
  ): Promise<void> {
    await this.d.sql.query(
      `INSERT INTO hookline_managed (kind, name, spec, sealed, missing_secrets, updated_at)
       VALUES ($1, $2, $3::text::jsonb, $4, $5::text::jsonb, clock_timestamp())
       ON CONFLICT (kind, name) DO UPDATE SET spec = EXCLUDED.spec, sealed = EXCLUDED.sealed,
         missing_secrets = EXCLUDED.missing_secrets, updated_at = EXCLUDED.updated_at`,
      [kind, name, JSON.stringify(spec), sealed, JSON.stringify(missing)],
    );
    this.version = await this.currentVersion();
  }

  /**
   * Creates or replaces an integration. Secret fields left out keep their stored values, unless the
   * endpoint prefix or a field the kind names (e.g. OAuth's token endpoint) changes: credentials do not
   * follow a new destination unless given again.
   */
  async putIntegration(name: string, body: unknown): Promise<object> {
    if (this.d.config.integrations[name])
      throw new ManagedError(409, `integration "${name}" is defined in the config file; change it there`);
    if (!body || typeof body !== "object" || Array.isArray(body))
      throw new ManagedError(400, "expected a JSON object");
    const base = IntegrationBase.safeParse(body);
    if (!base.success) throw new ManagedError(400, "invalid integration", issuesOf(base.error));
    this.needHttps(`integration "${name}"`, "endpointPrefix", base.data.endpointPrefix);
    const provider = this.d.providers.get(base.data.kind);
    if (!provider) {
      throw new ManagedError(
        400,
        `unknown kind "${base.data.kind}"; expected one of: ${[...this.d.providers.keys()].join(", ")}`,
        [{ path: "kind", message: "unknown kind" }],
      );
    }
    const [, given] = split(body as Record<string, unknown>, BASE_KEYS);
    const secretFields = provider.secretFields ?? [];
    const existing = await this.row("integration", name);
    const options = { ...given };
    const omitted = secretFields.filter((f) => options[f] === undefined);
    if (existing && existing.spec.kind === base.data.kind && omitted.length > 0) {
      // Only the secrets it holds: an optional one never given (a public client's secret) is not asked for.
      const kept = Object.entries(await this.secretsOf(existing)).filter(
        ([k, v]) => omitted.includes(k) && v !== undefined,
      );
      const moved = ["endpointPrefix", ...(provider.secretsRequiredOnChange ?? [])].filter(
        (f) => JSON.stringify((body as Record<string, unknown>)[f]) !== JSON.stringify(existing.spec[f]),
      );
      if (moved.length > 0 && kept.length > 0) {
        throw new ManagedError(
          400,
          `changing ${moved.join(", ")} requires the secrets again: ${kept.map(([k]) => k).join(", ")}`,
          kept.map(([k]) => ({ path: k, message: "required again" })),
        );
      }
      Object.assign(options, Object.fromEntries(kept));
    }
    const parsed = provider.schema.safeParse(options);
    if (!parsed.success) throw new ManagedError(400, "invalid integration options", issuesOf(parsed.error));
    let instance: AuthIntegration;
    try {
      instance = provider.create(parsed.data, this.d.context(name, base.data.endpointPrefix));
      await instance.ready?.();
    } catch (e) {
      throw new ManagedError(400, this.d.redactor.redact((e as Error).message));
    }
    const [secrets, publicOptions] = split(options, secretFields);
    const hasSecrets = Object.values(secrets).some((v) => v !== undefined);
    const sealed = hasSecrets
      ? await this.needBox(`integration "${name}"`).seal(JSON.stringify(secrets), this.place(name))
      : null;
    this.d.redactor.add(instance.secrets());
    const spec = {
      kind: base.data.kind,
      endpointPrefix: base.data.endpointPrefix,
      test: base.data.test,
      ...publicOptions,
    };
    await this.save("integration", name, spec, sealed, []);
    this.specs.set(name, { spec, missing: [] });
    const old = this.d.integrations.get(name);
    this.d.integrations.set(name, { name, endpointPrefix: base.data.endpointPrefix, instance });
    await old?.instance.close?.();
    return this.describeIntegration(name)!;
  }

  /** Refuses while webhooks use it, naming them. */
  async deleteIntegration(name: string): Promise<void> {
    if (this.d.config.integrations[name])
      throw new ManagedError(409, `integration "${name}" is defined in the config file; remove it there`);
    if (!(await this.row("integration", name))) throw new ManagedError(404, `no integration "${name}"`);
    const users = [...this.d.webhooks.values()]
      .filter((w) => integrationsOf(w.config).includes(name))
      .map((w) => w.name);
    if (users.length > 0)
      throw new ManagedError(409, `integration "${name}" is used by webhooks: ${users.join(", ")}`);
    await this.d.sql.query("DELETE FROM hookline_managed WHERE kind = 'integration' AND name = $1", [name]);
    await this.d.sql.query("DELETE FROM hookline_integration_state WHERE integration = $1", [name]);
    this.version = await this.currentVersion();
    await this.d.integrations.get(name)?.instance.close?.();
    this.d.integrations.delete(name);
    this.specs.delete(name);
  }

  /** What the admin API shows of an integration: options with secret values masked, which secrets are set. */
  describeIntegration(name: string): object | undefined {
    const runtime = this.d.integrations.get(name);
    if (!runtime) return undefined;
    const fromConfig = this.d.config.integrations[name];
    if (fromConfig) {
      const { kind, endpointPrefix, test } = fromConfig;
      return this.d.redactor.redactDeep({
        name,
        source: "config",
        kind,
        endpointPrefix,
        test,
        options: this.d.config.integrationOptions[name],
      });
    }
    const managed = this.specs.get(name);
    if (!managed) return undefined;
    const [base, options] = split(managed.spec, BASE_KEYS);
    const fields = this.d.providers.get(String(base.kind))?.secretFields ?? [];
    const secrets = Object.fromEntries(
      fields.map((f) => [f, managed.missing.includes(f) ? "missing" : "set"]),
    );
    return this.d.redactor.redactDeep({ name, source: "api", ...base, options, secrets });
  }

  /**
   * Creates or replaces a webhook (and the event trigger it carries). One that `extends` a preset of
   * the config is merged with it now and stored merged, so a later change to the preset leaves it as is.
   */
  async putWebhook(name: string, body: unknown): Promise<void> {
    if (this.d.config.webhooks[name])
      throw new ManagedError(409, `webhook "${name}" is defined in the config file; change it there`);
    const extended = withPreset(body, this.d.config.presets);
    if ("issue" in extended)
      throw new ManagedError(400, extended.issue.message, [{ path: "extends", message: "unknown preset" }]);
    const parsed = ManagedWebhook.safeParse(extended.value);
    if (!parsed.success) throw new ManagedError(400, "invalid webhook", issuesOf(parsed.error));
    this.needHttps(`webhook "${name}"`, "url", parsed.data.url);
    const renderer = this.d.renderers.findLast((r) => r.name === parsed.data.engine);
    if (!renderer)
      throw new ManagedError(
        400,
        `unknown engine "${parsed.data.engine}"; expected one of: ${this.d.renderers.map((r) => r.name).join(", ")}`,
      );
    if (renderer.trusted && !this.d.config.engine.allowCodeTemplatesFromApi) {
      throw new ManagedError(
        403,
        `engine "${renderer.name}" runs templates as code, so it is refused from the admin API; use an interpreted engine or set engine.allowCodeTemplatesFromApi: true`,
      );
    }
    if (parsed.data.response.mapping && !this.d.capabilities?.includes("profiles"))
      throw new ManagedError(
        400,
        "response mapping writes customer profiles, and no plugin here keeps them: add the inbound plugin",
        [{ path: "response.mapping", message: "no profiles" }],
      );
    for (const i of integrationsOf(parsed.data)) {
      if (!this.d.integrations.has(i))
        throw new ManagedError(400, `unknown integration "${i}"`, [
          { path: "integration", message: "unknown integration" },
        ]);
    }
    this.activateWebhook(name, parsed.data);
    await this.save("webhook", name, parsed.data, null, []);
  }

  private activateWebhook(name: string, spec: z.output<typeof ManagedWebhook>): void {
    const { events, ...config } = spec;
    let compiled: ReturnType<typeof compiledTemplates>;
    try {
      compiled = compiledTemplates({ webhooks: { [name]: config } }, this.d.renderers);
    } catch (e) {
      throw new ManagedError(400, this.d.redactor.redact((e as Error).message));
    }
    const c = compiled[name]!;
    this.d.webhooks.set(name, {
      name,
      config,
      url: c.url,
      headers: Object.entries(c.headers).map(([h, t]) => [h.toLowerCase(), t]),
      body: c.body,
      item: c.item,
      orderingKey: compileOrderingKey(name, config, c.renderer),
    });
    this.deactivateTrigger(name);
    if (events?.length) {
      const t = eventTrigger.create({ events }, { webhooks: [name] });
      this.managedTriggers.set(name, t);
      this.d.triggers.push(t);
    }
  }

  private deactivateTrigger(name: string): void {
    const t = this.managedTriggers.get(name);
    if (!t) return;
    this.d.triggers.splice(this.d.triggers.indexOf(t), 1);
    this.managedTriggers.delete(name);
  }

  private deactivateWebhook(name: string): void {
    this.deactivateTrigger(name);
    this.d.webhooks.delete(name);
  }

  async deleteWebhook(name: string): Promise<void> {
    if (this.d.config.webhooks[name])
      throw new ManagedError(409, `webhook "${name}" is defined in the config file; remove it there`);
    if (!(await this.row("webhook", name))) throw new ManagedError(404, `no webhook "${name}"`);
    await this.d.sql.query("DELETE FROM hookline_managed WHERE kind = 'webhook' AND name = $1", [name]);
    this.version = await this.currentVersion();
    this.deactivateWebhook(name);
  }

  /** Every webhook and integration, without any secret; `secretsRequired` lists what an importer must re-enter. */
  async exportAll(): Promise<{
    integrations: Record<string, object>;
    webhooks: Record<string, object>;
    secretsRequired: Record<string, string[]>;
  }> {
    const integrations: Record<string, object> = {};
    const secretsRequired: Record<string, string[]> = {};
    for (const [name, base] of Object.entries(this.d.config.integrations)) {
      const fields = this.d.providers.get(base.kind)?.secretFields ?? [];
      const [, options] = split(this.d.config.integrationOptions[name] as Record<string, unknown>, fields);
      integrations[name] = {
        kind: base.kind,
        endpointPrefix: base.endpointPrefix,
        test: base.test,
        ...options,
      };
      if (fields.length) secretsRequired[name] = [...fields];
    }
    const rows = await this.d.sql.query<Row>(
      "SELECT kind, name, spec, sealed, missing_secrets FROM hookline_managed ORDER BY name",
    );
    for (const r of rows.filter((x) => x.kind === "integration")) {
      integrations[r.name] = r.spec;
      const fields = this.d.providers.get(String(r.spec.kind))?.secretFields ?? [];
      if (fields.length) secretsRequired[r.name] = [...fields];
    }
    // Webhooks go out merged with their presets and without `extends`, so that an export stands alone:
    // the instance importing it need not have the same presets.
    const standalone = ({ extends: _, ...w }: Record<string, unknown>) => w;
    const webhooks: Record<string, object> = {};
    for (const [n, w] of Object.entries(this.d.config.webhooks)) webhooks[n] = standalone(w);
    for (const r of rows.filter((x) => x.kind === "webhook")) webhooks[r.name] = standalone(r.spec);
    // Belt and braces: whatever a provider failed to declare, the redactor still masks.
    return this.d.redactor.redactDeep({ integrations, webhooks, secretsRequired });
  }

  /** Imports an export: integrations arrive without secrets (each says what must be re-entered), webhooks whole. */
  async importAll(doc: unknown): Promise<{
    imported: { integrations: string[]; webhooks: string[] };
    secretsToReenter: Record<string, string[]>;
  }> {
    const shape = z.object({
      integrations: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
      webhooks: z.record(z.string(), z.unknown()).default({}),
    });
    const parsed = shape.safeParse(doc);
    if (!parsed.success) throw new ManagedError(400, "invalid export document", issuesOf(parsed.error));
    const secretsToReenter: Record<string, string[]> = {};
    const imported = { integrations: [] as string[], webhooks: [] as string[] };
    for (const [name, spec] of Object.entries(parsed.data.integrations)) {
      if (this.d.config.integrations[name]) continue;
      const base = IntegrationBase.safeParse(spec);
      if (!base.success)
        throw new ManagedError(
          400,
          `integration "${name}" is invalid`,
          issuesOf(base.error, `integrations.${name}`),
        );
      this.needHttps(
        `integration "${name}"`,
        `integrations.${name}.endpointPrefix`,
        base.data.endpointPrefix,
      );
      const provider = this.d.providers.get(base.data.kind);
      if (!provider) throw new ManagedError(400, `integration "${name}": unknown kind "${base.data.kind}"`);
      const missing = [...(provider.secretFields ?? [])];
      const [, publicSpec] = split(spec, missing);
      if (missing.length > 0) secretsToReenter[name] = missing;
      await this.save("integration", name, publicSpec, null, missing);
      await this.activateIntegration({
        kind: "integration",
        name,
        spec: publicSpec,
        sealed: null,
        missing_secrets: missing,
      });
      imported.integrations.push(name);
    }
    for (const [name, spec] of Object.entries(parsed.data.webhooks)) {
      if (this.d.config.webhooks[name]) continue;
      await this.putWebhook(name, spec);
      imported.webhooks.push(name);
    }
    return { imported, secretsToReenter };
  }
}
