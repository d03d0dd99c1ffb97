import { z } from "zod";
import type { AuthProvider } from "../contracts/auth.ts";
import type { ConfigSection } from "../contracts/config-section.ts";
import type { Renderer } from "../contracts/renderer.ts";
import type { TriggerKind } from "../contracts/trigger.ts";
import { BUILT_IN_RETRY_POLICIES } from "../engine/retry-names.ts";
import { ConfigError, type ConfigIssue } from "../errors.ts";
import { type DescribedIssue, describeIssues, parseOptions } from "./issues.ts";
import type { KeyPath, Position } from "./positions.ts";
import { type BuiltinPresetEntry, resolveWebhooks } from "./presets.ts";
import { CoreConfig, type HooklineConfig } from "./schema.ts";
import {
  compileWebhookTemplates,
  rememberCompiled,
  type TemplateFault,
  templateFault,
  type WebhookTemplateSources,
} from "./templates.ts";

/** What plugins contributed that the config is checked against. */
export interface ConfigRegistry {
  /** Integration kinds, by `kind`. */
  authProviders: readonly AuthProvider[];
  /** Trigger kinds, by `kind` (an entry without `kind` is an "event" trigger). */
  triggerKinds: readonly TriggerKind[];
  /** Extra top-level keys, each validated by its schema. */
  sections: readonly ConfigSection[];
  /** Template engines, by `name`; a webhook picks one with `engine:`. */
  renderers: readonly Renderer[];
  /**
   * What the plugins provide beyond kinds (`profiles`: response mapping has profiles to write);
   * undefined skips the check.
   */
  capabilities?: readonly string[];
  /**
   * Presets a webhook may extend without the file defining them: the built-in gallery, which
   * `loadConfig` supplies (the edge build writes the ones a config uses into its `presets:`).
   */
  presets?: Readonly<Record<string, BuiltinPresetEntry>>;
}

const INTEGRATION_CORE_KEYS = ["kind", "endpointPrefix", "test"];
const TRIGGER_CORE_KEYS = ["kind", "webhooks", "params", "consent", "segments"];
const DEFAULT_TRIGGER_KIND = "event";

/**
 * A config to check, and where its parts are written: the YAML file (`loadConfig`), or the data the
 * edge build embedded (`edgeConfig`, edge/config.ts). `${NAME}` references are already expanded in `data`.
 */
export interface ConfigSource {
  file: string;
  data: unknown;
  /** Distinct non-empty values the references were replaced with, for redaction. */
  envValues: string[];
  /**
   * Where the value (or the key) at `path` is written, or its nearest written ancestor; `unset` when
   * that reads a variable that is not set (its issue is reported already; any other would be noise).
   */
  locate(path: KeyPath, at: "value" | "key"): { position: Position; unset: boolean };
  /** Whether the value at `path` came from the environment: it may be a secret, so it is not echoed. */
  fromEnv(path: KeyPath): boolean;
  /** Where a line and column inside the template string at `path` are in the file, if it is there. */
  inTemplate(path: KeyPath, line: number, column: number): Position | undefined;
}

/**
 * The loader's checks on a parsed config: the core schema, the plugins' sections, each integration
 * and trigger against its kind, references between entries, and every webhook template (compiled
 * once; the engine reuses them: see `compiledTemplates`). Presets are applied (`resolveWebhooks`); an
 * issue in a field a preset wrote points at the preset. Throws one `ConfigError` with every issue,
 * `issues` (syntax, unset variables) included, in file order.
 *
 * @example const config = checkConfig(source, { authProviders, triggerKinds, sections, renderers });
 */
