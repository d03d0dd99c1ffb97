import "reflect-metadata";
import { type DependencyContainer, container as rootContainer } from "tsyringe";
import { ManagedConfig } from "./admin/managed.ts";
import { type Composition, compose, resolveAll } from "./compose.ts";
import { loadConfig } from "./config/load.ts";
import type { HooklineConfig } from "./config/schema.ts";
import type { CompiledWebhook, IntegrationRuntime } from "./contracts/catalogue.ts";
import type { ConsentCheck } from "./contracts/consent.ts";
import type { HttpRoutes, PluginMigrations, Service, StartupCheck } from "./contracts/extension.ts";
import type { SegmentMembers } from "./contracts/fan-out.ts";
import type { PluginHost, PublishOptions, PublishResult } from "./contracts/host.ts";
import type { Logger } from "./contracts/logger.ts";
import type { Plugin } from "./contracts/plugin.ts";
import type { ProfileReader, StoredProfiles } from "./contracts/profiles.ts";
import type { Transport } from "./contracts/transport.ts";
import { attemptBatch } from "./engine/batch.ts";
import { ConsentScreen, refuseUncheckedConsent } from "./engine/consent.ts";
import { Deliverer } from "./engine/deliver.ts";
import { startFanOut } from "./engine/fan-out.ts";
import { assertHttpsTargets } from "./engine/https.ts";
import { JobRunner } from "./engine/jobs.ts";
import type { Outbox } from "./engine/outbox.ts";
import { runEndedEvents } from "./engine/run-events.ts";
import { Worker } from "./engine/worker.ts";
import { pluginHost } from "./host.ts";
import { createHttpApp } from "./http/app.ts";
import type { EventInput } from "./model/event.ts";
import type { AddressGuard } from "./net/address-guard.ts";
import type { Redactor } from "./security/redact.ts";
import { readGauges } from "./store/gauges.ts";
import { managedEntries } from "./store/managed-entries.ts";
import { SqlStore } from "./store/sql-store.ts";
import { cached, PrometheusMetrics } from "./telemetry/prometheus.ts";
import { Telemetry } from "./telemetry/telemetry.ts";
import { Tokens } from "./tokens.ts";
import { fetchTransport } from "./transport/fetch-transport.ts";

/**
 * A fresh container for one app: a child of tsyringe's root, so apps in one process share nothing.
 *
 * @example pluginRegistry(defaultPlugins(), appContainer())
 */
export const appContainer = (): DependencyContainer => rootContainer.createChildContainer();

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

/**
 * One hookline app: `compose` (config, store, catalogue, outbox …) plus what a server runs — the
 * deliverer and its workers, the admin catalogue and the HTTP app. Nothing runs until `start()`.
 *
 * @example
 * const app = await createHookline({ config: { text, file: "hookline.yaml" }, plugins: [eta(), basic(), pglite()] });
 * await app.start();
 * await app.publish({ type: "purchase", customer: { id: "c1", email: "a@b.c" } });
 */
