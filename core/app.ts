import "reflect-metadata";
import { type DependencyContainer, container as rootContainer } from "tsyringe";
import { type ConfigRegistry, loadConfig } from "./config/load.ts";
import type { HooklineConfig } from "./config/schema.ts";
import type { AuthContext, AuthProvider } from "./contracts/auth.ts";
import type { ConfigSection } from "./contracts/config-section.ts";
import type {
  DeliveryObserver,
  HttpRoutes,
  PluginMigrations,
  Service,
  StartupCheck,
} from "./contracts/extension.ts";
import type { Logger } from "./contracts/logger.ts";
import type { Renderer } from "./contracts/renderer.ts";
import type { RetryPolicy } from "./contracts/retry.ts";
import type { EndedDelivery } from "./contracts/store.ts";
import type { Transport, TransportFactory } from "./contracts/transport.ts";
import type { TriggerInstance, TriggerKind } from "./contracts/trigger.ts";
import { attemptBatch } from "./engine/batch.ts";
import { Deliverer, type FailedDelivery, type IntegrationRuntime } from "./engine/deliver.ts";
import { eventTrigger } from "./engine/event-trigger.ts";
import { assertHttpsTargets, requireHttps } from "./engine/https.ts";
import { acceptEvent, Outbox, type PublishResult } from "./engine/outbox.ts";
import { retryContract } from "./engine/retry.ts";
import { parseResponse } from "./engine/scenario.ts";
import { type CompiledWebhook, compileWebhooks } from "./engine/webhooks.ts";
import { Worker } from "./engine/worker.ts";
import { HooklineError } from "./errors.ts";
import { createHttpApp } from "./http/app.ts";
import { silentLogger } from "./logger.ts";
import { ManagedConfig } from "./managed.ts";
import { integrationState } from "./managed-state.ts";
import type { EventInput, HooklineEvent } from "./model/event.ts";
import { AddressGuard } from "./net/address-guard.ts";
import type { Plugin } from "./contracts/plugin.ts";
import { Redactor } from "./security/redact.ts";
import { SecretBox } from "./security/secret-box.ts";
import { SqlStore } from "./store/sql-store.ts";
import { Tokens } from "./tokens.ts";
import { fetchTransport } from "./transport/fetch-transport.ts";
import { httpsOnly } from "./transport/https-only.ts";

export interface HooklineOptions {
  /** A loaded config, or the text of one (with its file name, for messages). */
  config: HooklineConfig | { text: string; file: string };
  plugins: readonly Plugin[];
  /** The environment `${VAR}` references read (adapters pass theirs). */
  env?: Record<string, string | undefined>;
  /** Makes a logger that redacts with the app's redactor; default: log nothing. */
  logger?: (redactor: Redactor) => Logger;
  /** The admin API's bearer token; without it the admin API is open (loopback only, see serve). */
  adminToken?: string;
  /** Worker identity for leases (default random). */
  workerId?: string;
  /** Apply migrations now (default true); false leaves a lazy store unopened (rendering only). */
  migrate?: boolean;
  /**
   * The address the HTTP server listens on (default `server.host` of the config). Beyond loopback,
   * `engine.requireHttps` defaults to on.
   */
  host?: string;
}

const collect = <T>(c: DependencyContainer, token: symbol | { toString(): string }): T[] =>
  c.isRegistered(token as any, true) ? c.resolveAll<T>(token as any) : [];

/**
 * One hookline app: its own DI container, config, store, outbox, workers and HTTP app. Nothing runs
 * until `start()`.
 *
 * @example
 * const app = await createHookline({ config: { text, file: "hookline.yaml" }, plugins: [eta(), basic(), pglite()] });
 * await app.start();
 * await app.publish({ type: "purchase", customer: { id: "c1", email: "a@b.c" } });
 */
