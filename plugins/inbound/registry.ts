import {
  HooklineError,
  HttpError,
  type InboundAuthContext,
  type InboundVerifier,
  type PluginHost,
  SecretBox,
} from "../../core/plugin/index.ts";
import type { AuthKinds } from "./auth-kinds.ts";
import { parseRanges, type Range } from "./client-address.ts";
import type { InboundEndpoint, InboundSection } from "./config.ts";
import { deleteEndpoint, loadEndpoints, saveEndpoint } from "./repository.ts";

/** An endpoint ready to serve: its config, verifier and parsed address ranges. */
export interface CompiledEndpoint {
  name: string;
  path: string;
  source: "config" | "api";
  config: InboundEndpoint;
  /** The config as JSON, to tell whether a reloaded row changed. */
  text: string;
  auth: InboundVerifier;
  allowlist?: Range[];
  trustedProxies: Range[];
}

/** What the registry uses of the app. */
export type RegistryHost = Pick<PluginHost, "sql" | "redactor" | "logger" | "fetch" | "env">;

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
    private readonly host: RegistryHost,
    section: InboundSection,
    /** The authentication kinds the app has. */
    private readonly kinds: AuthKinds,
  ) {
    for (const [name, config] of Object.entries(section?.endpoints ?? {})) {
      const e = this.compile(name, config, "config");
      this.fromConfig.set(e.path, e);
      host.redactor.add(kinds.secrets(config.auth));
    }
  }

  /** Compiles an endpoint: its verifier fetches (a remote JWKS) over the app's transport. */
  private compile(name: string, config: InboundEndpoint, source: "config" | "api"): CompiledEndpoint {
    const context: InboundAuthContext = {
      endpoint: name,
      now: Date.now,
      fetch: (request) => this.host.fetch(request),
      logger: this.host.logger,
    };
    return {
      name,
      path: config.path ?? name,
      source,
      config,
      text: JSON.stringify(config),
      auth: this.kinds.verifier(config.auth, context),
      allowlist: config.ipAllowlist ? parseRanges(config.ipAllowlist) : undefined,
      trustedProxies: parseRanges(config.trustedProxies ?? []),
    };
  }

  /**
   * An endpoint's config as answers show it: secrets replaced by "[REDACTED]".
   *
   * @example registry.masked(endpoint.config).auth // { kind: "apiKey", keys: ["[REDACTED]"], … }
   */
  masked(config: InboundEndpoint): InboundEndpoint {
    return { ...config, auth: this.kinds.masked(config.auth) };
  }

  /** The config-file endpoint served at `/in/<path>`, if any: known at once, nothing to read. */
  configured(path: string): CompiledEndpoint | undefined {
    return this.fromConfig.get(path);
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
    const secrets = this.kinds.secrets(config.auth);
    this.host.redactor.add(secrets);
    let stored: Record<string, unknown> = config;
    let sealed: string | null = null;
    if (secrets.length > 0) {
      const box = await this.secretBox();
      if (!box)
        throw new HttpError(
          "HOOKLINE_SECRET_KEY_MISSING",
          `endpoint "${name}": HOOKLINE_SECRET_KEY is not set, so its secrets cannot be sealed; set it (openssl rand -base64 32) and restart`,
        );
      sealed = await box.seal(JSON.stringify(config.auth), `inbound:${name}`);
      stored = { ...config, auth: { kind: config.auth.kind } };
    }
    const created = await saveEndpoint(this.host.sql, name, JSON.stringify(stored), sealed);
    await this.reload();
    return { created };
  }

  private secretBox(): Promise<SecretBox | undefined> {
    this.box ??= SecretBox.fromEnv(this.host.env.HOOKLINE_SECRET_KEY);
    return this.box;
  }

  /** Removes an API-defined endpoint; false when there was none. */
  async remove(name: string): Promise<boolean> {
    const removed = await deleteEndpoint(this.host.sql, name);
    await this.reload();
    return removed;
  }

  private reload(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const rows = await loadEndpoints(this.host.sql);
        const byName = new Map([...this.fromApi.values()].map((e) => [e.name, e]));
        const next = new Map<string, CompiledEndpoint>();
        for (const row of rows) {
          const text = `${row.config}\u0000${row.sealed ?? ""}`;
          const old = byName.get(row.name);
          // Unchanged rows keep their compiled form (and a remote JWKS its cached keys).
          let e = old && old.text === text ? old : undefined;
          if (!e) {
            try {
              const config = JSON.parse(row.config) as InboundEndpoint;
              if (row.sealed) {
                const box = await this.secretBox();
                if (!box)
                  throw new HooklineError(
                    "HOOKLINE_SECRET_KEY_MISSING",
                    "its secrets are sealed and HOOKLINE_SECRET_KEY is not set",
                  );
                config.auth = JSON.parse(await box.open(row.sealed, `inbound:${row.name}`));
              }
              this.host.redactor.add(this.kinds.secrets(config.auth));
              e = { ...this.compile(row.name, config, "api"), text };
            } catch (err) {
              this.host.logger.log("error", "inbound.endpoint_invalid", {
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
