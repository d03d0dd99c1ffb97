import type { ConfigRegistry } from "../core/config/check.ts";
import type { HooklineConfig } from "../core/config/schema.ts";
import type { AuthContext, AuthProvider } from "../core/contracts/auth.ts";
import type { ConfigSection } from "../core/contracts/config-section.ts";
import type { PluginMigrations } from "../core/contracts/extension.ts";
import type { Logger } from "../core/contracts/logger.ts";
import type { Renderer } from "../core/contracts/renderer.ts";
import type { RetryPolicy } from "../core/contracts/retry.ts";
import type { SqlDriver } from "../core/contracts/store.ts";
import type { TriggerKind } from "../core/contracts/trigger.ts";
import type { IntegrationRuntime } from "../core/engine/deliver.ts";
import { eventTrigger } from "../core/engine/event-trigger.ts";
import { Outbox } from "../core/engine/outbox.ts";
import { retryContract } from "../core/engine/retry.ts";
import { compileWebhooks } from "../core/engine/webhooks.ts";
import { silentLogger } from "../core/logger.ts";
import { integrationState } from "../core/managed-state.ts";
import type { Plugin } from "../core/contracts/plugin.ts";
import { Redactor } from "../core/security/redact.ts";
import { SecretBox } from "../core/security/secret-box.ts";
import { SqlStore } from "../core/store/sql-store.ts";
import { Tokens } from "../core/tokens.ts";
import { InboundSection } from "../plugins/inbound/config.ts";
import { inboundMigrations } from "../plugins/inbound/migrations.ts";
import { profileChangeTrigger } from "../plugins/inbound/profile-trigger.ts";
import type { InboundHost } from "../plugins/inbound/receive.ts";
import { type EmbeddedConfig, edgeConfig } from "./config.ts";
import { ValueContainer } from "./container.ts";

/**
 * The parts the edge is made of: the core's event trigger, the inbound plugin's config section,
 * tables and `profile-change` trigger (not its admin API, janitor or response mapping: they run on
 * the servers), and `plugins` (renderers, authentication kinds). The build checks the config against
 * the same registry the worker loads it with.
 *
 * @example const { registry } = inboundParts([eta()]); loadConfig(text, { file, env, registry });
 */
export function inboundParts(plugins: readonly Plugin[]): {
  container: ValueContainer;
  registry: ConfigRegistry;
} {
  const container = new ValueContainer();
  container.register(Tokens.TriggerKind, { useValue: eventTrigger });
  container.register(Tokens.ConfigSection, { useValue: { key: "inbound", schema: InboundSection } });
  container.register(Tokens.Migrations, { useValue: inboundMigrations });
  container.register(Tokens.TriggerKind, { useValue: profileChangeTrigger });
  container.install(plugins);
  const registry: ConfigRegistry = {
    authProviders: container.resolveAll<AuthProvider>(Tokens.AuthProvider),
    triggerKinds: container.resolveAll<TriggerKind>(Tokens.TriggerKind),
    sections: container.resolveAll<ConfigSection>(Tokens.ConfigSection),
    renderers: container.resolveAll<Renderer>(Tokens.Renderer),
    // Response mapping runs where deliveries are sent (the servers, which have the inbound plugin).
    capabilities: undefined,
  };
  return { container, registry };
}

export interface InboundAppOptions {
  /** The config as the build embedded it. */
  config: EmbeddedConfig;
  /** What `${NAME}` reads: the Worker's string bindings. */
  env: Record<string, string | undefined>;
  /** The store's connection. */
  driver: SqlDriver;
  /** Renderers and authentication kinds the config names. */
  plugins: readonly Plugin[];
  /** Makes a logger that redacts with the app's redactor; default: log nothing. */
  logger?: (redactor: Redactor) => Logger;
}

/** The edge's app: what the receivers use (`InboundHost`), with its config, store and integrations. */
export interface InboundApp extends InboundHost {
  readonly config: HooklineConfig;
  readonly store: SqlStore;
  readonly integrations: ReadonlyMap<string, IntegrationRuntime>;
}

/**
 * An inbound-only hookline: the config checked with the Worker's bindings, the store (migrations
 * checked), the outbox with the config's webhooks and triggers (what received activities fire is
 * written as deliveries, which the servers send), and the integrations (made for their start-up
 * checks and secrets: nothing is sent from here). No delivery workers, admin API or transport:
 * `createHookline` composes those for the servers. It writes nothing of the servers' shared
 * configuration: their throughput policies stay as they are.
 *
 * @example
 * const app = await inboundApp({ config: embedded, env: stringBindings(env), driver, plugins });
 * const registry = new EndpointRegistry(app, app.config.sections.inbound as InboundSection);
 */
export async function inboundApp(options: InboundAppOptions): Promise<InboundApp> {
  const { container, registry } = inboundParts(options.plugins);
  const config = edgeConfig(options.config, options.env, registry);
  const redactor = new Redactor();
  redactor.add(config.envValues ?? []);
  const logger = options.logger?.(redactor) ?? silentLogger;
  container.register(Tokens.Logger, { useValue: logger });
  container.register(Tokens.Config, { useValue: config });
  container.register(Tokens.Env, { useValue: options.env });

  const store = new SqlStore(options.driver, container.resolveAll<PluginMigrations>(Tokens.Migrations));
  const webhooks = compileWebhooks(config, registry.renderers);
  const box = await SecretBox.fromEnv(options.env.HOOKLINE_SECRET_KEY);
  const providers = new Map(registry.authProviders.map((p) => [p.kind, p]));
  const integrations = new Map<string, IntegrationRuntime>();
  for (const [name, base] of Object.entries(config.integrations)) {
    const context: AuthContext = {
      name,
      endpointPrefix: base.endpointPrefix,
      logger,
      // Only what an integration loads to start (a certificate from a URL) is fetched here.
      fetch: (request) => fetch(request),
      addSecrets: (values) => redactor.add(values),
      state: integrationState(store.sql, box, name),
    };
    const instance = providers.get(base.kind)!.create(config.integrationOptions[name], context);
    await instance.ready?.();
    redactor.add(instance.secrets());
    integrations.set(name, { name, endpointPrefix: base.endpointPrefix, instance });
  }
  const kinds = new Map(registry.triggerKinds.map((k) => [k.kind, k]));
  const triggers = config.triggers.map((t, i) =>
    kinds.get(t.kind)!.create(config.triggerOptions[i], { webhooks: t.webhooks, params: t.params }),
  );
  const retry: RetryPolicy = container.isRegistered(Tokens.RetryPolicy)
    ? container.resolve(Tokens.RetryPolicy)
    : retryContract(config.engine.retry);
  const outbox = new Outbox({ store, webhooks, triggers, retry });

  // Throughput policies are not written here: they limit sending, which the servers own and do (each
  // writes its config's at start-up); a cold start of the edge must not rewrite or remove them.
  await store.migrate();
  return {
    config,
    store,
    integrations,
    redactor,
    logger,
    container,
    publish: (events) => outbox.publish(events),
  };
}