export async function createHookline(options: HooklineOptions): Promise<Hookline> {
  const c = rootContainer.createChildContainer();
  c.register(Tokens.TriggerKind, { useValue: eventTrigger });
  for (const p of options.plugins) p.register(c);

  const registry: ConfigRegistry = {
    authProviders: collect<AuthProvider>(c, Tokens.AuthProvider),
    triggerKinds: collect<TriggerKind>(c, Tokens.TriggerKind),
    sections: collect<ConfigSection>(c, Tokens.ConfigSection),
    renderers: collect<Renderer>(c, Tokens.Renderer),
  };
  const observers = collect<DeliveryObserver>(c, Tokens.DeliveryObserver);
  registry.capabilities = observers.flatMap((o) => o.provides ?? []);
  const config =
    "text" in options.config
      ? loadConfig(options.config.text, { file: options.config.file, env: options.env ?? {}, registry })
      : options.config;

  const redactor = new Redactor();
  redactor.add(config.envValues ?? []);
  const logger = options.logger?.(redactor) ?? silentLogger;
  c.register(Tokens.Logger, { useValue: logger });
  c.register(Tokens.Config, { useValue: config });
  c.register(Tokens.Env, { useValue: options.env ?? {} });

  if (!c.isRegistered(Tokens.SqlDriver, true)) {
    throw new HooklineError(
      "HOOKLINE_NO_STORE",
      "no store plugin registered: add pglite() or postgres() to plugins",
    );
  }
  const store = new SqlStore(c.resolve(Tokens.SqlDriver), collect<PluginMigrations>(c, Tokens.Migrations));
  const guard = new AddressGuard({ allowNetworks: config.engine.allowNetworks });
  const factory: TransportFactory = c.isRegistered(Tokens.TransportFactory, true)
    ? c.resolve(Tokens.TransportFactory)
    : (deps) => fetchTransport({ guard: deps.guard as AddressGuard });
  const host = options.host ?? config.server.host;
  const httpsRequired = requireHttps(config.engine.requireHttps, host);
  const transport = httpsRequired ? httpsOnly(factory({ guard })) : factory({ guard });

  const webhooks = compileWebhooks(config, registry.renderers);

  const providers = new Map(registry.authProviders.map((p) => [p.kind, p]));
  const integrations = new Map<string, IntegrationRuntime>();
  const box = await SecretBox.fromEnv(options.env?.HOOKLINE_SECRET_KEY);
  const context = (name: string, endpointPrefix: string): AuthContext => ({
    name,
    endpointPrefix,
    logger,
    fetch: viaTransport,
    addSecrets: (values) => redactor.add(values),
    state: integrationState(store.sql, box, name),
  });
  const viaTransport = (request: Request) =>
    transportFetch(transport, request, config.engine.timeout, config.engine.maxResponseBytes);
  for (const [name, base] of Object.entries(config.integrations)) {
    const provider = providers.get(base.kind)!;
    const instance = provider.create(config.integrationOptions[name], context(name, base.endpointPrefix));
    // Certificates from URLs and the like are checked now: a bad one stops start-up, not the first send.
    await instance.ready?.();
    redactor.add(instance.secrets());
    integrations.set(name, { name, endpointPrefix: base.endpointPrefix, instance });
  }

  const kinds = new Map(registry.triggerKinds.map((k) => [k.kind, k]));
  const triggers: TriggerInstance[] = config.triggers.map((t, i) =>
    kinds.get(t.kind)!.create(config.triggerOptions[i], { webhooks: t.webhooks, params: t.params }),
  );

  const retry: RetryPolicy = c.isRegistered(Tokens.RetryPolicy, true)
    ? c.resolve(Tokens.RetryPolicy)
    : retryContract(config.engine.retry);
  // The fail branch: a delivery that failed or halted raises `webhook.failed`, which triggers may route
  // to follow-up webhooks (an SMS when the email failed). `outbox` is set below, before any delivery runs.
  let outbox: Outbox;
  const failBranch = (f: FailedDelivery) => {
    // One level deep: a follow-up that fails raises nothing more (no chain of fallbacks failing in turn).
    if (f.delivery.eventType === "webhook.failed") return [];
    const context = f.delivery.context as { customer?: HooklineEvent["customer"] };
    const response = f.response
      ? { status: f.response.status, body: parseResponse("json", f.response.body) }
      : undefined;
    return outbox.deliveriesFor({
      id: `failed.${f.delivery.id}`,
      type: "webhook.failed",
      customer: context.customer?.id === undefined ? undefined : context.customer,
      data: {
        webhook: f.delivery.webhook,
        deliveryId: f.delivery.id,
        status: f.status,
        reason: f.reason,
        response,
        event: (f.delivery.context as { event?: unknown }).event,
      },
      timestamp: new Date().toISOString(),
    });
  };
  const failBranchOfEnded = (ended: EndedDelivery[]) =>
    ended.flatMap((e) => failBranch({ delivery: e, status: e.status, reason: e.reason }));
  const deliverer = new Deliverer({
    failBranch,
    webhooks,
    integrations,
    transport,
    retry,
    redactor,
    logger,
    timeoutMs: config.engine.timeout,
    maxResponseBytes: config.engine.maxResponseBytes,
  });
  const worker = new Worker({
    store,
    attempt: (d, signal) => deliverer.attempt(d, signal),
    logger,
    concurrency: config.engine.concurrency,
    leaseMs: config.engine.lease,
    pollIntervalMs: config.engine.pollInterval,
    owner: options.workerId,
    abortAfter: config.engine.abortAfter,
    pauseAfterMs: config.engine.pauseAfter,
    ended: failBranchOfEnded,
    onAborted: (ended) => {
      const events = ended.map((r) => ({
        type: r.paused ? "webhook.paused" : "webhook.aborted",
        id: (r.paused ? `paused.${r.webhook}.${Date.now()}` : `aborted.${r.webhook}.${r.runId}`)
          .replace(/[^A-Za-z0-9._:@-]/g, "-")
          .slice(0, 200),
        data: { webhook: r.webhook, runId: r.runId, reason: r.reason },
      }));
      outbox
        .publish(events)
        .catch((e) => logger.log("error", "raising webhook.aborted failed", { error: (e as Error).message }));
    },
    batchSizeOf: (w) => webhooks.get(w)?.config.batch?.size,
    attemptBatch: (ds, signal) => attemptBatch(deliverer, webhooks.get(ds[0]!.webhook)!, ds, signal),
  });
  const managed = new ManagedConfig({
    sql: store.sql,
    box,
    config,
    providers,
    renderers: registry.renderers,
    integrations,
    webhooks,
    triggers,
    redactor,
    logger,
    context,
    capabilities: registry.capabilities,
    requireHttps: httpsRequired,
  });
  outbox = new Outbox({ store, webhooks, triggers, retry, onEnqueued: () => worker.wake() });
  store.observe(observers, {
    webhook: (name) => webhooks.get(name)?.config,
    publish: async (tx, events) => {
      const now = new Date();
      await store.enqueueIn(
        tx,
        events.flatMap((e) => outbox.deliveriesFor(acceptEvent(e, now))),
      );
    },
    logger,
  });
  if (options.migrate !== false) {
    await store.migrate();
    await store.syncPolicies(
      Object.entries(config.policies).map(([name, p]) => ({
        name,
        concurrency: p.concurrency,
        // The config owns the limits it declares: a rate it leaves out is none.
        rate: p.rate ?? null,
      })),
    );
    await managed.load();
  }
  const app = new Hookline({
    container: c,
    config,
    store,
    outbox,
    deliverer,
    worker,
    webhooks,
    integrations,
    triggers,
    redactor,
    logger,
    transport,
    managed,
    adminToken: options.adminToken,
    requireHttps: httpsRequired
      ? config.engine.requireHttps
        ? "engine.requireHttps: true"
        : `the server listens on ${host}, beyond loopback`
      : undefined,
  });
  // What the runtime must be able to do for this config (mTLS where fetch cannot present a
  // certificate…) is checked now, before anything is served or sent, never at the first delivery.
  for (const check of collect<StartupCheck>(c, Tokens.StartupCheck)) {
    try {
      await check.check(app);
    } catch (e) {
      await app.stop(0).catch(() => undefined);
      throw e;
    }
  }
  return app;
}

