import type { DependencyContainer } from "tsyringe";
import { Catalogue } from "./catalogue.ts";
import type { ConfigRegistry } from "./config/load.ts";
import type { HooklineConfig } from "./config/schema.ts";
import type { AudienceCheck } from "./contracts/audience.ts";
import type { AuthContext, AuthProvider } from "./contracts/auth.ts";
import type { ConfigSection } from "./contracts/config-section.ts";
import type { DeliveryObserver, PluginMigrations } from "./contracts/extension.ts";
import type { Logger } from "./contracts/logger.ts";
import type { OutboxStore } from "./contracts/outbox-store.ts";
import type { Plugin } from "./contracts/plugin.ts";
import type { Renderer } from "./contracts/renderer.ts";
import type { RetryPolicy } from "./contracts/retry.ts";
import type { SqlDriver } from "./contracts/sql.ts";
import type { Transport, TransportFactory } from "./contracts/transport.ts";
import type { TriggerKind } from "./contracts/trigger.ts";
import { eventTrigger } from "./engine/event-trigger.ts";
import { FailBranch } from "./engine/fail-branch.ts";
import { requireHttps } from "./engine/https.ts";
import { observerContext } from "./engine/observer-context.ts";
import { Outbox } from "./engine/outbox.ts";
import { RetryPolicies } from "./engine/retry-policies.ts";
import { compileWebhooks } from "./engine/webhooks.ts";
import { HooklineError } from "./errors.ts";
import { silentLogger } from "./logger.ts";
import { AddressGuard } from "./net/address-guard.ts";
import { Redactor } from "./security/redact.ts";
import { SecretBox } from "./security/secret-box.ts";
import { integrationState } from "./store/integration-state.ts";
import { Tokens } from "./tokens.ts";
import { httpsOnly } from "./transport/https-only.ts";
import { transportFetch } from "./transport/transport-fetch.ts";

/** The plugins' container and what the config is checked against. */
export interface PluginRegistry {
  /** One child container per app: every plugin registered in it, nothing shared between apps. */
  container: DependencyContainer;
  registry: ConfigRegistry;
  observers: DeliveryObserver[];
}

const all = <T>(c: DependencyContainer, token: symbol | { toString(): string }): T[] =>
  c.isRegistered(token as never, true) ? c.resolveAll<T>(token as never) : [];

/**
 * Registers the core's own providers and every plugin in a fresh child container, and reads back
 * what the config is checked against (auth kinds, trigger kinds, sections, renderers, capabilities).
 * The first step of `compose`; `hookline schema` and `validate` need no more. The container is the
 * caller's: a tsyringe child container on the servers (`appContainer()`), a values-only one on the
 * edge worker, whose bundle has no room for tsyringe.
 *
 * @example const { registry } = pluginRegistry(defaultPlugins(), appContainer()); loadConfig(text, { file, env, registry });
 */
export function pluginRegistry(plugins: readonly Plugin[], container: DependencyContainer): PluginRegistry {
  container.register(Tokens.TriggerKind, { useValue: eventTrigger });
  for (const p of plugins) p.register(container);
  const observers = all<DeliveryObserver>(container, Tokens.DeliveryObserver);
  const registry: ConfigRegistry = {
    authProviders: all<AuthProvider>(container, Tokens.AuthProvider),
    triggerKinds: all<TriggerKind>(container, Tokens.TriggerKind),
    sections: all<ConfigSection>(container, Tokens.ConfigSection),
    renderers: all<Renderer>(container, Tokens.Renderer),
    capabilities: [
      ...observers.flatMap((o) => o.provides ?? []),
      // Webhooks that need consent are taken only where a plugin checks it.
      ...(container.isRegistered(Tokens.ConsentCheck, true) ? ["consent"] : []),
    ],
  };
  return { container, registry, observers };
}

/** Resolves every provider registered under a token of the app's container. */
export const resolveAll = all;

export interface ComposeOptions<S extends OutboxStore = OutboxStore> {
  /** The app's own container (see `pluginRegistry`). */
  container: DependencyContainer;
  /**
   * Makes the store over the store plugin's driver and every plugin's migrations: the whole
   * `SqlStore` on the servers, the publishing side only (`SqlOutboxStore`) on the edge worker.
   */
  store: (driver: SqlDriver, migrations: PluginMigrations[]) => S;
  /** The transport when no plugin registers a `TransportFactory` (the servers: ky over fetch). */
  defaultTransport: TransportFactory;
  /**
   * A loaded config, or one made from the registry (`loadConfig` of a file's text on the servers; the
   * edge's embedded data, which keeps the YAML parser out of its bundle).
   */
  config: HooklineConfig | ((registry: ConfigRegistry) => HooklineConfig);
  /** The environment `${VAR}` references read (adapters pass theirs). */
  env?: Record<string, string | undefined>;
  /** Makes a logger that redacts with the app's redactor; default: log nothing. */
  logger?: (redactor: Redactor) => Logger;
  /** The address the server listens on: beyond loopback, `engine.requireHttps` defaults to on. */
  host?: string;
}

/** What `compose` builds: everything an app is made of before workers and HTTP are added. */
export interface Composition<S extends OutboxStore = OutboxStore> extends PluginRegistry {
  config: HooklineConfig;
  env: Record<string, string | undefined>;
  redactor: Redactor;
  logger: Logger;
  store: S;
  transport: Transport;
  /** `fetch` over the transport, for plugins and integrations (token endpoints, JWKS). */
  fetch: (request: Request) => Promise<Response>;
  catalogue: Catalogue;
  retry: RetryPolicies;
  outbox: Outbox;
  failBranch: FailBranch;
  box?: SecretBox;
  /** Why plain http:// targets are refused, when they are. */
  requireHttps?: string;
  /** What an integration of this name may use of the app (makes its instance). */
  integrationContext(name: string, endpointPrefix: string): AuthContext;
}

