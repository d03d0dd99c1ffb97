import type { Hookline } from "../../core/app.ts";
import { TransportError } from "../../core/contracts/transport.ts";
import { HooklineError } from "../../core/errors.ts";
import { SecretBox } from "../../core/security/secret-box.ts";
import { Tokens } from "../../core/tokens.ts";
import { type Authenticator, type AuthenticatorOptions, authenticator } from "./auth.ts";
import { parseRanges, type Range } from "./client-address.ts";
import { authSecrets, type InboundEndpoint, type InboundSection } from "./config.ts";
import type { InboundHost } from "./receive.ts";

/** An endpoint ready to serve: its config, authenticator and parsed address ranges. */
export interface CompiledEndpoint {
  name: string;
  path: string;
  source: "config" | "api";
  config: InboundEndpoint;
  /** The config as JSON, to tell whether a reloaded row changed. */
  text: string;
  auth: Authenticator;
  allowlist?: Range[];
  trustedProxies: Range[];
}

/**
 * Compiles one endpoint's config; `auth` gives the authenticator its clock and JWKS fetch.
 *
 * @example compileEndpoint("esputnik", InboundEndpoint.parse({ kind: "activity-status", auth: { kind: "none" } }), "config")
 */
export function compileEndpoint(
  name: string,
  config: InboundEndpoint,
  source: "config" | "api",
  auth: AuthenticatorOptions = {},
): CompiledEndpoint {
  return {
    name,
    path: config.path ?? name,
    source,
    config,
    text: JSON.stringify(config),
    auth: authenticator(config.auth, auth),
    allowlist: config.ipAllowlist ? parseRanges(config.ipAllowlist) : undefined,
    trustedProxies: parseRanges(config.trustedProxies ?? []),
  };
}

/** How long API-defined endpoints are served from memory before the table is read again. */
const FRESH_MS = 5_000;
/** An unknown path reads the table at most this often (random paths must not hammer the store). */
const MISS_RELOAD_MS = 1_000;

/**
 * The endpoints this app serves: those of the config file, and those saved through
 * `PUT /v1/inbound/:name` (kept in the store, so every process sharing it serves them; a process sees
 * another's change within a few seconds, or at once on a path it did not know).
 *
 * @example const endpoint = await registry.find("esputnik");
 */
export class EndpointRegistry {
  private readonly fromConfig = new Map<string, CompiledEndpoint>();
  private fromApi = new Map<string, CompiledEndpoint>();
  private loadedAt = 0;
  private missAt = 0;
  private loading: Promise<void> | undefined;
  private box: Promise<SecretBox | undefined> | undefined;

  constructor(
    private readonly app: InboundHost & Partial<Pick<Hookline, "outboundFetch">>,
    section: InboundSection,
  ) {
    for (const [name, config] of Object.entries(section?.endpoints ?? {})) {
      const e = this.compile(name, config, "config");
      this.fromConfig.set(e.path, e);
      app.redactor.add(secretsOf(config));
    }
  }

  /**
   * Compiles an endpoint; its remote JWKS, if any, is fetched over the app's transport (a host without
   * `outboundFetch` fetches with the runtime's own).
   */
  private compile(name: string, config: InboundEndpoint, source: "config" | "api"): CompiledEndpoint {
    const { outboundFetch } = this.app;
    return compileEndpoint(name, config, source, {
      fetch: outboundFetch && jwksFetch(outboundFetch, this.app.logger, name),
    });
  }

  /** The endpoint served at `/in/<path>`, if any; throws when the store cannot be read to find out. */
  async find(path: string): Promise<CompiledEndpoint | undefined> {
    const configured = this.fromConfig.get(path);
    if (configured) return configured;
    const now = Date.now();
    const known = this.fromApi.get(path);
    if (known) {
      if (now - this.loadedAt > FRESH_MS) void this.reload().catch(() => {});
      return known;
    }
    if (now - this.loadedAt > FRESH_MS || now - this.missAt > MISS_RELOAD_MS) {
      this.missAt = now;
      // When the store cannot say whether the path exists, the caller answers 500 (retry), not 404 (stop).
      await this.reload();
    }
    return this.fromApi.get(path);
  }

  /** Every endpoint, config-file ones first. */
  async list(): Promise<CompiledEndpoint[]> {
    await this.reload();
    return [
      ...this.fromConfig.values(),
      ...[...this.fromApi.values()].sort((a, b) => a.name.localeCompare(b.name)),
    ];
  }

  /** The endpoint named `name`, config-file or API. */
  async byName(name: string): Promise<CompiledEndpoint | undefined> {
    return (await this.list()).find((e) => e.name === name);
  }

  /**
   * Saves an endpoint defined through the API. Refuses a config-file name or a path another endpoint
   * serves. Auth secrets are sealed at rest with HOOKLINE_SECRET_KEY (AES-256-GCM, bound to
   * `inbound:<name>`); without the key an endpoint that holds secrets is refused (`HOOKLINE_SECRET_KEY_MISSING`).
   * Returns whether it was created (else replaced).
   */
  async put(name: string, config: InboundEndpoint): Promise<{ created: boolean } | { conflict: string }> {
    const all = await this.list();
    if (all.some((e) => e.name === name && e.source === "config"))
      return { conflict: `endpoint "${name}" is defined in the config file; change it there` };
    const path = config.path ?? name;
    const other = all.find((e) => e.path === path && e.name !== name);
    if (other) return { conflict: `path /in/${path} is served by endpoint "${other.name}"` };
    this.compile(name, config, "api");
    this.app.redactor.add(secretsOf(config));
    let stored: Record<string, unknown> = config;
    let sealed: string | null = null;
    if (authSecrets(config.auth).length > 0) {
      const box = await this.secretBox();
      if (!box)
        throw new HooklineError(
          "HOOKLINE_SECRET_KEY_MISSING",
          `endpoint "${name}": HOOKLINE_SECRET_KEY is not set, so its secrets cannot be sealed; set it (openssl rand -base64 32) and restart`,
        );
      sealed = await box.seal(JSON.stringify(config.auth), `inbound:${name}`);
      stored = { ...config, auth: { kind: config.auth.kind } };
    }
    const rows = await this.app.store.sql.query<{ created: boolean }>(
      `INSERT INTO hookline_inbound_endpoints (name, config, sealed) VALUES ($1, $2::text::jsonb, $3)
       ON CONFLICT (name) DO UPDATE SET config = EXCLUDED.config, sealed = EXCLUDED.sealed, updated_at = now()
       RETURNING (xmax = 0) AS created`,
      [name, JSON.stringify(stored), sealed],
    );
    await this.reload();
    return { created: Boolean(rows[0]?.created) };
  }

