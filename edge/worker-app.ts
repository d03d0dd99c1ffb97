import type { ExecutionContext, HyperdriveBinding, WorkerEnv } from "../adapters/workerd/bindings.ts";
import { stringBindings } from "../adapters/workerd/bindings.ts";
import { MtlsBindings } from "../adapters/workerd/mtls.ts";
import type { WorkerdOptions } from "../adapters/workerd/runtime.ts";
import type { Plugin } from "../core/contracts/plugin.ts";
import type { SqlDriver } from "../core/contracts/store.ts";
import { HooklineError, StoreUnavailableError } from "../core/errors.ts";
import { jsonLogger } from "../core/logger.ts";
import { etaPrecompiled, type TemplateFn } from "../plugins/eta/precompile.ts";
import { postgresDriver } from "../plugins/postgres/index.ts";
import { type InboundApp, inboundApp } from "./compose.ts";
import type { EmbeddedConfig } from "./config.ts";
import { RequestScopedSql } from "./scoped-sql.ts";

export interface EdgeWorkerOptions extends WorkerdOptions {
  /** hookline.yaml as the build embeds it: checked, its `${NAME}` references left for the bindings. */
  config: EmbeddedConfig;
  /** The config's Eta templates, precompiled by the build: workerd forbids code generation. */
  templates: Readonly<Record<string, TemplateFn>>;
  /** Renderers and authentication kinds the config names besides Eta (the build picks them). */
  plugins?: readonly Plugin[];
}

/** The bindings the edge worker reads: Hyperdrive in production, a URL for local runs. */
export interface EdgeEnv extends WorkerEnv {
  HYPERDRIVE?: HyperdriveBinding;
  DATABASE_URL?: string;
  HOOKLINE_LOG_LEVEL?: string;
  HOOKLINE_EDGE_MAX_CONNECTIONS?: string;
}

/** A Worker module's default export. */
export interface WorkerModule {
  fetch(request: Request, env: EdgeEnv, ctx: ExecutionContext): Promise<Response>;
}

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8" },
  });

/** The receiving-endpoint contract's answer when nothing could be taken: 500 asks the sender to retry. */
const notReady = (code: string, description: string) =>
  json(500, { success: false, errors: [{ code, description }] });

/**
 * Connections open at once per isolate: unlimited behind Hyperdrive (it pools), 20 straight to a
 * server (local runs: a Postgres has ~100 slots for everyone), or `HOOKLINE_EDGE_MAX_CONNECTIONS`.
 */
function maxConnections(env: EdgeEnv): number {
  const given = Number(env.HOOKLINE_EDGE_MAX_CONNECTIONS);
  if (Number.isInteger(given) && given > 0) return given;
  return env.HYPERDRIVE ? Number.POSITIVE_INFINITY : 20;
}

function databaseUrl(env: EdgeEnv): string {
  const url = env.HYPERDRIVE?.connectionString ?? env.DATABASE_URL;
  if (!url)
    throw new HooklineError(
      "HOOKLINE_RUNTIME_CAPABILITY",
      "workerd: no store: bind Hyperdrive as HYPERDRIVE ([[hyperdrive]] in wrangler.toml) or set DATABASE_URL; the edge has no embedded store",
    );
  return url;
}

/**
 * The edge worker: hookline's inbound receivers (`/in/<path>`: activity-status and profile-update
 * endpoints with their authentication, IP allowlists and validation) as a workerd module, storing
 * through postgres.js over TCP (Hyperdrive in production). The app (`inboundApp`: no delivery
 * workers, admin API or transport) is built once per isolate, on its first request (workerd allows
 * no I/O at start-up), from the config and precompiled templates the build embedded; `hookline serve`
 * processes sharing the database send what the receivers publish. Only `/in/*` and `/healthz` are
 * served: the admin API stays on the servers.
 *
 * @example
 * import config from "hookline:edge/config"; import templates from "hookline:edge/templates";
 * export default edgeWorker({ config, templates, plugins: [velocity(), basic()] });
 */
