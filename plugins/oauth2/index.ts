import {
  type AuthContext,
  type AuthIntegration,
  type AuthProvider,
  HooklineError,
  type OutboundRequest,
  type Plugin,
  SingleFlightCache,
  Tokens,
} from "../../core/plugin/index.ts";
import { AuthorizationCodeGrant } from "./authorization-code-grant.ts";
import { OAuth2Options } from "./options.ts";
import { BaseUrlRule } from "./origins.ts";
import { carriedToken, placeToken } from "./placement.ts";
import { RefreshTokenGrant } from "./refresh-token-grant.ts";
import { refreshAt } from "./token-cache.ts";
import { clientCredentialsToken, clientSecretForms, refreshTokenForms } from "./token-endpoint.ts";

export {
  type AuthorizationRequest,
  type AuthorizationUrlOptions,
  buildAuthorizationUrl,
  type ExchangeCodeOptions,
  exchangeCode,
  type RefreshOptions,
  refresh,
  type TokenSet,
} from "./authorization-code.ts";
export { AuthorizationCodeGrant, STATE_KEYS } from "./authorization-code-grant.ts";
export { OAuthError, OAuthReauthorizeError } from "./errors.ts";
export { OAuth2Options } from "./options.ts";
export { RefreshTokenGrant, ROTATED_REFRESH_TOKEN_KEY } from "./refresh-token-grant.ts";
export { type ClientAuthentication, clientCredentialsToken, type GrantedToken } from "./token-endpoint.ts";

/** A token without `expires_in` is used for this long (or until the API answers 401). */
const DEFAULT_LIFETIME_MS = 3_600_000;

/** An `oauth2` integration; the authorization_code grant adds the two steps a person takes part in. */
export interface OAuth2Integration extends AuthIntegration {
  readonly grantType: OAuth2Options["grantType"];
  /** authorization_code: the URL a person opens to authorize hookline (PKCE verifier kept sealed). */
  authorizationUrl(): Promise<string>;
  /** authorization_code: handles the redirect back (`/oauth/callback`): code exchanged, refresh token stored. */
  completeAuthorization(callbackUrl: string): Promise<void>;
}

/**
 * Makes one `oauth2` integration: an access token per integration (client_credentials, or refreshed
 * from a refresh token: the authorized one or the pasted one, each rotation kept sealed), shared by
 * all its requests and replaced before it expires; the base-URL rule checked now (endpoint prefix)
 * and on every request (webhook URL).
 */
function createOAuth2(o: OAuth2Options, context: AuthContext): OAuth2Integration {
  const rule = new BaseUrlRule(context.name, o.tokenEndpoint, o.allowedDomains);
  rule.assertAllowed(context.endpointPrefix, "endpoint prefix");
  const grant = o.grantType === "authorization_code" ? new AuthorizationCodeGrant(o, context) : undefined;
  const pasted = o.grantType === "refresh_token" ? new RefreshTokenGrant(o, context) : undefined;

  const tokens = new SingleFlightCache<string>(async () => {
    const fresh = grant
      ? await grant.token()
      : pasted
        ? await pasted.token()
        : await clientCredentialsToken({
            tokenEndpoint: o.tokenEndpoint,
            clientId: o.clientId,
            clientSecret: o.clientSecret,
            clientAuthentication: o.clientAuthentication,
            extraFields: o.extraFields,
            fetch: context.fetch,
          }).then((g) => ({
            accessToken: g.accessToken,
            lifetimeMs: g.expiresIn === undefined ? undefined : g.expiresIn * 1000,
          }));
    context.logger.log("debug", "oauth2.token_obtained", {
      integration: context.name,
      lifetimeMs: fresh.lifetimeMs,
    });
    return {
      value: fresh.accessToken,
      refreshAt: refreshAt(Date.now(), fresh.lifetimeMs ?? DEFAULT_LIFETIME_MS),
    };
  });
  const needsGrant = (): AuthorizationCodeGrant => {
    if (grant) return grant;
    throw new HooklineError(
      "HOOKLINE_OAUTH_GRANT",
      `integration "${context.name}" uses grantType ${o.grantType}; authorizing applies to authorization_code`,
    );
  };

  return {
    grantType: o.grantType,
    authorizationUrl: () => needsGrant().authorizationUrl(),
    completeAuthorization: (url) => needsGrant().completeAuthorization(url),
    credentialHeaders: o.tokenPlacement === "header" ? ["authorization"] : [],
    secrets: () => [
      ...(o.clientSecret === undefined ? [] : clientSecretForms(o.clientId, o.clientSecret)),
      ...(o.refreshToken === undefined ? [] : refreshTokenForms(o.refreshToken)),
    ],
    async authorize(request, { signal }) {
      rule.assertAllowed(request.url, "webhook");
      const token = await tokens.get(signal);
      return placeToken(request, token, o.tokenPlacement, o.tokenField);
    },
    // The core authorizes and sends once more after this. Given the refused request, exactly its
    // token is dropped; without it, the cached one (see SingleFlightCache.refused).
    onUnauthorized(refused?: OutboundRequest) {
      const token = refused && carriedToken(refused, o.tokenPlacement, o.tokenField);
      if (token !== undefined) tokens.drop((t) => t === token);
      else tokens.refused();
      return true;
    },
  };
}

/**
 * OAuth 2.0 as an authentication kind, through oauth4webapi: client_credentials (RFC 6749 §4.4),
 * authorization_code with PKCE whose refresh token is kept in the integration's sealed state, or
 * refresh_token (§6) from a pasted refresh token whose rotations are kept there too.
 *
 * @example
 * integrations:
 *   crm: { kind: oauth2, endpointPrefix: "https://api.example.com/v1", tokenEndpoint: "https://api.example.com/oauth2/token",
 *          clientId: hookline, clientSecret: "${CRM_CLIENT_SECRET}", extraFields: [{ name: scope, value: contacts.write }] }
 */
export const oauth2Provider: AuthProvider<OAuth2Options> = {
  kind: "oauth2",
  schema: OAuth2Options,
  secretFields: ["clientSecret", "refreshToken"],
  // Credentials must not follow a changed destination unless they are entered again.
  secretsRequiredOnChange: ["tokenEndpoint", "allowedDomains", "authorizationEndpoint", "redirectUri"],
  create: createOAuth2,
};

/** @example createHookline({ plugins: [...defaultPlugins(), oauth2()] }) */
export const oauth2 = (): Plugin => ({
  name: "oauth2",
  register(container) {
    container.register(Tokens.AuthProvider, { useValue: oauth2Provider });
  },
});