/** Adapts the app's transport to a fetch-like function for plugins (token endpoints, logins). */
async function transportFetch(
  transport: Transport,
  request: Request,
  timeoutMs: number,
  maxResponseBytes: number,
): Promise<Response> {
  const headers: Record<string, string> = {};
  request.headers.forEach((v, k) => {
    headers[k] = v;
  });
  const body = request.method === "GET" || request.method === "HEAD" ? undefined : await request.text();
  const r = await transport.send({
    method: request.method as "GET",
    url: request.url,
    headers,
    body,
    timeoutMs,
    maxResponseBytes: Math.max(maxResponseBytes, 1_048_576),
    signal: request.signal,
  });
  return new Response(r.status === 204 || r.status === 304 ? null : r.body, {
    status: r.status,
    headers: r.headers,
  });
}

interface HooklineParts {
  container: DependencyContainer;
  config: HooklineConfig;
  store: SqlStore;
  outbox: Outbox;
  deliverer: Deliverer;
  worker: Worker;
  webhooks: Map<string, CompiledWebhook>;
  integrations: Map<string, IntegrationRuntime>;
  triggers: TriggerInstance[];
  redactor: Redactor;
  logger: Logger;
  transport: Transport;
  managed: ManagedConfig;
  adminToken?: string;
  /** Why plain http:// targets are refused, when they are (`engine.requireHttps`). */
  requireHttps?: string;
}

