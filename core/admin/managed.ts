import { z } from "zod";
import { BUILTIN_PRESETS } from "../config/builtin-presets.ts";
import { presetTemplates, untrustedTemplate, withPreset } from "../config/presets.ts";
import { type HooklineConfig, IntegrationBase, integrationsOf } from "../config/schema.ts";
import type { AuthContext, AuthIntegration, AuthProvider } from "../contracts/auth.ts";
import type { Catalogue } from "../contracts/catalogue.ts";
import type { Logger } from "../contracts/logger.ts";
import type { ManagedEntries, ManagedRow } from "../contracts/managed-entries.ts";
import type { Renderer } from "../contracts/renderer.ts";
import type { RetryPolicies } from "../engine/retry-policies.ts";
import { HooklineError } from "../errors.ts";
import type { Redactor } from "../security/redact.ts";
import type { SecretBox } from "../security/secret-box.ts";
import { isPlainHttp } from "../transport/https-only.ts";
import { BASE_KEYS, incomplete, issuesOf, ManagedError, ManagedWebhook, split } from "./entries.ts";
import { exportAll, importAll } from "./exchange.ts";

/** An authentication kind as the admin API lists it (`GET /v1/integration-kinds`). */
export interface IntegrationKind {
  kind: string;
  /** Its own options (all but `kind`, `endpointPrefix`, `test`) as JSON Schema 2020-12, as they are given. */
  options: Record<string, unknown>;
  /** Options that hold secrets: write-only, sealed at rest. */
  secretFields: string[];
  /** Options whose change requires the secrets again (besides `endpointPrefix`). */
  secretsRequiredOnChange: string[];
}

