/**
 * The workerd binding shapes this adapter uses, typed here rather than from @cloudflare/workers-types
 * (not a dependency): a service or mTLS-certificate binding is a `Fetcher`; Hyperdrive gives a
 * connection string; `ExecutionContext` keeps work alive after the response.
 */
export interface Fetcher {
  fetch(input: Request | string | URL, init?: RequestInit): Promise<Response>;
}

export interface HyperdriveBinding {
  readonly connectionString: string;
}

export interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException?(): void;
}

/** A Worker's `env`: text variables and secrets are strings; other bindings are objects. */
export type WorkerEnv = Record<string, unknown>;

/**
 * The string bindings of a Worker's env (vars and secrets): what `${VAR}` references in the config
 * read, as `process.env` does elsewhere.
 *
 * @example stringBindings({ KEY: "k", DB: hyperdrive }) // { KEY: "k" }
 */
export function stringBindings(env: WorkerEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) if (typeof value === "string") out[name] = value;
  return out;
}

/**
 * True when a binding can send requests (a service binding, an mTLS certificate binding).
 *
 * @example isFetcher(env.MTLS_BANK) // true when [[mtls_certificates]] binds MTLS_BANK
 */
export function isFetcher(value: unknown): value is Fetcher {
  return typeof value === "object" && value !== null && typeof (value as Fetcher).fetch === "function";
}
