import type { Hono } from "hono";
import type { HooklineConfig, WebhookConfig } from "../config/schema.ts";
import type { EventInput } from "../model/event.ts";
import type { ConsoleSection } from "./console.ts";
import type { PluginHost } from "./host.ts";
import type { Logger } from "./logger.ts";
import type { ContributedRouteDoc } from "./route-doc.ts";
import type { DeliveryOutcome, SqlExecutor } from "./store.ts";
import type { TriggerInstance } from "./trigger.ts";

/** A plugin's own schema changes, applied after the core's, each once, in version order. */
export interface PluginMigrations {
  /** Names the series (recorded as `plugin:version`); never change it once released. */
  readonly plugin: string;
  readonly migrations: ReadonlyArray<{ version: number; name: string; sql: string }>;
}

/**
 * Routes a plugin adds to the HTTP app (inbound receivers, admin endpoints). Each route documents
 * itself for `GET /openapi.json`: `documented({ summary, answers, errors })` first among its handlers
 * (bodies and queries checked by `json()` and `query()` document themselves); what the plugin serves
 * beneath a wildcard route of its own is described in `openapi`.
 */
export interface HttpRoutes {
  readonly name: string;
  /** Mounts routes on the app's hono instance; `/v1/*` routes get the admin token check. */
  mount(http: Hono, host: PluginHost): void;
  /**
   * Documentation of routes the router cannot list one by one (`/in/*` answers every endpoint's
   * path): each `{ method, path, doc }` as the document should show it (`/in/:path`). Called once,
   * when the document is first asked for.
   */
  openapi?(): readonly ContributedRouteDoc[];
  /**
   * The plugin's sections of the console (`/console/<path>`, with a navigation entry), built with the
   * console's kit as the core's are. Called once, when the server's app is made; keep the pages in a
   * module of their own so that a host serving receivers only (the edge worker) does not carry them.
   */
  console?(): readonly ConsoleSection[];
  /**
   * The same receivers without a router, for a host that serves nothing else (the edge worker, which
   * then carries no router): the answer for a request to one of them, `undefined` for any other
   * path. `env` is the runtime's per-request environment (`remoteAddress`); `logger` the request's
   * (`requestLogger(c)`: its lines carry the request id), else the host's. Routes that offer it
   * should mount their receivers through it, so that both serve alike.
   */
  receive?(request: Request, host: PluginHost, env?: unknown, logger?: Logger): Promise<Response | undefined>;
}

/** Something a plugin runs beside the delivery workers (a sender loop, a poller). */
export interface Service {
  readonly name: string;
  /** Starts it; `host.signal` aborts when the app stops. */
  start(host: PluginHost): void | Promise<void>;
  /** Finishes or releases in-flight work. */
  stop?(): void | Promise<void>;
}

/**
 * A check run at the end of `createHookline`, before anything is served or sent: a runtime adapter
 * names what this runtime lacks for the config (e.g. mTLS without a way to give fetch a certificate),
 * so that the app fails at start-up, never at the first delivery.
 */
export interface StartupCheck {
  readonly name: string;
  /** Throws (a `HooklineError` naming the runtime and the missing piece) when the app cannot run here. */
  check(host: PluginHost): void | Promise<void>;
}

/** What a delivery observer may look up while it observes. */
export interface ObserverContext {
  /** A webhook's config as it is now (config file or admin API), or undefined if it is gone. */
  webhook(name: string): WebhookConfig | undefined;
  /** Writes the deliveries these events make (their triggers' webhooks) in this transaction. */
  publish(tx: SqlExecutor, events: EventInput[]): Promise<void>;
  /**
   * Runs `fn` once the transaction has committed (not if it rolls back, nor if this observer's
   * savepoint was undone): e.g. waking a sender whose work just became visible.
   */
  afterCommit(fn: () => void): void;
  logger: Logger;
  /** The app's config (its plugins' sections too). */
  readonly config: HooklineConfig;
  /** The triggers as they are now (config file and admin API): e.g. which segments they watch. */
  readonly triggers: readonly TriggerInstance[];
}

/**
 * Sees every delivery outcome as it is recorded, inside the transaction that records it: what it
 * writes commits with the outcome or not at all, once per outcome (a result from a lost lease is
 * not applied, so not observed). Activity-status callbacks (outcomes become DELIVERED/UNDELIVERED
 * activities) and response mapping (a response's values copied into the customer's profile) are
 * observers. An observer that throws is rolled back alone (a savepoint) and logged; the outcomes are
 * recorded all the same.
 */
export interface DeliveryObserver {
  readonly name: string;
  /** Capabilities it gives, checked at start-up against what the config asks for (e.g. `profiles`). */
  readonly provides?: readonly string[];
  /**
   * Which outcomes it wants (cheap, no I/O); when none of a write's outcomes is wanted it is not
   * called at all (sparing its savepoint). Default: every outcome.
   */
  accepts?(outcome: DeliveryOutcome, context: ObserverContext): boolean;
  observe(tx: SqlExecutor, outcomes: readonly DeliveryOutcome[], context: ObserverContext): Promise<void>;
}
