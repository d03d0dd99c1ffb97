import { type AuthContext, HooklineError } from "../../core/plugin/index.ts";
import { buildAuthorizationUrl, exchangeCode, refresh } from "./authorization-code.ts";
import { OAuthReauthorizeError } from "./errors.ts";
import type { OAuth2Options } from "./options.ts";

/** Keys in the integration's sealed state. */
export const STATE_KEYS = {
  refreshToken: "refresh_token",
  /** A pending authorization request: its PKCE verifier, by the request's `state`. */
  pending: (state: string) => `pending:${state}`,
} as const;

/** A token and how long it lives, for the integration's cache. */
export interface FreshToken {
  accessToken: string;
  lifetimeMs?: number;
}

/**
 * The integration side of authorization_code with PKCE: the authorization URL (its verifier kept in
 * the integration's sealed state), the callback (code exchanged, refresh token stored), and access
 * tokens from the stored refresh token, persisting every rotation. A refused refresh token
 * (`invalid_grant`) removes it, and every delivery then fails with `HOOKLINE_OAUTH_REAUTHORIZE`
 * until someone authorizes again.
 *
 * @example
 * const grant = new AuthorizationCodeGrant(options, context);
 * const url = await grant.authorizationUrl(); // show it to a person
 * await grant.completeAuthorization(callbackRequest.url); // from /oauth/callback
 */
export class AuthorizationCodeGrant {
  constructor(
    private readonly o: OAuth2Options,
    private readonly context: AuthContext,
  ) {}

  private endpoint() {
    return {
      tokenEndpoint: this.o.tokenEndpoint,
      clientId: this.o.clientId,
      clientSecret: this.o.clientSecret,
      clientAuthentication: this.o.clientAuthentication,
      extraFields: this.o.extraFields,
      fetch: this.context.fetch,
    };
  }

  /** Starts an authorization: the URL for a person to open; its PKCE verifier is kept sealed. */
  async authorizationUrl(): Promise<string> {
    const request = await buildAuthorizationUrl({
      authorizationEndpoint: this.o.authorizationEndpoint!,
      clientId: this.o.clientId,
      redirectUri: this.o.redirectUri!,
      scope: this.o.scope,
    });
    await this.context.state.set(STATE_KEYS.pending(request.state), request.codeVerifier);
    return request.url;
  }

  /** Finishes an authorization from the callback URL: exchanges the code and stores the refresh token. */
  async completeAuthorization(callbackUrl: string): Promise<void> {
    const state = new URL(callbackUrl).searchParams.get("state") ?? "";
    const codeVerifier = state ? await this.context.state.get(STATE_KEYS.pending(state)) : undefined;
    if (!codeVerifier)
      throw new HooklineError(
        "HOOKLINE_OAUTH_STATE",
        `integration "${this.context.name}": the callback's state matches no authorization hookline started`,
      );
    await this.context.state.delete(STATE_KEYS.pending(state));
    const tokens = await exchangeCode({
      ...this.endpoint(),
      redirectUri: this.o.redirectUri!,
      callbackUrl,
      codeVerifier,
      state,
    });
    if (!tokens.refreshToken)
      throw new HooklineError(
        "HOOKLINE_OAUTH_NO_REFRESH_TOKEN",
        `integration "${this.context.name}": the token endpoint granted no refresh token (ask for offline access in scope?)`,
      );
    await this.context.state.set(STATE_KEYS.refreshToken, tokens.refreshToken);
    this.context.logger.log("info", "oauth2.authorized", { integration: this.context.name });
  }

  /** A fresh access token from the stored refresh token, storing the rotated one. */
  async token(): Promise<FreshToken> {
    const stored = await this.context.state.get(STATE_KEYS.refreshToken);
    if (!stored) throw this.reauthorize("no refresh token is stored");
    try {
      return await this.refreshWith(stored);
    } catch (e) {
      if (!(e instanceof OAuthReauthorizeError)) throw e;
      // Another process may have rotated the token a moment ago: try once with what is stored now.
      const now = await this.context.state.get(STATE_KEYS.refreshToken);
      if (now && now !== stored) return this.refreshWith(now);
      if (now) await this.context.state.delete(STATE_KEYS.refreshToken);
      throw this.reauthorize(`the token endpoint refused the refresh token (${e.oauthError})`, e);
    }
  }

  private async refreshWith(refreshToken: string): Promise<FreshToken> {
    const next = await refresh({ ...this.endpoint(), refreshToken });
    if (next.rotated && next.refreshToken)
      await this.context.state.set(STATE_KEYS.refreshToken, next.refreshToken);
    return {
      accessToken: next.accessToken,
      lifetimeMs: next.expiresAt === undefined ? undefined : next.expiresAt - Date.now(),
    };
  }

  private reauthorize(why: string, cause?: unknown): OAuthReauthorizeError {
    return new OAuthReauthorizeError(
      `integration "${this.context.name}" needs authorizing: ${why}; run: hookline oauth authorize ${this.context.name}`,
      { oauthError: "invalid_grant", cause },
    );
  }
}