export async function createHookline(options: HooklineOptions): Promise<Hookline> {
  const given = options.config;
  const c = await compose(options.plugins, {
    ...options,
    config:
      "text" in given
        ? (registry) => loadConfig(given.text, { file: given.file, env: options.env ?? {}, registry })
        : given,
    container: appContainer(),
    store: (driver, migrations) => new SqlStore(driver, migrations),
    defaultTransport: (deps) => fetchTransport({ guard: deps.guard as AddressGuard }),
  });
  const { config, catalogue, store, logger } = c;
  // GET /metrics reads this app's own meter; with metrics off, instruments go to a global SDK if any.
  const prometheus = config.metrics.enabled ? new PrometheusMetrics() : undefined;
  const telemetry = new Telemetry({ meterProvider: prometheus?.meterProvider });
  telemetry.observeGauges(
    cached(
      async () => ({ ...(await readGauges(store.sql)), webhooks: [...catalogue.webhooks.keys()] }),
      config.metrics.cache,
    ),
  );
  const deliverer = new Deliverer({
    catalogue,
    transport: c.transport,
    retry: c.retry,
    redactor: c.redactor,
    logger,
    timeoutMs: config.engine.timeout,
    maxResponseBytes: config.engine.maxResponseBytes,
    failBranch: c.failBranch,
    telemetry,
  });
  const consentCheck = resolveAll<ConsentCheck>(c.container, Tokens.ConsentCheck).at(-1);
  // A webhook that needs consent where no plugin checks it could only ever be skipped: refused now.
  if (!consentCheck)
    try {
      refuseUncheckedConsent(config);
    } catch (e) {
      await store.close().catch(() => undefined);
      throw e;
    }
  const consent = new ConsentScreen({
    catalogue,
    check: consentCheck,
    sql: store.sql,
    failBranch: c.failBranch,
  });
  const worker = new Worker({
    store,
    attempt: (d, signal) => deliverer.attempt(d, signal),
    logger,
    concurrency: config.engine.concurrency,
    leaseMs: config.engine.lease,
    bulkMaxWaitMs: config.engine.bulkMaxWait,
    pollIntervalMs: config.engine.pollInterval,
    owner: options.workerId,
    abortAfter: config.engine.abortAfter,
    pauseAfterMs: config.engine.pauseAfter,
    ended: (ds) => {
      telemetry.ended(ds);
      return c.failBranch.ofEnded(ds);
    },
    telemetry,
    onAborted: (ended) => {
      c.outbox
        .publish(runEndedEvents(ended))
        .catch((e) => logger.log("error", "run.event_failed", { error: (e as Error).message }));
    },
    batchSizeOf: (w) => catalogue.webhooks.get(w)?.config.batch?.size,
    beforeDispatch: async (claimed) => {
      if (claimed.some((d) => !catalogue.webhooks.has(d.webhook))) await catalogue.reload();
    },
    attemptBatch: (ds, signal) =>
      attemptBatch(deliverer, catalogue.webhooks.get(ds[0]!.webhook)!, ds, signal),
    screen: (claimed) => consent.screen(claimed),
  });
  c.outbox.onEnqueued(() => worker.wake());
  // Send at once: what this process publishes goes straight to its worker's free slots, written
  // already leased to it (no claim); ordered streams, policies, delays and batches go through claims.
  if (config.engine.sendAtOnce)
    c.outbox.sendAtOnce({
      offer(rows) {
        const fit = rows.filter(
          (d) =>
            d.orderingKey == null &&
            d.policy == null &&
            !d.bulk &&
            !d.delayMs &&
            // Consent is checked as a claim is dispatched: such deliveries go through a claim.
            d.context.consent === undefined &&
            !catalogue.webhooks.get(d.webhook)?.config.batch &&
            !catalogue.webhooks.get(d.webhook)?.config.consent,
        );
        const held = fit.length > 0 ? worker.reserve(fit.length) : 0;
        if (held === 0) return undefined;
        return {
          lease: {
            owner: worker.owner,
            leaseMs: config.engine.lease,
            ids: new Set(fit.slice(0, held).map((d) => d.id)),
          },
          accept: (leased) => worker.accept(leased, held),
          cancel: () => worker.accept([], held),
        };
      },
    });
  const managed = new ManagedConfig({
    entries: managedEntries(store.sql),
    box: c.box,
    config,
    providers: new Map(c.registry.authProviders.map((p) => [p.kind, p])),
    renderers: c.registry.renderers,
    catalogue,
    retry: c.retry,
    redactor: c.redactor,
    logger,
    context: c.integrationContext,
    capabilities: c.registry.capabilities,
    requireHttps: c.requireHttps !== undefined,
  });
  // A worker that claims a delivery of a webhook created a moment ago elsewhere reloads before failing it.
  catalogue.addReloader(() => managed.refresh());
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
  const app = new Hookline(c, {
    deliverer,
    worker,
    managed,
    adminToken: options.adminToken,
    telemetry,
    prometheus,
  });
  // What the runtime must be able to do for this config (mTLS where fetch cannot present a
  // certificate…) is checked now, before anything is served or sent, never at the first delivery.
  for (const check of resolveAll<StartupCheck>(c.container, Tokens.StartupCheck)) {
    try {
      await check.check(app.host);
    } catch (e) {
      await app.stop(0).catch(() => undefined);
      throw e;
    }
  }
  return app;
}

/** A running (or ready) hookline app. */
export class Hookline {
  readonly container: DependencyContainer;
  readonly config: HooklineConfig;
  readonly store: SqlStore;
  readonly outbox: Outbox;
  readonly deliverer: Deliverer;
  readonly worker: Worker;
  /** Works on runs' jobs (bulk retries, replays) alongside the worker. */
  readonly jobs: JobRunner;
  /** Webhooks, integrations and triggers: the config's, the admin API's and plugins'. */
  readonly catalogue: Composition["catalogue"];
  readonly webhooks: ReadonlyMap<string, CompiledWebhook>;
  readonly integrations: ReadonlyMap<string, IntegrationRuntime>;
  readonly redactor: Redactor;
  readonly logger: Logger;
  /** Integrations and webhooks of the admin API (stored, secrets sealed). */
  readonly managed: ManagedConfig;
  /** The HTTP transport (SSRF guard, timeouts, TLS identities). */
  readonly transport: Transport;
  /** Plain http:// targets are refused (`engine.requireHttps`, or its default for the listen host). */
  readonly requireHttps: boolean;
  /** `fetch` over the transport (the SSRF guard, the engine's timeout, a response cap of at least 1 MB). */
  readonly outboundFetch: (request: Request) => Promise<Response>;
  /** Metrics and traces (OpenTelemetry): what the engine records into. */
  readonly telemetry: Telemetry;
  /** The meter `GET /metrics` serves (absent with `metrics.enabled: false`). */
  readonly metrics?: PrometheusMetrics;
  /** What plugins get of this app (routes, services, start-up checks). */
  readonly host: PluginHost;
  /** Stored customer profiles, when a plugin keeps them (`Tokens.ProfileReader`). */
  readonly profiles?: StoredProfiles;
  /** The hono app: `fetch(request)` serves the events API, the admin API and health. */
  readonly http: ReturnType<typeof createHttpApp>;
  private readonly abort = new AbortController();
  private readonly services: Service[];
  /** Started with `workers: false` (readiness: none to check). */
  private workersOff = false;

