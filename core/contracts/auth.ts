import type { z } from "zod";
import type { OutboundRequest, TlsIdentity } from "./http.ts";
import type { Logger } from "./logger.ts";

/** What an integration instance may use from the running app. */
export interface AuthContext {
  /** The integration's name in config. */
  name: string;
  /** The integration's endpoint prefix (already validated as an absolute http(s) URL). */
  endpointPrefix: string;
  logger: Logger;
  /** Registers secret values obtained later (tokens, keys read from files) for redaction everywhere. */
  addSecrets(values: readonly string[]): void;
  /** Sends a request through the app's transport (for token endpoints, logins). */
  fetch: (request: Request) => Promise<Response>;
  /**
   * Durable, encrypted state of this integration (e.g. a rotating OAuth refresh token). `set` needs
   * HOOKLINE_SECRET_KEY and throws `HOOKLINE_SECRET_KEY_MISSING` without it.
   */
  state: IntegrationState;
}

/** Per-integration key/value state, sealed at rest. */
export interface IntegrationState {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
  delete(key: string): Promise<void>;
}

/** An integration made from config: decorates outbound requests with credentials. */
export interface AuthIntegration {
  /** Secret values this integration holds, so that the core can redact them wherever text is kept. */
  secrets(): string[];
  /**
   * Adds credentials. The core has already checked `request.url` against the endpoint prefix and
   * never calls this for a URL outside it.
   */
  authorize(
    request: OutboundRequest,
    options: { signal?: AbortSignal },
  ): OutboundRequest | Promise<OutboundRequest>;
  /** Names of headers `authorize` sets, so that recorded requests show them redacted. */
  readonly credentialHeaders?: readonly string[];
  /** Rewrites a webhook URL before the prefix check (e.g. relative paths resolved against a login's endpoint). */
  resolveUrl?(url: string, options: { signal?: AbortSignal }): string | Promise<string>;
  /** A TLS client identity for the transport (mTLS). */
  tlsIdentity?(): TlsIdentity | undefined;
  /**
   * Called on HTTP 401 with the request that was refused: return true to have the core authorize the
   * rendered request again and send it once more (e.g. after dropping that request's expired token).
   */
  onUnauthorized?(refused: OutboundRequest): boolean | Promise<boolean>;
  /** Resolves once the integration is usable (certificates fetched and checked); awaited at load. */
  ready?(): Promise<void>;
  /** For interactive grants (OAuth authorization_code): the URL a person opens to authorize. */
  authorizationUrl?(): Promise<string>;
  /** Completes an interactive grant from the callback URL the authorization server redirected to. */
  completeAuthorization?(callbackUrl: string): Promise<void>;
  close?(): void | Promise<void>;
}

/**
 * An authentication kind (`basic`, `headers`, `oauth2`, …). Its `schema` validates the integration's
 * own options (everything but `kind`, `endpointPrefix` and `test`, which the core owns).
 *
 * @example
 * const provider: AuthProvider<{ token: string }> = {
 *   kind: "bearer", schema: z.object({ token: z.string() }),
 *   create: (o) => ({ secrets: () => [o.token], authorize: (r) => ({ ...r, headers: { ...r.headers, authorization: `Bearer ${o.token}` } }) }),
 * };
 */
export interface AuthProvider<O = any> {
  readonly kind: string;
  readonly schema: z.ZodType<O>;
  /**
   * Top-level option fields that hold secrets: sealed at rest when the integration comes through the
   * admin API, left out of exports, never shown.
   */
  readonly secretFields?: readonly string[];
  /**
   * Option fields whose change requires the secrets again (e.g. OAuth's token endpoint): credentials
   * must not follow a changed destination unless re-entered. `endpointPrefix` always counts.
   */
  readonly secretsRequiredOnChange?: readonly string[];
  create(options: O, context: AuthContext): AuthIntegration;
}