export function edgeWorker(options: EdgeWorkerOptions): WorkerModule {
  let sql: RequestScopedSql | undefined;
  let ready: Promise<InboundApp> | undefined;

  const build = async (env: EdgeEnv, driver: SqlDriver): Promise<InboundApp> => {
    const level = (env.HOOKLINE_LOG_LEVEL ?? "info") as "info";
    const app = await inboundApp({
      config: options.config,
      env: stringBindings(env),
      driver,
      plugins: [...(options.plugins ?? []), etaPrecompiled(options.templates)],
      logger: (redactor) => jsonLogger({ write: (line) => console.log(line), redactor, level }),
    });
    // Capabilities are checked before the first request is served.
    new MtlsBindings(env, options.mtlsBindings).bind(app.host);
    return app;
  };

  return {
    async fetch(request, env, ctx) {
      const path = new URL(request.url).pathname;
      if (!path.startsWith("/in/") && path !== "/healthz") return notFound(path);
      let url: string;
      try {
        url = databaseUrl(env);
      } catch (e) {
        return startFailure(e);
      }
      const waitUntil = (p: Promise<unknown>) => ctx.waitUntil(p);
      sql ??= new RequestScopedSql({ maxConnections: maxConnections(env) });
      const scoped = sql;
      return scoped.run(
        // A connection lives for one request here: preparing statements would only add a round trip.
        () => postgresDriver({ url, max: 1, prepare: false }),
        async () => {
          if (!ready) {
            ready = build(env, scoped.driver);
            // Requests that arrive meanwhile wait on this one's work: it must outlive a client that hangs up.
            waitUntil(ready.catch(() => undefined));
          }
          const building = ready;
          let app: InboundApp;
          try {
            app = await awaitFromAnotherRequest(building);
          } catch (e) {
            // The next request tries again (unless another has already started a new attempt).
            if (ready === building) ready = undefined;
            return startFailure(e);
          }
          if (path === "/healthz") return health(app);
          // The inbound plugin's receivers, mounted with a host that does not send: each request gets
          // receiver state of its own (workerd refuses I/O across requests). The client's address (IP
          // allowlists) is Cloudflare's `cf-connecting-ip`, given as the servers' adapters give theirs.
          const remoteAddress = request.headers.get("cf-connecting-ip") ?? undefined;
          const answer = await app.fetch(request, { remoteAddress });
          return answer.status === 404 && !answer.headers.get("content-type")?.includes("json")
            ? notFound(path)
            : answer;
        },
        waitUntil,
      );
    },
  };
}

/** Up when the app is built and the store answers (as the servers' `/healthz`, without their workers). */
async function health(app: InboundApp): Promise<Response> {
  try {
    await app.store.sql.query("SELECT 1");
    return json(200, { status: "ok" });
  } catch {
    return json(503, { status: "store unavailable" });
  }
}

const notFound = (path: string) =>
  json(404, {
    success: false,
    errors: [{ code: "HOOKLINE_NOT_FOUND", description: `no inbound endpoint at ${path}` }],
  });

/**
 * Awaits a promise another request's work settles, keeping this request's context busy meanwhile:
 * workerd cancels a request with nothing of its own pending as hung.
 */
async function awaitFromAnotherRequest<T>(promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = () => {
    timer = setTimeout(tick, 25);
  };
  tick();
  try {
    return await promise;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Why the app could not be built, as the contract's 500 (the sender retries). The answer carries the
 * code; the log carries the whole message (it names bindings and config paths senders need not see).
 */
function startFailure(e: unknown): Response {
  const error = e as Error;
  console.error(
    JSON.stringify({ level: "error", message: "edge worker cannot start", error: error.message }),
  );
  if (e instanceof StoreUnavailableError)
    return notReady(e.code, "the store could not be reached; nothing was accepted, retry later");
  if (e instanceof HooklineError) return notReady(e.code, "the worker cannot start; see its log");
  return notReady("HOOKLINE_EDGE_START", "the worker cannot start; see its log");
}