/** A running (or ready) hookline app. */
export class Hookline {
  readonly container: DependencyContainer;
  readonly config: HooklineConfig;
  readonly store: SqlStore;
  readonly outbox: Outbox;
  readonly deliverer: Deliverer;
  readonly worker: Worker;
  readonly webhooks: ReadonlyMap<string, CompiledWebhook>;
  readonly integrations: ReadonlyMap<string, IntegrationRuntime>;
  readonly redactor: Redactor;
  readonly logger: Logger;
  /** Integrations and webhooks of the admin API (stored, secrets sealed). */
  readonly managed: ManagedConfig;
  /** The HTTP transport (SSRF guard, timeouts, TLS identities), for plugins that send requests too. */
  readonly transport: Transport;
  /** Plain http:// targets are refused (`engine.requireHttps`, or its default for the listen host). */
  readonly requireHttps: boolean;
  /**
   * `fetch` over the transport (the SSRF guard, the engine's timeout, a response cap of at least
   * 1 MB), for plugins that fetch with libraries taking a fetch (a JWKS with jose's `customFetch`).
   */
  readonly outboundFetch: (request: Request) => Promise<Response>;
  /** The hono app: `fetch(request)` serves the events API, the admin API and health. */
  readonly http: ReturnType<typeof createHttpApp>;
  private readonly parts: HooklineParts;
  private readonly abort = new AbortController();
  private readonly services: Service[];

  constructor(parts: HooklineParts) {
    this.parts = parts;
    this.container = parts.container;
    this.config = parts.config;
    this.store = parts.store;
    this.outbox = parts.outbox;
    this.deliverer = parts.deliverer;
    this.worker = parts.worker;
    this.webhooks = parts.webhooks;
    this.integrations = parts.integrations;
    this.redactor = parts.redactor;
    this.logger = parts.logger;
    this.managed = parts.managed;
    this.transport = parts.transport;
    this.requireHttps = parts.requireHttps !== undefined;
    this.outboundFetch = (request) =>
      transportFetch(
        parts.transport,
        request,
        parts.config.engine.timeout,
        parts.config.engine.maxResponseBytes,
      );
    this.services = collect<Service>(parts.container, Tokens.Service);
    this.http = createHttpApp(this, {
      adminToken: parts.adminToken,
      routes: collect<HttpRoutes>(parts.container, Tokens.HttpRoutes),
    });
  }

  /** Serves a request (any runtime's server can call this). */
  /**
   * Serves a request (any runtime's server can call this). `env` is what the server passes along: on
   * Node, Bun and Deno the adapters give the socket address there, which IP allowlists check.
   */
  fetch = (request: Request, env?: unknown): Response | Promise<Response> => this.http.fetch(request, env);

  /** Writes one delivery per matching webhook for each event; resolves once they are durable. */
  publish(events: EventInput | EventInput[]): Promise<PublishResult> {
    return this.outbox.publish(events);
  }

  /**
   * Starts the delivery workers and the triggers that are their own source. With `requireHttps`, a
   * config whose webhook URLs or endpoint prefixes are plain http:// is refused first (nothing starts).
   */
  async start(options: { workers?: boolean } = {}): Promise<void> {
    const why = this.parts.requireHttps;
    if (why) assertHttpsTargets(this.config, why, (t) => this.redactor.redact(t));
    if (options.workers !== false) this.worker.start();
    for (const s of this.services) await s.start(this, this.abort.signal);
    // Other processes sharing the store pick up admin-API changes within a couple of seconds.
    const refresh = setInterval(() => {
      this.managed
        .refresh()
        .catch((e) =>
          this.logger.log("warn", "reloading managed config failed", { error: (e as Error).message }),
        );
    }, 2_000);
    this.abort.signal.addEventListener("abort", () => clearInterval(refresh));
    for (const t of this.parts.triggers) {
      await t.start?.({
        fire: async (w, e, p) => void (await this.outbox.fire(w, e, p)),
        signal: this.abort.signal,
      });
    }
    this.logger.log("info", "hookline started", {
      webhooks: [...this.webhooks.keys()],
      worker: this.worker.owner,
      requireHttps: this.requireHttps,
    });
  }

  /** Stops triggers and workers (finishing what is in flight), closes integrations, transport and store. */
  async stop(graceMs = 10_000): Promise<void> {
    this.abort.abort();
    for (const t of this.parts.triggers) await t.stop?.();
    for (const s of this.services) await s.stop?.();
    await this.worker.stop(graceMs);
    for (const i of this.integrations.values()) await i.instance.close?.();
    await this.parts.transport.close?.();
    await this.store.close();
  }
}
