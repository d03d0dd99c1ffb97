import * as oauth from "oauth4webapi";
import { type ErrorCode, HooklineError, TransportError } from "../../core/plugin/index.ts";

/** OAuth `error` codes (RFC 6749 §5.2, §4.1.2.1) that get their own stable hookline code. */
const KNOWN = new Map<string, ErrorCode>([
  ["invalid_request", "HOOKLINE_OAUTH_INVALID_REQUEST"],
  ["invalid_client", "HOOKLINE_OAUTH_INVALID_CLIENT"],
  ["invalid_grant", "HOOKLINE_OAUTH_INVALID_GRANT"],
  ["unauthorized_client", "HOOKLINE_OAUTH_UNAUTHORIZED_CLIENT"],
  ["unsupported_grant_type", "HOOKLINE_OAUTH_UNSUPPORTED_GRANT_TYPE"],
  ["invalid_scope", "HOOKLINE_OAUTH_INVALID_SCOPE"],
  ["access_denied", "HOOKLINE_OAUTH_ACCESS_DENIED"],
  ["server_error", "HOOKLINE_OAUTH_SERVER_ERROR"],
  ["temporarily_unavailable", "HOOKLINE_OAUTH_TEMPORARILY_UNAVAILABLE"],
]);

/**
 * An authorization server refused a token request with an OAuth error response. `code` is
 * `HOOKLINE_OAUTH_<ERROR>` for the registered error codes (`HOOKLINE_OAUTH_INVALID_CLIENT`, …) and
 * `HOOKLINE_OAUTH_ERROR` for others; `oauthError` keeps the server's code as it came.
 *
 * @example
 * try { await token.get() } catch (e) { if (e instanceof OAuthError && e.oauthError === "invalid_client") alert() }
 */
export class OAuthError extends HooklineError {
  readonly oauthError: string;
  readonly description?: string;
  readonly status: number;
  constructor(
    oauthError: string,
    message: string,
    options: { status: number; description?: string; cause?: unknown },
  ) {
    super(KNOWN.get(oauthError) ?? "HOOKLINE_OAUTH_ERROR", message, { cause: options.cause });
    this.name = "OAuthError";
    this.oauthError = oauthError;
    this.description = options.description;
    this.status = options.status;
  }
}

/**
 * The refresh token was refused (`invalid_grant`: revoked, expired or rotated away): a person has to
 * authorize the integration again. Code `HOOKLINE_OAUTH_REAUTHORIZE`.
 *
 * @example if (e instanceof OAuthReauthorizeError) markNeedsAuthorization(integration)
 */
export class OAuthReauthorizeError extends HooklineError {
  readonly oauthError: string;
  constructor(message: string, options: { oauthError: string; cause?: unknown }) {
    super("HOOKLINE_OAUTH_REAUTHORIZE", message, { cause: options.cause });
    this.name = "OAuthReauthorizeError";
    this.oauthError = options.oauthError;
  }
}

/** Origin and path only: a token endpoint URL may carry the client secret in its query. */
export function shownEndpoint(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return "an invalid URL";
  }
}

/** Replaces every occurrence of the given values (at least 4 characters long) with a mask. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join("[REDACTED]");
  return out;
}

/**
 * Turns what a token request threw into hookline's errors: an OAuth error response becomes an
 * `OAuthError` (not retried), a 5xx / 429 answer or no answer a `TransportError` (retried like any
 * transport fault), anything else a `HooklineError` `HOOKLINE_OAUTH_TOKEN_RESPONSE`. Messages name
 * the endpoint by origin and path and never carry the given secrets.
 *
 * @example catch (e) { throw await tokenEndpointError(e, endpoint, [clientSecret]) }
 */
export async function tokenEndpointError(
  error: unknown,
  endpoint: string,
  secrets: readonly string[],
): Promise<HooklineError> {
  const where = `token endpoint ${shownEndpoint(endpoint)}`;
  if (error instanceof TransportError) {
    return new TransportError(error.faultClass, scrub(`${where}: ${error.message}`, secrets), {
      cause: error,
    });
  }
  if (error instanceof OAuthError || error instanceof OAuthReauthorizeError) return error;
  let body: { error?: unknown; error_description?: unknown } | undefined;
  let status: number | undefined;
  if (error instanceof oauth.ResponseBodyError) {
    body = { error: error.error, error_description: error.error_description };
    status = error.status;
  } else if (error instanceof oauth.WWWAuthenticateChallengeError) {
    // A 401 with WWW-Authenticate (common for invalid_client): the OAuth error is in the body, if any.
    status = error.status;
    body = await error.response
      .clone()
      .json()
      .catch(() => undefined);
    if (typeof body?.error !== "string") {
      const param = error.cause.find((c) => c.parameters.error)?.parameters;
      body = param ? { error: param.error, error_description: param.error_description } : undefined;
    }
  }
  if (body && typeof body.error === "string" && /^[\x20-\x7e]{1,100}$/.test(body.error)) {
    const description =
      typeof body.error_description === "string"
        ? scrub(body.error_description.slice(0, 300), secrets)
        : undefined;
    const message = `${where} refused the request: ${body.error}${description ? ` (${description})` : ""} [HTTP ${status}]`;
    return new OAuthError(body.error, message, { status: status ?? 400, description, cause: error });
  }
  const detail = error instanceof Error ? error.message : String(error);
  const answered = status === undefined ? "" : ` [HTTP ${status}]`;
  return new HooklineError(
    "HOOKLINE_OAUTH_TOKEN_RESPONSE",
    scrub(`${where}: expected a token response, got: ${detail}${answered}`, secrets),
    { cause: error },
  );
}
