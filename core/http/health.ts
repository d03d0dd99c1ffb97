import { Hono } from "hono";
import { z } from "zod";
import type { PluginMigrations } from "../contracts/extension.ts";
import type { SqlDriver } from "../contracts/sql.ts";
import { migrations as coreMigrations } from "../store/migrations.ts";
import type { AdminApp } from "./admin-app.ts";
import { HealthUp } from "./answer-schemas.ts";
import { jsonAnswer, requestIdOf } from "./respond.ts";
import { documented } from "./route-docs.ts";

/** What `/readyz` checks beyond the store: the migrations it should find applied, and the workers. */
export interface Readiness {
  /** Every plugin's migrations (the core's are known here). */
  readonly migrations: readonly PluginMigrations[];
  /** This process's delivery workers: claiming, stopped, or off (started with `workers: false`). */
  workers(): "running" | "stopped" | "off";
}

/** How long `/readyz` waits for the store before it calls it unreachable (a probe has its own timeout). */
const STORE_TIMEOUT_MS = 2_000;

const Check = z
  .object({
    status: z
      .enum(["ok", "failed", "skipped"])
      .describe("`skipped`: not checked, as a check before it failed"),
    error: z.string().optional().describe("why it failed"),
    missing: z
      .array(z.string())
      .optional()
      .describe("migrations not applied, as `plugin:version` (`core:12`, `inbound:3`)"),
    workers: z.enum(["running", "stopped", "off"]).optional().describe("`off`: this process runs none"),
  })
  .strict();
const CheckName = z.enum(["store", "migrations", "workers"]);
export const Readyz = z
  .object({
    status: z.enum(["ready", "not ready"]),
    failed: z.array(CheckName).describe("the checks that failed (empty when ready)"),
    checks: z.object({ store: Check, migrations: Check, workers: Check }).strict(),
    requestId: z.string(),
  })
  .strict();
type Readyz = z.infer<typeof Readyz>;
type CheckResult = Readyz["checks"]["store"];

/**
 * `GET /healthz` (liveness: 200 whenever the process serves, whatever its store does) and
 * `GET /readyz` (readiness: the store answers, every migration of the core and the plugins is
 * applied, the delivery workers claim; 503 naming each check that failed). A load balancer sends
 * traffic on `/readyz`; an orchestrator restarts a process on `/healthz`.
 *
 * @example http.route("/", healthRoutes(app, host.sql, { migrations, workers: () => "running" }))
 */
export function healthRoutes(app: AdminApp, sql: SqlDriver, readiness?: Readiness) {
  const http = new Hono();
  http.get(
    "/healthz",
    documented({
      summary: "Whether this process answers (liveness)",
      description:
        "200 whenever the process serves requests, whatever its store does: restart on its absence; route traffic on `/readyz`.",
      tags: ["Health"],
      answers: { 200: { description: "up", schema: HealthUp } },
    }),
    (c) => jsonAnswer(c, 200, { status: "ok", worker: app.worker.owner, inFlight: app.worker.active }),
  );
  http.get(
    "/readyz",
    documented({
      summary: "Whether this process can do its work (readiness)",
      description:
        "The store answers, every migration of the core and the plugins is applied, and the delivery workers claim (or this process runs none). 503 names the checks that failed.",
      tags: ["Health"],
      answers: {
        200: { description: "ready", schema: Readyz },
        503: { description: "not ready: `failed` names the checks", schema: Readyz },
      },
    }),
    async (c) => {
      const checks = await check(sql, readiness);
      const failed = CheckName.options.filter((name) => checks[name].status === "failed");
      const body: Readyz = {
        status: failed.length === 0 ? "ready" : "not ready",
        failed,
        checks,
        requestId: requestIdOf(c),
      };
      return jsonAnswer(c, failed.length === 0 ? 200 : 503, body);
    },
  );
  return http;
}

async function check(sql: SqlDriver, readiness?: Readiness): Promise<Readyz["checks"]> {
  const store = await reachable(sql);
  const migrations: CheckResult =
    store.status === "ok" ? await applied(sql, readiness?.migrations ?? []) : { status: "skipped" };
  const state = readiness?.workers() ?? "off";
  const workers: CheckResult =
    state === "stopped"
      ? { status: "failed", error: "the delivery workers are not claiming", workers: state }
      : { status: "ok", workers: state };
  return { store, migrations, workers };
}

async function reachable(sql: SqlDriver): Promise<CheckResult> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`the store did not answer within ${STORE_TIMEOUT_MS} ms`)),
      STORE_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([sql.query("SELECT 1"), late]);
    return { status: "ok" };
  } catch (e) {
    return { status: "failed", error: `store unreachable: ${(e as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Compares `hookline_migrations` with what the migrator would apply: ids as it records them
 * (`plugin:version`, the core's as `core:version`; core/store/migrator.ts).
 */
async function applied(sql: SqlDriver, plugins: readonly PluginMigrations[]): Promise<CheckResult> {
  const wanted = [{ plugin: "core", migrations: coreMigrations }, ...plugins].flatMap(
    ({ plugin, migrations }) => migrations.map((m) => `${plugin}:${m.version}`),
  );
  let done: Set<string>;
  try {
    done = new Set((await sql.query<{ id: string }>("SELECT id FROM hookline_migrations")).map((r) => r.id));
  } catch (e) {
    return { status: "failed", error: `migrations unreadable: ${(e as Error).message}`, missing: wanted };
  }
  const missing = wanted.filter((id) => !done.has(id));
  return missing.length === 0
    ? { status: "ok" }
    : { status: "failed", error: `${missing.length} migration(s) not applied`, missing };
}