  constructor(
    private readonly parts: Composition<SqlStore>,
    run: {
      deliverer: Deliverer;
      worker: Worker;
      managed: ManagedConfig;
      adminToken?: string;
      telemetry: Telemetry;
      prometheus?: PrometheusMetrics;
    },
  ) {
    this.container = parts.container;
    this.config = parts.config;
    this.store = parts.store;
    this.outbox = parts.outbox;
    this.deliverer = run.deliverer;
    this.worker = run.worker;
    this.jobs = new JobRunner(parts.store, run.worker.owner, parts.logger, () => run.worker.wake());
    this.catalogue = parts.catalogue;
    this.webhooks = parts.catalogue.webhooks;
    this.integrations = parts.catalogue.integrations;
    this.redactor = parts.redactor;
    this.logger = parts.logger;
    this.managed = run.managed;
    this.telemetry = run.telemetry;
    this.metrics = run.prometheus;
    this.transport = parts.transport;
    this.requireHttps = parts.requireHttps !== undefined;
    this.outboundFetch = parts.fetch;
    const segments = resolveAll<SegmentMembers>(parts.container, Tokens.SegmentMembers).at(-1);
    this.host = pluginHost(parts, {
      signal: this.abort.signal,
      wake: () => run.worker.wake(),
      sends: true,
      fanOut: (send) =>
        startFanOut(
          {
            store: parts.store,
            catalogue: parts.catalogue,
            retry: parts.retry,
            config: parts.config,
            sql: parts.store.sql,
            segments,
            wakeJobs: () => this.jobs.wake(),
          },
          send,
        ),
    });
    this.services = resolveAll<Service>(parts.container, Tokens.Service);
    const profiles = resolveAll<ProfileReader>(parts.container, Tokens.ProfileReader).at(-1);
    if (profiles) this.profiles = { customer: (query) => profiles.customer(parts.store.sql, query) };
    this.http = createHttpApp(this, {
      adminToken: run.adminToken,
      routes: resolveAll<HttpRoutes>(parts.container, Tokens.HttpRoutes),
      host: this.host,
      readiness: {
        migrations: resolveAll<PluginMigrations>(parts.container, Tokens.Migrations),
        workers: () => (this.workersOff ? "off" : this.worker.isRunning ? "running" : "stopped"),
      },
      metrics: {
        scrape: run.prometheus ? () => run.prometheus!.scrape() : undefined,
        tokens: parts.config.metrics.token ? [parts.config.metrics.token] : [],
        telemetry: run.telemetry,
      },
    });
  }

  /**
   * Serves a request (any runtime's server can call this). `env` is what the server passes along: on
   * Node, Bun and Deno the adapters give the socket address there, which IP allowlists check.
   */
  fetch = (request: Request, env?: unknown): Response | Promise<Response> => this.http.fetch(request, env);

  /**
   * Writes one delivery per matching webhook for each event; resolves once they are durable. Their
   * attempts are traced as children of `options.traceparent` (a caller's span), else of a new trace.
   */
  publish(events: EventInput | EventInput[], options?: PublishOptions): Promise<PublishResult> {
    return this.outbox.publish(events, options);
  }

  /**
   * Starts the delivery workers and the triggers that are their own source. With `requireHttps`, a
   * config whose webhook URLs or endpoint prefixes are plain http:// is refused first (nothing starts).
   */
  async start(options: { workers?: boolean } = {}): Promise<void> {
    const why = this.parts.requireHttps;
    if (why) assertHttpsTargets(this.config, why, (t) => this.redactor.redact(t));
    this.workersOff = options.workers === false;
    if (options.workers !== false) {
      this.worker.start();
      this.jobs.start();
    }
    for (const s of this.services) await s.start(this.host);
    // Other processes sharing the store pick up admin-API changes within a couple of seconds.
    const refresh = setInterval(() => {
      this.managed
        .refresh()
        .catch((e) => this.logger.log("warn", "config.reload_failed", { error: (e as Error).message }));
    }, 2_000);
    this.abort.signal.addEventListener("abort", () => clearInterval(refresh));
    for (const t of this.catalogue.triggers) {
      await t.start?.({
        fire: async (w, e, p, o) => void (await this.outbox.fire(w, e, p, t.consent, o?.bulk)),
        signal: this.abort.signal,
        host: this.host,
      });
    }
    this.logger.log("info", "app.started", {
      webhooks: [...this.webhooks.keys()],
      worker: this.worker.owner,
      requireHttps: this.requireHttps,
    });
  }

  /** Stops triggers and workers (finishing what is in flight), closes integrations, transport and store. */
  async stop(graceMs = 10_000): Promise<void> {
    this.abort.abort();
    for (const t of this.catalogue.triggers) await t.stop?.();
    for (const s of this.services) await s.stop?.();
    await this.jobs.stop();
    await this.worker.stop(graceMs);
    await this.catalogue.close();
    await this.parts.transport.close?.();
    await this.store.close();
  }
}