  private secretBox(): Promise<SecretBox | undefined> {
    const env = this.app.container.isRegistered(Tokens.Env, true)
      ? this.app.container.resolve(Tokens.Env)
      : {};
    this.box ??= SecretBox.fromEnv(env.HOOKLINE_SECRET_KEY);
    return this.box;
  }

  /** Removes an API-defined endpoint; false when there was none. */
  async remove(name: string): Promise<boolean> {
    const rows = await this.app.store.sql.query(
      "DELETE FROM hookline_inbound_endpoints WHERE name = $1 RETURNING name",
      [name],
    );
    await this.reload();
    return rows.length > 0;
  }

  private reload(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const rows = await this.app.store.sql.query<{ name: string; config: unknown; sealed: string | null }>(
          "SELECT name, config::text AS config, sealed FROM hookline_inbound_endpoints",
        );
        const byName = new Map([...this.fromApi.values()].map((e) => [e.name, e]));
        const next = new Map<string, CompiledEndpoint>();
        for (const row of rows) {
          const text = `${row.config}\u0000${row.sealed ?? ""}`;
          const old = byName.get(row.name);
          // Unchanged rows keep their compiled form (and a remote JWKS its cached keys).
          let e = old && old.text === text ? old : undefined;
          if (!e) {
            try {
              const config = JSON.parse(String(row.config)) as InboundEndpoint;
              if (row.sealed) {
                const box = await this.secretBox();
                if (!box)
                  throw new HooklineError(
                    "HOOKLINE_SECRET_KEY_MISSING",
                    "its secrets are sealed and HOOKLINE_SECRET_KEY is not set",
                  );
                config.auth = JSON.parse(await box.open(row.sealed, `inbound:${row.name}`));
              }
              this.app.redactor.add(secretsOf(config));
              e = { ...this.compile(row.name, config, "api"), text };
            } catch (err) {
              this.app.logger.log("error", "inbound endpoint in the store does not compile", {
                endpoint: row.name,
                error: (err as Error).message,
              });
              continue;
            }
          }
          if (!this.fromConfig.has(e.path)) next.set(e.path, e);
        }
        this.fromApi = next;
        this.loadedAt = Date.now();
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }
}

/**
 * A fetch for an endpoint's remote JWKS over the app's transport (SSRF guard, timeouts). A fetch that
 * got no answer is logged with its cause; the sender's 401 says only that the keys could not be
 * fetched (the cause may name internal addresses).
 */
function jwksFetch(
  outboundFetch: (request: Request) => Promise<Response>,
  logger: InboundHost["logger"],
  endpoint: string,
): (request: Request) => Promise<Response> {
  return async (request) => {
    try {
      return await outboundFetch(request);
    } catch (e) {
      const fault = e instanceof TransportError ? e.faultClass : request.signal.aborted ? "timeout" : "error";
      logger.log("warn", "inbound: the endpoint's JWKS could not be fetched", {
        endpoint,
        url: request.url,
        fault,
        error: (e as Error).message,
      });
      // jose's own timeout (its signal) stays jose's error: it reports it as a JWKS timeout.
      if (request.signal.aborted) throw e;
      throw new HooklineError(
        "HOOKLINE_INBOUND_JWKS",
        `the signing keys (JWKS) could not be fetched (${fault}); the receiver's log says why`,
        { cause: e },
      );
    }
  };
}

/**
 * Secrets of an endpoint, including the key inside a `whsec_` secret (it could appear on its own).
 *
 * @example app.redactor.add(secretsOf(endpoint))
 */
export function secretsOf(config: InboundEndpoint): string[] {
  const list = authSecrets(config.auth);
  return [...list, ...list.filter((s) => s.startsWith("whsec_")).map((s) => s.slice(6))];
}

/**
 * An endpoint's config as answers show it: secrets replaced by "[REDACTED]".
 *
 * @example maskedConfig(endpoint.config).auth // { kind: "apiKey", keys: ["[REDACTED]"], … }
 */
export function maskedConfig(config: InboundEndpoint): InboundEndpoint {
  const auth = { ...config.auth } as Record<string, unknown>;
  const mask = (v: unknown) => (typeof v === "string" ? "[REDACTED]" : v);
  for (const k of ["keys", "tokens", "secrets"])
    if (Array.isArray(auth[k])) auth[k] = (auth[k] as unknown[]).map(mask);
  if (typeof auth.secret === "string") auth.secret = "[REDACTED]";
  if (Array.isArray(auth.users))
    auth.users = (auth.users as Array<{ username: string }>).map((u) => ({
      username: u.username,
      password: "[REDACTED]",
    }));
  return { ...config, auth } as InboundEndpoint;
}
