import type { HooklineConfig } from "../config/schema.ts";
import type { EventInput } from "../model/event.ts";
import type { Catalogue } from "./catalogue.ts";
import type { FanOutSend, FanOutStarted } from "./fan-out.ts";
import type { Logger } from "./logger.ts";
import type { SqlDriver } from "./store.ts";
import type { Transport } from "./transport.ts";

/** What `publish` wrote: the run, and per event the deliveries it made. */
export interface PublishResult {
  runId: string;
  events: Array<{ id: string; type: string; deliveries: Array<{ id: string; webhook: string }> }>;
}

/** How a publish is traced. */
export interface PublishOptions {
  /**
   * The W3C `traceparent` of the request that published the events: each delivery keeps it, and
   * every attempt is sent as a child span of it. Absent or malformed: a new trace is started.
   */
  traceparent?: string | null;
  /**
   * Consent objectives (any one) every delivery of this publish needs, in addition to its webhook's
   * and its trigger's (a segment send's `consent`): a customer without one is skipped, not sent.
   */
  consent?: readonly string[];
}

/** Keeps secrets out of text: every value added is masked wherever the app writes text down. */
export interface Redaction {
  /** Adds secret values (tokens obtained later, keys read from files). */
  add(values: readonly string[]): void;
  redact(text: string): string;
  /** A copy of `value` with every string redacted (keys kept). */
  redactDeep<T>(value: T): T;
}

/**
 * What a plugin may use of the app it runs in, at run time: handed to `HttpRoutes.mount`,
 * `Service.start` and `StartupCheck.check`. Nothing else of the app is reachable from a plugin; a
 * plugin keeps its SQL in its own repository over `sql`.
 *
 * @example
 * const janitor: Service = {
 *   name: "janitor",
 *   async start(host) {
 *     await host.sql.query("DELETE FROM my_table WHERE at < now() - interval '7 days'");
 *     host.logger.log("info", "my_plugin.swept");
 *   },
 * };
 */
export interface PluginHost {
  /** The loaded config: plugins read their own section at `config.sections[key]`. */
  readonly config: HooklineConfig;
  /** The store's SQL connection: the core's tables and every plugin's own (their migrations). */
  readonly sql: SqlDriver;
  /** The store's driver, `pglite` or `postgres` (SQL that differs between them). */
  readonly storeName: string;
  /**
   * Writes one delivery per matching webhook for each event; resolves once they are durable. Give
   * the request's `traceparent` so that the trace runs on to the destinations.
   *
   * @example await host.publish(events, { traceparent: request.headers.get("traceparent") })
   */
  publish(events: EventInput | EventInput[], options?: PublishOptions): Promise<PublishResult>;
  /** Tells this process's delivery workers that deliveries were written (no-op where none run). */
  wake(): void;
  /**
   * Starts a send to a segment's members (one delivery per member and webhook, as one run whose job
   * writes them page by page); the same `sendId` again writes nothing. Servers only: the edge worker
   * refuses it.
   *
   * @example const { runId } = await host.fanOut({ segment: "vip", members, webhooks: ["crm"], sendId: "spring-sale" })
   */
  fanOut(send: FanOutSend): Promise<FanOutStarted>;
  readonly logger: Logger;
  readonly redactor: Redaction;
  /**
   * `fetch` over the app's transport (the SSRF guard, the engine's timeout, a response cap of at
   * least 1 MB): token endpoints, a JWKS with jose's `customFetch`.
   */
  fetch(request: Request): Promise<Response>;
  /** The app's transport itself, for requests that present a TLS identity. */
  readonly transport: Transport;
  /** What `${NAME}` references read (the process environment, a Worker's bindings). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted when the app stops: loops end, waits return. */
  readonly signal: AbortSignal;
  /** Webhooks, integrations and triggers: read them, or add a plugin's own webhooks. */
  readonly catalogue: Catalogue;
  /**
   * Whether this app sends (delivery workers may run here). False on the edge worker, which only
   * receives and writes deliveries for the servers to send.
   */
  readonly sends: boolean;
}