export function checkConfig(
  source: ConfigSource,
  registry: ConfigRegistry,
  issues: ConfigIssue[] = [],
): HooklineConfig {
  const { file, data } = source;
  const report = (path: KeyPath, at: Position, message: string) =>
    issues.push({ file, line: at.line, column: at.column, path: path.join("."), message });
  const root = isRecord(data) ? data : {};
  // Webhooks that `extends` a preset are checked, compiled and loaded merged with it; a problem in a
  // field the preset wrote is reported where the preset writes it (`origin`).
  const presets = resolveWebhooks(root.presets, root.webhooks, registry.presets);
  const origin = presets.origin;
  for (const p of presets.issues) report(p.path, source.locate(p.path, "value").position, p.message);

  const hidden = (path: KeyPath) => source.fromEnv(origin(path));
  const reportZod = (described: readonly DescribedIssue[]) => {
    for (const d of described) {
      const at = origin(d.path);
      const located = source.locate(at, d.at);
      if (d.at === "value" && located.unset) continue;
      report(at, located.position, d.message);
    }
  };

  // 3. The core's keys and the plugins' sections.
  const topLevel = topLevelSchema(registry.sections, (key) =>
    report([key], { line: 1, column: 1 }, `plugin section "${key}" has the name of a core section`),
  );
  const merged = isRecord(root.webhooks) ? { ...root, webhooks: presets.webhooks } : data;
  const parsed = topLevel.safeParse(merged, parseOptions);
  if (!parsed.success) reportZod(describeIssues(parsed.error.issues, { schema: topLevel, hidden }));

  // 4. Each integration's own options, checked by its kind.
  const checkOwn = (
    path: KeyPath,
    entry: Record<string, unknown>,
    noun: "integration" | "trigger",
  ): { value: unknown } | undefined => {
    const kinds: readonly { kind: string; schema: z.ZodType }[] =
      noun === "integration" ? registry.authProviders : registry.triggerKinds;
    const ownKeys = noun === "integration" ? INTEGRATION_CORE_KEYS : TRIGGER_CORE_KEYS;
    const result = checkKind(entry, kinds, ownKeys, noun === "trigger" ? DEFAULT_TRIGGER_KIND : undefined);
    if (result.kind === "unknown") {
      const where = result.defaulted ? path : [...path, "kind"];
      report(where, source.locate(where, "value").position, unknownKind(noun, result));
    } else if (result.kind === "checked") {
      const schema = result.provider.schema;
      const r = schema.safeParse(result.options, parseOptions);
      if (r.success) return { value: r.data };
      // A secret written into the file itself is not echoed in a message either.
      const secretFields: readonly string[] =
        (result.provider as { secretFields?: readonly string[] }).secretFields ?? [];
      const veil = (p: KeyPath) =>
        hidden(p) || (secretFields.includes(String(p[path.length])) ? "a secret value (not shown)" : false);
      reportZod(describeIssues(r.error.issues, { schema, prefix: path, ownKeys, hidden: veil }));
    }
    return undefined;
  };
  const integrationOptions: Record<string, unknown> = {};
  for (const [name, entry] of Object.entries(records(root.integrations))) {
    const checked = checkOwn(["integrations", name], entry, "integration");
    if (checked) integrationOptions[name] = checked.value;
  }

  // 5. Each trigger's own options, likewise (an entry without `kind` is an event trigger).
  const triggerOptions: unknown[] = [];
  const triggers = Array.isArray(root.triggers) ? (root.triggers as unknown[]) : [];
  triggers.forEach((entry, i) => {
    const checked = isRecord(entry) ? checkOwn(["triggers", i], entry, "trigger") : undefined;
    if (checked) triggerOptions[i] = checked.value;
  });

  // 6. Names that must refer to something.
  const integrationNames = isRecord(root.integrations) ? Object.keys(root.integrations) : [];
  const webhooks = records(presets.webhooks);
  const webhookNames = isRecord(root.webhooks) ? Object.keys(root.webhooks) : [];
  const checkReference = (path: KeyPath, value: unknown, noun: string, known: readonly string[]) => {
    if (typeof value !== "string" || known.includes(value)) return;
    const at = origin(path);
    const located = source.locate(at, "value");
    if (located.unset) return;
    report(
      at,
      located.position,
      `unknown ${noun} ${JSON.stringify(value)}; expected one of: ${listOf(known)}`,
    );
  };
  for (const [name, webhook] of Object.entries(webhooks)) {
    if (Array.isArray(webhook.integration)) {
      webhook.integration.forEach((ref, i) => {
        checkReference(["webhooks", name, "integration", i], ref, "integration", integrationNames);
      });
    } else
      checkReference(["webhooks", name, "integration"], webhook.integration, "integration", integrationNames);
    checkReference(["webhooks", name, "next"], webhook.next, "webhook", webhookNames);
    checkReference(
      ["webhooks", name, "policy"],
      webhook.policy,
      "policy",
      Object.keys(records(root.policies)),
    );
    checkReference(["webhooks", name, "retry"], webhook.retry, "retry policy", [
      ...BUILT_IN_RETRY_POLICIES,
      ...Object.keys(records(root.retryPolicies)),
    ]);
  }
  for (const [name, webhook] of Object.entries(webhooks)) {
    const mapping = isRecord(webhook.response) ? webhook.response.mapping : undefined;
    if (mapping === undefined || !registry.capabilities || registry.capabilities.includes("profiles"))
      continue;
    const at = origin(["webhooks", name, "response", "mapping"]);
    report(
      at,
      source.locate(at, "value").position,
      "response mapping writes customer profiles, and no plugin here keeps them: add the inbound plugin (defaultPlugins() has it)",
    );
  }
  triggers.forEach((entry, i) => {
    if (!isRecord(entry) || !Array.isArray(entry.webhooks)) return;
    entry.webhooks.forEach((w, j) => {
      checkReference(["triggers", i, "webhooks", j], w, "webhook", webhookNames);
    });
  });

  // 7. Templates compile now, so that a syntax error stops the load, not the first delivery.
  const { webhooks: compiled, faults } = compileWebhookTemplates(
    { webhooks: templateSources(webhooks) },
    registry.renderers,
  );
  for (const fault of faults) {
    const at = { ...fault, path: origin(fault.path) as TemplateFault["path"] };
    reportTemplateFault(at, source, registry.renderers, report);
  }

  if (issues.length > 0 || !parsed.success) throw new ConfigError(inFileOrder(issues));

  const core = pick(parsed.data, Object.keys(CoreConfig.shape)) as CoreConfig;
  const sections: Record<string, unknown> = {};
  for (const section of registry.sections) {
    const value = (parsed.data as Record<string, unknown>)[section.key];
    if (value !== undefined) sections[section.key] = value;
  }
  const config: HooklineConfig = {
    ...core,
    integrationOptions,
    triggerOptions,
    sections,
    file,
    envValues: source.envValues,
  };
  // The engine renders with these same compiled templates (compiledTemplates), rather than compiling again.
  rememberCompiled(config, compiled);
  // Where each webhook is written: the console says where a read-only one comes from.
  webhookLines.set(
    config,
    new Map(Object.keys(core.webhooks).map((n) => [n, source.locate(["webhooks", n], "key").position.line])),
  );
  return config;
}

