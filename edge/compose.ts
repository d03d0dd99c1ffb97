import type { DependencyContainer } from "tsyringe";
import {
  type Composition,
  compose,
  type PluginRegistry,
  pluginRegistry,
  resolveAll,
} from "../core/compose.ts";
import type { HooklineConfig } from "../core/config/schema.ts";
import type { HttpRoutes } from "../core/contracts/extension.ts";
import type { PluginHost } from "../core/contracts/host.ts";
import type { Logger } from "../core/contracts/logger.ts";
import type { OutboxStore } from "../core/contracts/outbox-store.ts";
import type { Plugin } from "../core/contracts/plugin.ts";
import type { SqlDriver } from "../core/contracts/store.ts";
import { HooklineError } from "../core/errors.ts";
import { pluginHost } from "../core/host.ts";
import { logAccess } from "../core/http/access-log.ts";
import { requestIdFrom } from "../core/http/request-id.ts";
import { withFields } from "../core/logger.ts";
import type { Redactor } from "../core/security/redact.ts";
import { SqlOutboxStore } from "../core/store/outbox-store.ts";
import { Tokens } from "../core/tokens.ts";
import { inbound } from "../plugins/inbound/index.ts";
import { type EmbeddedConfig, edgeConfig } from "./config.ts";
import { ValueContainer } from "./container.ts";
import { edgeFetchTransport } from "./fetch-transport.ts";

/**
 * The plugins the edge is made of: the inbound plugin (through its `inbound()` factory, as any app
 * hosts it) and `plugins` (renderers, authentication kinds), registered in the edge's values-only
 * container. The build checks the config against the same registry the worker loads it with.
 *
 * @example const { registry } = inboundParts([eta()]); loadConfig(text, { file, env, registry });
 */
export function inboundParts(plugins: readonly Plugin[]): PluginRegistry {
  return pluginRegistry(edgePlugins(plugins), new ValueContainer() as unknown as DependencyContainer);
}

const edgePlugins = (plugins: readonly Plugin[]) => [inbound(), ...plugins];

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

/** The edge's app: the composition, the port its plugins get, and the routes they mounted. */
export interface InboundApp {
  readonly config: HooklineConfig;
  readonly store: OutboxStore;
  readonly catalogue: Composition["catalogue"];
  readonly redactor: Redactor;
  readonly logger: Logger;
  /** What the inbound plugin gets: `sends` is false (no workers here). */
  readonly host: PluginHost;
  /** Serves the plugins' receivers (the worker passes only `/in/*` here); 404 for anything else. */
  fetch(request: Request, env?: unknown): Response | Promise<Response>;
}

/** A driver plugin for the connection the worker opened (postgres.js over Hyperdrive, per request). */
const driverPlugin = (driver: SqlDriver): Plugin => ({
  name: "edge-store",
  register: (c) => void c.register(Tokens.SqlDriver, { useValue: driver }),
});

/**
 * An inbound-only hookline, made by the same `compose()` as the servers: the config checked with the
 * Worker's bindings, the store (migrations checked), the catalogue and outbox (what received
 * activities fire is written as deliveries, which the servers send) and the integrations (made for
 * their start-up checks and secrets: nothing is sent from here). The store is its publishing side
 * only (`SqlOutboxStore`); no delivery workers, no admin API and no router: each plugin's receivers
 * answer through `HttpRoutes.receive`, with a host whose `sends` is false. It writes nothing of the
 * servers' shared configuration: their throughput policies stay as they are.
 *
 * @example
 * const app = await inboundApp({ config: embedded, env: stringBindings(env), driver, plugins });
 * await app.fetch(new Request("https://edge.example/in/esputnik", { method: "POST", body }));
 */
export async function inboundApp(options: InboundAppOptions): Promise<InboundApp> {
  const c = await compose([...edgePlugins(options.plugins), driverPlugin(options.driver)], {
    config: (registry) => edgeConfig(options.config, options.env, registry),
    env: options.env,
    logger: options.logger,
    container: new ValueContainer() as unknown as DependencyContainer,
    store: (driver, migrations) => new SqlOutboxStore(driver, migrations),
    defaultTransport: () => edgeFetchTransport(),
  });
  // Throughput policies are not written here: they limit sending, which the servers own and do (each
  // writes its config's at start-up); a cold start of the edge must not rewrite or remove them.
  // The servers own the schema: the edge checks it is as new as this build, and never migrates (its
  // bundle carries the migrations' names, not their SQL).
  await c.store.checkMigrated();
  // The edge never stops an app: an isolate ends with its last request.
  const host = pluginHost(c, { signal: new AbortController().signal, wake: () => undefined, sends: false });
  const routes = resolveAll<HttpRoutes>(c.container, Tokens.HttpRoutes);
  const routerOnly = routes.filter((r) => !r.receive).map((r) => r.name);
  if (routerOnly.length > 0)
    throw new HooklineError(
      "HOOKLINE_RUNTIME_CAPABILITY",
      `workerd: the edge serves receivers through HttpRoutes.receive; ${routerOnly.join(", ")} only mount on a router`,
    );
  // As on the servers: the request's id on its answer and on each of its lines, and an access line.
  const fetch = async (request: Request, env?: unknown): Promise<Response> => {
    const startedAt = performance.now();
    const id = requestIdFrom(request.headers.get("x-request-id"));
    const logger = withFields(c.logger, { requestId: id });
    let answer: Response | undefined;
    for (const r of routes) {
      answer = await r.receive!(request, host, env, logger);
      if (answer) break;
    }
    answer ??= new Response("Not Found", { status: 404 });
    answer.headers.set("X-Request-Id", id);
    logAccess(logger, {
      method: request.method,
      path: new URL(request.url).pathname,
      status: answer.status,
      elapsedMs: performance.now() - startedAt,
      contentLength: answer.headers.get("content-length"),
    });
    return answer;
  };
  return {
    config: c.config,
    store: c.store,
    catalogue: c.catalogue,
    redactor: c.redactor,
    logger: c.logger,
    host,
    fetch,
  };
}