/** A kind's options as JSON Schema; one zod cannot write (a custom type) is described as any object. */
function kindOf(p: AuthProvider): IntegrationKind {
  let options: Record<string, unknown>;
  try {
    options = z.toJSONSchema(p.schema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  } catch {
    options = { type: "object" };
  }
  return {
    kind: p.kind,
    options,
    secretFields: [...(p.secretFields ?? [])],
    secretsRequiredOnChange: [...(p.secretsRequiredOnChange ?? [])],
  };
}

/** The fields of an integration's secrets that hold a value. */
const withValues = (secrets: Record<string, unknown>) =>
  Object.entries(secrets)
    .filter(([, v]) => v !== undefined)
    .map(([k]) => k);

export interface ManagedDeps {
  entries: ManagedEntries;
  box?: SecretBox;
  config: HooklineConfig;
  providers: ReadonlyMap<string, AuthProvider>;
  renderers: readonly Renderer[];
  /** The app's catalogue: what is put here goes live there. */
  catalogue: Catalogue;
  retry: Pick<RetryPolicies, "has" | "names">;
  redactor: Redactor;
  logger: Logger;
  context: (name: string, endpointPrefix: string) => AuthContext;
  /** What the plugins provide (`profiles` for response mapping). */
  capabilities?: readonly string[];
  /** `engine.requireHttps` as the app resolved it: plain http:// targets are refused (400). */
  requireHttps?: boolean;
}

/**
 * Integrations and webhooks created through the admin API: stored (`ManagedEntries`) with their
 * secret fields sealed (`SecretBox`), set in the app's catalogue at once, and picked up by other
 * processes on their next `refresh()`. Entries of the config file are read-only here.
 *
 * @example await managed.putIntegration("crm", { kind: "basic", endpointPrefix: "https://crm.example.com/api", username: "u", password: "p" });
 */
export class ManagedConfig {
  /**
   * Public spec, missing secrets and (when known) the secret fields that hold a value, of each
   * managed integration, for describing it.
   */
  private specs = new Map<string, { spec: Record<string, unknown>; missing: string[]; set?: string[] }>();
  /** The webhooks and integrations this process loaded from the store. */
  private loaded = { webhooks: new Set<string>(), integrations: new Set<string>() };
  private version = "";

  constructor(readonly d: ManagedDeps) {}

  private place = (name: string) => `integration:${name}`;

  private kindList?: IntegrationKind[];

  /**
   * The authentication kinds the plugins provide, by kind: what a form for each is made from.
   *
   * @example managed.kinds().find((k) => k.kind === "basic")?.secretFields // ["password"]
   */
  kinds(): IntegrationKind[] {
    this.kindList ??= [...this.d.providers.values()].sort((a, b) => a.kind.localeCompare(b.kind)).map(kindOf);
    return this.kindList;
  }

  /** Refuses (400) a literal http:// target while `engine.requireHttps` is on. */
  needHttps(what: string, path: string, url: string): void {
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

  /** Loads every managed entry into the catalogue; a sealed secret without HOOKLINE_SECRET_KEY stops start-up. */
  async load(): Promise<void> {
    const rows = await this.d.entries.list();
    if (rows.some((r) => r.sealed) && !this.d.box) {
      throw new HooklineError(
        "HOOKLINE_SECRET_KEY_MISSING",
        `HOOKLINE_SECRET_KEY is not set, but the store holds sealed secrets of integrations (${rows
          .filter((r) => r.sealed)
          .map((r) => r.name)
          .join(", ")}); start with the key they were sealed with`,
      );
    }
    const now = { webhooks: new Set<string>(), integrations: new Set<string>() };
    for (const r of rows.filter((x) => x.kind === "integration")) {
      await this.activateIntegration(r);
      now.integrations.add(r.name);
    }
    for (const r of rows.filter((x) => x.kind === "webhook")) {
      this.activateWebhook(r.name, ManagedWebhook.parse(r.spec));
      now.webhooks.add(r.name);
    }
    // What another process deleted goes here too, once the rest is in place (never a gap between).
    for (const name of this.loaded.webhooks)
      if (!now.webhooks.has(name)) this.d.catalogue.deleteWebhook(name);
    for (const name of this.loaded.integrations)
      if (!now.integrations.has(name)) {
        await this.d.catalogue.deleteIntegration(name);
        this.specs.delete(name);
      }
    this.loaded = now;
    this.version = await this.d.entries.version();
  }

  /** Reloads when another process changed managed entries (cheap when nothing changed). */
  async refresh(): Promise<boolean> {
    if ((await this.d.entries.version()) === this.version) return false;
    await this.load();
    return true;
  }

  /** The stored secrets of an entry, opened. */
  async secretsOf(row: ManagedRow): Promise<Record<string, unknown>> {
    if (!row.sealed) return {};
    return JSON.parse(await this.needBox(`integration "${row.name}"`).open(row.sealed, this.place(row.name)));
  }

  /** Makes a stored integration live (one imported without its secrets fails every delivery, saying so). */
  async activateIntegration(row: ManagedRow): Promise<void> {
    const spec = row.spec as Record<string, unknown> & { kind: string; endpointPrefix: string };
    this.specs.set(row.name, { spec, missing: row.missing_secrets });
    let instance: AuthIntegration;
    if (row.missing_secrets.length > 0) instance = incomplete(row.name, row.missing_secrets);
    else {
      const secrets = await this.secretsOf(row);
      this.specs.set(row.name, { spec, missing: [], set: withValues(secrets) });
      const provider = this.d.providers.get(spec.kind);
      if (!provider)
        throw new HooklineError(
          "HOOKLINE_MANAGED_KIND",
          `stored integration "${row.name}" has kind "${spec.kind}", which no plugin provides`,
        );
      const [, options] = split({ ...spec, ...secrets }, BASE_KEYS);
      instance = provider.create(
        provider.schema.parse(options),
        this.d.context(row.name, spec.endpointPrefix),
      );
      this.d.redactor.add(instance.secrets());
    }
    await this.d.catalogue.setIntegration(
      { name: row.name, endpointPrefix: spec.endpointPrefix, instance },
      { source: "api" },
    );
  }

  /**
   * Creates or replaces an integration. Secret fields left out keep their stored values, unless the
   * endpoint prefix or a field the kind names (e.g. OAuth's token endpoint) changes: credentials do not
   * follow a new destination unless given again.
   */
  /** The secret fields an integration body gives for its kind (an editor's token may not set them). */
  secretsGiven(body: unknown): string[] {
    if (!body || typeof body !== "object" || Array.isArray(body)) return [];
    const o = body as Record<string, unknown>;
    const provider = typeof o.kind === "string" ? this.d.providers.get(o.kind) : undefined;
    return (provider?.secretFields ?? []).filter((f) => o[f] !== undefined);
  }

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
    const existing = await this.d.entries.get("integration", name);
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
    this.specs.set(name, { spec, missing: [], set: withValues(secrets) });
    this.loaded.integrations.add(name);
    await this.d.catalogue.setIntegration(
      { name, endpointPrefix: base.data.endpointPrefix, instance },
      { source: "api" },
    );
    return this.describeIntegration(name)!;
  }

  /** Refuses while webhooks use it, naming them. */
  async deleteIntegration(name: string): Promise<void> {
    if (this.d.config.integrations[name])
      throw new ManagedError(409, `integration "${name}" is defined in the config file; remove it there`);
    if (!(await this.d.entries.get("integration", name)))
      throw new ManagedError(404, `no integration "${name}"`);
    const users = [...this.d.catalogue.webhooks.values()]
      .filter((w) => integrationsOf(w.config).includes(name))
      .map((w) => w.name);
    if (users.length > 0)
      throw new ManagedError(409, `integration "${name}" is used by webhooks: ${users.join(", ")}`);
    await this.d.entries.delete("integration", name);
    await this.d.entries.deleteIntegrationState(name);
    this.version = await this.d.entries.version();
    await this.d.catalogue.deleteIntegration(name);
    this.loaded.integrations.delete(name);
    this.specs.delete(name);
  }

  /** What the admin API shows of an integration: options with secret values masked, which secrets are set. */
  describeIntegration(name: string): object | undefined {
    if (!this.d.catalogue.integrations.has(name)) return undefined;
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
    // An optional secret never given (a public client's) is left out: it is neither set nor missing.
    const secrets = Object.fromEntries(
      fields
        .filter((f) => managed.missing.includes(f) || !managed.set || managed.set.includes(f))
        .map((f) => [f, managed.missing.includes(f) ? "missing" : "set"]),
    );
    return this.d.redactor.redactDeep({ name, source: "api", ...base, options, secrets });
  }

  /**
   * Creates or replaces a webhook (and the event trigger it carries). One that `extends` a preset (of
   * the config, or a built-in one) is merged with it now and stored merged, so a later change to the
   * preset leaves it as is. With an engine that runs templates as code, its templates must be the
   * presets' own (`untrustedTemplate`) unless `engine.allowCodeTemplatesFromApi`.
   */
  async putWebhook(name: string, body: unknown): Promise<void> {
    if (this.d.config.webhooks[name])
      throw new ManagedError(409, `webhook "${name}" is defined in the config file; change it there`);
    const extended = withPreset(body, this.d.config.presets, BUILTIN_PRESETS);
    if ("issue" in extended)
      throw new ManagedError(400, extended.issue.message, [
        { path: "extends", message: extended.issue.message },
      ]);
    const parsed = ManagedWebhook.safeParse(extended.value);
    if (!parsed.success) throw new ManagedError(400, "invalid webhook", issuesOf(parsed.error));
    this.needHttps(`webhook "${name}"`, "url", parsed.data.url);
    const renderer = this.d.renderers.findLast((r) => r.name === parsed.data.engine);
    if (!renderer)
      throw new ManagedError(
        400,
        `unknown engine "${parsed.data.engine}"; expected one of: ${this.d.renderers.map((r) => r.name).join(", ")}`,
      );
    // A preset's templates ship with the deployment (the gallery, the config file): trusted code the
    // operator installed. What the request writes itself is not, unless the operator opted in.
    const untrusted =
      renderer.trusted && !this.d.config.engine.allowCodeTemplatesFromApi
        ? untrustedTemplate(parsed.data, renderer.name, this.presetTemplates())
        : undefined;
    if (untrusted) {
      throw new ManagedError(
        403,
        `engine "${renderer.name}" runs templates as code, so the admin API takes only the templates of a preset (built-in or of the config file) with it, unchanged: ${untrusted.message}; extend a preset without overriding its templates, use an interpreted engine for your own, or set engine.allowCodeTemplatesFromApi: true`,
        [{ path: untrusted.path, message: untrusted.message }],
      );
    }
    if (parsed.data.response.mapping && !this.d.capabilities?.includes("profiles"))
      throw new ManagedError(
        400,
        "response mapping writes customer profiles, and no plugin here keeps them: add the inbound plugin",
        [{ path: "response.mapping", message: "no profiles" }],
      );
    if (parsed.data.consent && !this.d.capabilities?.includes("consent"))
      throw new ManagedError(
        400,
        "consent is needed, and no plugin here checks consents: add the inbound plugin, which keeps them",
        [{ path: "consent", message: "no consents" }],
      );
    if (parsed.data.retry !== undefined && !this.d.retry.has(parsed.data.retry))
      throw new ManagedError(
        400,
        `unknown retry policy "${parsed.data.retry}"; expected one of: ${this.d.retry.names().join(", ")}`,
        [{ path: "retry", message: "unknown retry policy" }],
      );
    for (const i of integrationsOf(parsed.data)) {
      if (!this.d.catalogue.integrations.has(i))
        throw new ManagedError(400, `unknown integration "${i}"`, [
          { path: "integration", message: "unknown integration" },
        ]);
    }
    this.activateWebhook(name, parsed.data);
    await this.save("webhook", name, parsed.data, null, []);
  }

  private trusted?: Map<string, Set<string>>;
  /** The templates of the built-in presets and the config file's, by engine (read once: neither changes). */
  private presetTemplates(): Map<string, Set<string>> {
    this.trusted ??= presetTemplates(this.d.config.presets, BUILTIN_PRESETS);
    return this.trusted;
  }

  private activateWebhook(name: string, spec: ManagedWebhook): void {
    const { events, ...config } = spec;
    try {
      this.d.catalogue.setWebhook(name, config, { events, source: "api" });
    } catch (e) {
      throw new ManagedError(400, this.d.redactor.redact((e as Error).message));
    }
    this.loaded.webhooks.add(name);
  }

  async deleteWebhook(name: string): Promise<void> {
    if (this.d.config.webhooks[name])
      throw new ManagedError(409, `webhook "${name}" is defined in the config file; remove it there`);
    if (!(await this.d.entries.get("webhook", name))) throw new ManagedError(404, `no webhook "${name}"`);
    await this.d.entries.delete("webhook", name);
    this.version = await this.d.entries.version();
    this.d.catalogue.deleteWebhook(name);
    this.loaded.webhooks.delete(name);
  }

  /** Writes an entry and notes the version this process has seen. */
  async save(kind: ManagedRow["kind"], name: string, spec: object, sealed: string | null, missing: string[]) {
    await this.d.entries.upsert(kind, name, spec, sealed, missing);
    this.version = await this.d.entries.version();
  }

  /** Every webhook and integration, without any secret (see `exportAll`). */
  exportAll() {
    return exportAll(this);
  }

  /** Imports an export (see `importAll`). */
  importAll(doc: unknown) {
    return importAll(this, doc);
  }
}