const webhookLines = new WeakMap<HooklineConfig, ReadonlyMap<string, number>>();

/**
 * The line of the config file a webhook is written on (kept aside, as the compiled templates are, so
 * the config stays plain data), or undefined for a webhook the config does not define.
 *
 * @example webhookLine(config, "crm-sync") // 12
 */
export const webhookLine = (config: HooklineConfig, name: string): number | undefined =>
  webhookLines.get(config)?.get(name);

function topLevelSchema(sections: readonly ConfigSection[], collision: (key: string) => void) {
  const shape: Record<string, z.core.$ZodType> = { ...CoreConfig.shape };
  for (const section of sections) {
    if (section.key in shape) collision(section.key);
    else shape[section.key] = section.schema;
  }
  return z.strictObject(shape);
}

type KindCheck<K> =
  | { kind: "skipped" }
  | { kind: "unknown"; name: string; known: string[]; defaulted: boolean }
  | { kind: "checked"; provider: K; options: Record<string, unknown> };

/** Finds an entry's kind and strips the keys the core owns; a non-string kind is the core schema's to report. */
function checkKind<K extends { kind: string }>(
  entry: Record<string, unknown>,
  kinds: readonly K[],
  coreKeys: readonly string[],
  defaultKind: string | undefined,
): KindCheck<K> {
  const name = entry.kind ?? defaultKind;
  if (typeof name !== "string") return { kind: "skipped" };
  const provider = kinds.find((k) => k.kind === name);
  if (!provider)
    return { kind: "unknown", name, known: kinds.map((k) => k.kind), defaulted: entry.kind === undefined };
  const options = Object.fromEntries(Object.entries(entry).filter(([key]) => !coreKeys.includes(key)));
  return { kind: "checked", provider, options };
}

