import * as oauth from "oauth4webapi";
import { HooklineError } from "../../core/plugin/index.ts";
import { OAuthError, OAuthReauthorizeError } from "./errors.ts";
import {
  type GrantedToken,
  refreshTokenForms,
  requestToken,
  type TokenEndpointOptions,
} from "./token-endpoint.ts";

// The protocol half of authorization_code with PKCE (RFC 6749 §4.1, RFC 7636) and refresh_token
// (§6). Persisting refresh tokens is the caller's: these functions keep no state.

export interface AuthorizationUrlOptions {
  authorizationEndpoint: string;
  clientId: string;
  /** Where the authorization server sends the person back (hookline's `/oauth/callback`). */
  redirectUri: string;
  scope?: string;
  /** Further authorization request parameters (e.g. `audience`, `prompt`). */
  extraParameters?: Record<string, string>;
}

/** The URL to send a person to, and what to keep until the callback comes back. */
export interface AuthorizationRequest {
  url: string;
  /** PKCE code verifier: keep it (server side) for `exchangeCode`. */
  codeVerifier: string;
  /** Compare with the callback's `state` (`exchangeCode` does). */
  state: string;
}

/** Tokens from a code exchange or a refresh. `expiresAt` is ms since the epoch, when known. */
export interface TokenSet {
  accessToken: string;
  tokenType: string;
  expiresAt?: number;
  /** The refresh token to persist: the rotated one if the server sent one, else the one used. */
  refreshToken?: string;
  /** True when the server sent a new refresh token, which replaces the old one. */
  rotated: boolean;
  scope?: string;
}

export interface ExchangeCodeOptions extends TokenEndpointOptions {
  redirectUri: string;
  /** The callback URL as the authorization server redirected to it (its query carries code and state). */
  callbackUrl: string | URL;
  codeVerifier: string;
  /** The `state` that `buildAuthorizationUrl` returned. */
  state: string;
}

export interface RefreshOptions extends TokenEndpointOptions {
  refreshToken: string;
}

/**
 * Builds an authorization request with PKCE (S256) and a random state.
 *
 * @example
 * const { url, codeVerifier, state } = await buildAuthorizationUrl({
 *   authorizationEndpoint: "https://idp.example.com/authorize", clientId: "hookline",
 *   redirectUri: "https://hooks.example.com/oauth/callback", scope: "profiles.write",
 * });
 */
export async function buildAuthorizationUrl(o: AuthorizationUrlOptions): Promise<AuthorizationRequest> {
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const url = new URL(o.authorizationEndpoint);
  for (const [k, v] of Object.entries(o.extraParameters ?? {})) url.searchParams.set(k, v);
  url.searchParams.set("response_type", "code");
  url.searchParams.set("client_id", o.clientId);
  url.searchParams.set("redirect_uri", o.redirectUri);
  if (o.scope) url.searchParams.set("scope", o.scope);
  url.searchParams.set("state", state);
  url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(codeVerifier));
  url.searchParams.set("code_challenge_method", "S256");
  return { url: url.href, codeVerifier, state };
}

/**
 * Checks the callback (state, error) and exchanges its code for tokens with the PKCE verifier.
 * An `error` in the callback (e.g. `access_denied`) throws `OAuthError`; a state that does not match
 * throws `HooklineError` `HOOKLINE_OAUTH_STATE`.
 *
 * @example
 * const tokens = await exchangeCode({ tokenEndpoint, clientId, clientSecret, fetch, redirectUri,
 *   callbackUrl: request.url, codeVerifier, state });
 * await store.set("refresh_token", tokens.refreshToken);
 */
export async function exchangeCode(o: ExchangeCodeOptions): Promise<TokenSet> {
  let callback: URLSearchParams;
  const as = { issuer: new URL(o.tokenEndpoint).origin };
  try {
    callback = oauth.validateAuthResponse(as, { client_id: o.clientId }, new URL(o.callbackUrl), o.state);
  } catch (e) {
    if (e instanceof oauth.AuthorizationResponseError) {
      const description = e.error_description ? ` (${e.error_description.slice(0, 300)})` : "";
      throw new OAuthError(e.error, `the authorization request was refused: ${e.error}${description}`, {
        status: 400,
        description: e.error_description,
        cause: e,
      });
    }
    throw new HooklineError(
      "HOOKLINE_OAUTH_STATE",
      `the authorization callback does not match the request hookline made: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const granted = await requestToken(
    o,
    (s) =>
      oauth.authorizationCodeGrantRequest(s.as, s.client, s.auth, callback, o.redirectUri, o.codeVerifier, {
        ...s.options,
        additionalParameters: s.body,
      }),
    (s, r) => oauth.processAuthorizationCodeResponse(s.as, s.client, r),
  );
  return tokenSet(granted);
}

/**
 * Uses a refresh token (RFC 6749 §6). Persist `refreshToken` of the result whenever `rotated` is
 * true: servers that rotate invalidate the old one. A refused refresh token (`invalid_grant`:
 * revoked, expired or already rotated) throws `OAuthReauthorizeError` (`HOOKLINE_OAUTH_REAUTHORIZE`).
 *
 * @example
 * const next = await refresh({ tokenEndpoint, clientId, clientSecret, fetch, refreshToken: stored });
 * if (next.rotated) await store.set("refresh_token", next.refreshToken);
 */
export async function refresh(o: RefreshOptions): Promise<TokenSet> {
  try {
    // A server may echo the refresh token it refuses: keep it out of the message.
    const withRedaction = { ...o, redact: [...(o.redact ?? []), ...refreshTokenForms(o.refreshToken)] };
    const granted = await requestToken(
      withRedaction,
      (s) =>
        oauth.refreshTokenGrantRequest(s.as, s.client, s.auth, o.refreshToken, {
          ...s.options,
          additionalParameters: s.body,
        }),
      (s, r) => oauth.processRefreshTokenResponse(s.as, s.client, r),
    );
    return tokenSet(granted, o.refreshToken);
  } catch (e) {
    if (e instanceof OAuthError && e.oauthError === "invalid_grant") {
      throw new OAuthReauthorizeError(
        `the refresh token was refused (${e.message}); authorize the integration again`,
        { oauthError: e.oauthError, cause: e },
      );
    }
    throw e;
  }
}

function tokenSet(granted: GrantedToken, previousRefreshToken?: string): TokenSet {
  const rotated = granted.refreshToken !== undefined && granted.refreshToken !== previousRefreshToken;
  return {
    accessToken: granted.accessToken,
    tokenType: granted.tokenType,
    expiresAt: granted.expiresIn === undefined ? undefined : Date.now() + granted.expiresIn * 1000,
    refreshToken: granted.refreshToken ?? previousRefreshToken,
    rotated,
    scope: granted.scope,
  };
}
