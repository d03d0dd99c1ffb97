import type { Hono } from "hono";
import type { Hookline } from "../app.ts";

/** A plugin's own schema changes, applied after the core's, each once, in version order. */
export interface PluginMigrations {
  /** Names the series (recorded as `plugin:version`); never change it once released. */
  readonly plugin: string;
  readonly migrations: ReadonlyArray<{ version: number; name: string; sql: string }>;
}

/** Routes a plugin adds to the HTTP app (inbound receivers, admin endpoints). */
export interface HttpRoutes {
  readonly name: string;
  /** Mounts routes on the app's hono instance; `/v1/*` routes get the admin token check. */
  mount(http: Hono, app: Hookline): void;
}

/** Something a plugin runs beside the delivery workers (a sender loop, a poller). */
export interface Service {
  readonly name: string;
  start(app: Hookline, signal: AbortSignal): void | Promise<void>;
  /** Finishes or releases in-flight work. */
  stop?(): void | Promise<void>;
}