/**
 * The one composition root: registry, config, redactor, logger, store, transport, the catalogue of
 * webhooks, integrations and triggers, retry policies, the fail branch, observers and the outbox.
 * `createHookline` adds the workers, HTTP and the admin catalogue on top; the CLI uses it through
 * `createHookline`; the edge worker calls it directly (no workers, the runtime's fetch).
 *
 * @example const parts = await compose([eta(), basic(), pglite()], { config, container: appContainer(), store: (db, m) => new SqlStore(db, m), defaultTransport: fetchTransport });
 */
export async function compose<S extends OutboxStore>(
  plugins: readonly Plugin[],
  options: ComposeOptions<S>,
): Promise<Composition<S>> {
  const parts = pluginRegistry(plugins, options.container);
  const { container, registry } = parts;
  const env = options.env ?? {};
  const config = typeof options.config === "function" ? options.config(registry) : options.config;

  const redactor = new Redactor();
  redactor.add(config.envValues ?? []);
  const logger = options.logger?.(redactor) ?? silentLogger;
  container.register(Tokens.Logger, { useValue: logger });
  container.register(Tokens.Config, { useValue: config });
  container.register(Tokens.Env, { useValue: env });

  if (!container.isRegistered(Tokens.SqlDriver, true))
    throw new HooklineError(
      "HOOKLINE_NO_STORE",
      "no store plugin registered: add pglite() or postgres() to plugins",
    );
  const store = options.store(
    container.resolve(Tokens.SqlDriver),
    all<PluginMigrations>(container, Tokens.Migrations),
  );

  const guard = new AddressGuard({ allowNetworks: config.engine.allowNetworks });
  const made = container.isRegistered(Tokens.TransportFactory, true)
    ? container.resolve(Tokens.TransportFactory)({ guard })
    : options.defaultTransport({ guard });
  const host = options.host ?? config.server.host;
  const httpsRequired = requireHttps(config.engine.requireHttps, host);
  const transport = httpsRequired ? httpsOnly(made) : made;
  const fetch = (request: Request) =>
    transportFetch(transport, request, config.engine.timeout, config.engine.maxResponseBytes);

  const kinds = new Map(registry.triggerKinds.map((k) => [k.kind, k]));
  const catalogue = new Catalogue(
    registry.renderers,
    config.triggers.map((t, i) =>
      kinds.get(t.kind)!.create(config.triggerOptions[i], {
        webhooks: t.webhooks,
        params: t.params,
        ...(t.consent ? { consent: t.consent } : {}),
      }),
    ),
  );
  catalogue.addCompiled(compileWebhooks(config, registry.renderers).values());
  // A trigger's `segments` is the core's to check, whatever its kind: set on the instance the kind
  // made (the same object: a kind may know its instances), asked through the plugin that keeps them.
  const audience = all<AudienceCheck>(container, Tokens.AudienceCheck).at(-1);
  config.triggers.forEach((t, i) => {
    const segments = t.segments;
    if (!segments) return;
    if (!audience)
      throw new HooklineError(
        "HOOKLINE_CONFIG",
        `triggers[${i}] names segments (${segments.join(", ")}), and no plugin checks segment membership: add the inbound plugin, which keeps profiles and segments`,
      );
    Object.assign(catalogue.triggers[i]!, { segments });
  });

  const box = await SecretBox.fromEnv(env.HOOKLINE_SECRET_KEY);
  const integrationContext = (name: string, endpointPrefix: string): AuthContext => ({
    name,
    endpointPrefix,
    logger,
    fetch,
    addSecrets: (values) => redactor.add(values),
    state: integrationState(store.sql, box, name),
  });
  const providers = new Map(registry.authProviders.map((p) => [p.kind, p]));
  for (const [name, base] of Object.entries(config.integrations)) {
    const instance = providers
      .get(base.kind)!
      .create(config.integrationOptions[name], integrationContext(name, base.endpointPrefix));
    // Certificates from URLs and the like are checked now: a bad one stops start-up, not the first send.
    await instance.ready?.();
    redactor.add(instance.secrets());
    await catalogue.setIntegration(
      { name, endpointPrefix: base.endpointPrefix, instance },
      { source: "config" },
    );
  }

  const retry = new RetryPolicies(
    config.engine,
    config.retryPolicies,
    all<RetryPolicy>(container, Tokens.RetryPolicy),
  );
  const outbox = new Outbox({
    store,
    catalogue,
    retry,
    audience:
      audience &&
      ((ids, segments, sql) => audience.members({ config, sql: sql ?? store.sql }, ids, segments)),
  });
  const failBranch = new FailBranch((event) => outbox.deliveriesFor(event));
  store.observe(parts.observers, observerContext({ catalogue, config, outbox, store, logger }));

  return {
    ...parts,
    config,
    env,
    redactor,
    logger,
    store,
    transport,
    fetch,
    catalogue,
    retry,
    outbox,
    failBranch,
    box,
    integrationContext,
    requireHttps: httpsRequired
      ? config.engine.requireHttps
        ? "engine.requireHttps: true"
        : `the server listens on ${host}, beyond loopback`
      : undefined,
  };
}