function unknownKind(noun: string, r: { name: string; known: string[]; defaulted: boolean }): string {
  const which = r.defaulted
    ? `no ${noun} kind "${r.name}" is registered (the default when kind is omitted)`
    : `unknown ${noun} kind "${r.name}"`;
  return `${which}; expected one of: ${listOf(r.known)}`;
}

/** The template fields that have the right type; the schema reports the others. */
function templateSources(
  webhooks: Record<string, Record<string, unknown>>,
): Record<string, WebhookTemplateSources> {
  const sources: Record<string, WebhookTemplateSources> = {};
  for (const [name, w] of Object.entries(webhooks)) {
    if (w.engine !== undefined && typeof w.engine !== "string") continue;
    const headers = Object.entries(isRecord(w.headers) ? w.headers : {}).filter(
      (h): h is [string, string] => typeof h[1] === "string",
    );
    sources[name] = {
      engine: w.engine,
      url: typeof w.url === "string" ? w.url : undefined,
      headers: Object.fromEntries(headers),
      body: typeof w.body === "string" ? w.body : undefined,
      batch: isRecord(w.batch) && typeof w.batch.item === "string" ? { item: w.batch.item } : undefined,
    };
  }
  return sources;
}

function reportTemplateFault(
  fault: TemplateFault,
  source: ConfigSource,
  renderers: readonly Renderer[],
  report: (path: KeyPath, at: Position, message: string) => void,
): void {
  const known = renderers.map((r) => r.name);
  if (fault.engine !== undefined) {
    // An engine nobody wrote down is the default; point at the webhook that relies on it.
    const at = fault.defaultEngine
      ? source.locate(fault.path.slice(0, 2), "key")
      : source.locate(fault.path, "value");
    const what = fault.defaultEngine
      ? `no renderer "${fault.engine}" (the default engine) is registered`
      : `unknown engine "${fault.engine}"`;
    report(fault.path, at.position, `${what}; expected one of: ${listOf(known)}`);
    return;
  }
  const { message, line, column = 1 } = templateFault(fault);
  const at = line === undefined ? undefined : source.inTemplate(fault.path, line, column);
  if (at)
    report(fault.path, at, `template error at line ${line}, column ${column} of the template: ${message}`);
  else
    report(fault.path, source.locate(fault.path, "value").position, `template does not compile: ${message}`);
}

/** Issues in file order, each once (an anchored value used through aliases would be reported per use). */
export function inFileOrder(issues: ConfigIssue[]): ConfigIssue[] {
  // An anchored value used through aliases would otherwise be reported once per use.
  const unique = new Map(issues.map((i) => [`${i.line}:${i.column}:${i.path}:${i.message}`, i]));
  return [...unique.values()].sort((a, b) => a.line - b.line || a.column - b.column);
}

function records(value: unknown): Record<string, Record<string, unknown>> {
  if (!isRecord(value)) return {};
  return Object.fromEntries(
    Object.entries(value).filter((e): e is [string, Record<string, unknown>] => isRecord(e[1])),
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function pick(value: unknown, keys: readonly string[]): Record<string, unknown> {
  const source = value as Record<string, unknown>;
  return Object.fromEntries(keys.filter((k) => k in source).map((k) => [k, source[k]]));
}

function listOf(names: readonly string[]): string {
  return names.length > 0 ? names.join(", ") : "(none registered)";
}
