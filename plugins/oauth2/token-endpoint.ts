import * as oauth from "oauth4webapi";
import { TransportError } from "../../core/plugin/index.ts";
import { tokenEndpointError } from "./errors.ts";

/** How the client authenticates at the token endpoint. */
export type ClientAuthentication = "header" | "body" | "query";

/** Everything a token request needs: where, who, and how to send it. */
export interface TokenEndpointOptions {
  tokenEndpoint: string;
  clientId: string;
  /** Absent for a public client (authorization_code with PKCE only). */
  clientSecret?: string;
  /**
   * `header`: client_secret_basic (RFC 6749 §2.3.1: id and secret form-urlencoded, then base64);
   * `body`: client_secret_post; `query`: client_id and client_secret as query parameters.
   */
  clientAuthentication?: ClientAuthentication;
  /** Extra request fields (scope, audience…), each in the form body or the query. */
  extraFields?: readonly { name: string; value: string; in: "body" | "query" }[];
  /** Further values to keep out of every message, in the forms they travel in (a refresh token). */
  redact?: readonly string[];
  /** Sends the request: the app's transport (SSRF guard, timeouts) in an integration. */
  fetch: (request: Request) => Promise<Response>;
  signal?: AbortSignal;
}

/** What a token endpoint granted. `expiresIn` is in seconds, as the server said. */
export interface GrantedToken {
  accessToken: string;
  tokenType: string;
  expiresIn?: number;
  refreshToken?: string;
  scope?: string;
}

/** The pieces oauth4webapi takes, built once per request from the options. */
export interface TokenEndpointSetup {
  as: oauth.AuthorizationServer;
  client: oauth.Client;
  auth: oauth.ClientAuth;
  body: URLSearchParams;
  options: oauth.TokenEndpointRequestOptions;
  /** Values to keep out of every message (the secret in each encoding it travels in). */
  secrets: string[];
}

/**
 * The application/x-www-form-urlencoded encoding RFC 6749 Appendix B names (HTML 4.01: every octet
 * but ALPHA / DIGIT percent-encoded, space as "+"), as oauth4webapi applies it to client_secret_basic.
 *
 * @example formUrlEncode("a b:c") // "a+b%3Ac"
 */
export function formUrlEncode(value: string): string {
  return encodeURIComponent(value).replace(/[-_.!~*'()]|%20/g, (c) =>
    c === "%20" ? "+" : `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/**
 * The client secret in every form it may travel or be echoed in: raw, form-urlencoded (Basic and
 * query), as URLSearchParams writes it (body), and the Basic credential itself.
 *
 * @example redactor.add(clientSecretForms("id", "s3cret"))
 */
export function clientSecretForms(clientId: string, clientSecret: string): string[] {
  const query = new URLSearchParams({ s: clientSecret }).toString().slice(2);
  const basic = btoa(`${formUrlEncode(clientId)}:${formUrlEncode(clientSecret)}`);
  return [
    ...new Set([clientSecret, formUrlEncode(clientSecret), encodeURIComponent(clientSecret), query, basic]),
  ];
}

/**
 * A refresh token in every form it may travel or be echoed in: raw, and form-urlencoded as
 * URLSearchParams and encodeURIComponent write it.
 *
 * @example redactor.add(refreshTokenForms(stored))
 */
export function refreshTokenForms(refreshToken: string): string[] {
  const form = new URLSearchParams({ s: refreshToken }).toString().slice(2);
  return [...new Set([refreshToken, form, formUrlEncode(refreshToken), encodeURIComponent(refreshToken)])];
}

/**
 * Builds oauth4webapi's authorization server, client and client authentication for one request.
 * Query placement is not an oauth4webapi method: the credentials go into the token endpoint URL and
 * the client authentication step adds nothing.
 *
 * @example const s = tokenEndpointSetup({ tokenEndpoint, clientId, clientSecret, fetch });
 */
export function tokenEndpointSetup(o: TokenEndpointOptions): TokenEndpointSetup {
  const url = new URL(o.tokenEndpoint);
  const body = new URLSearchParams();
  for (const f of o.extraFields ?? []) {
    if (f.in === "query") url.searchParams.set(f.name, f.value);
    else body.set(f.name, f.value);
  }
  const placement = o.clientAuthentication ?? "header";
  let auth: oauth.ClientAuth;
  if (o.clientSecret === undefined) auth = oauth.None();
  else if (placement === "header") auth = oauth.ClientSecretBasic(o.clientSecret);
  else if (placement === "body") auth = oauth.ClientSecretPost(o.clientSecret);
  else {
    url.searchParams.set("client_id", o.clientId);
    url.searchParams.set("client_secret", o.clientSecret);
    auth = () => undefined;
  }
  const send = o.fetch;
  return {
    as: { issuer: url.origin, token_endpoint: url.href },
    client: { client_id: o.clientId },
    auth,
    body,
    secrets: [
      ...(o.clientSecret === undefined ? [] : clientSecretForms(o.clientId, o.clientSecret)),
      ...(o.redact ?? []),
    ],
    options: {
      signal: o.signal,
      // Plain http is the operator's choice: the core admits http endpoint prefixes too.
      [oauth.allowInsecureRequests]: url.protocol === "http:",
      [oauth.customFetch]: (input, init) => send(new Request(input, init as RequestInit)),
    },
  };
}

/**
 * Sends one token request and processes the answer with oauth4webapi. An OAuth error response throws
 * `OAuthError`; a 5xx or 429 answer, or none, throws `TransportError` (a retryable fault); a
 * malformed answer throws `HooklineError` `HOOKLINE_OAUTH_TOKEN_RESPONSE`.
 *
 * @example
 * const token = await requestToken(o, (s) => oauth.clientCredentialsGrantRequest(s.as, s.client, s.auth, s.body, s.options),
 *   (s, r) => oauth.processClientCredentialsResponse(s.as, s.client, r));
 */
export async function requestToken(
  o: TokenEndpointOptions,
  send: (setup: TokenEndpointSetup) => Promise<Response>,
  processResponse: (setup: TokenEndpointSetup, response: Response) => Promise<oauth.TokenEndpointResponse>,
): Promise<GrantedToken> {
  const setup = tokenEndpointSetup(o);
  try {
    const response = await send(setup);
    if (response.status >= 500 || response.status === 429) {
      await response.body?.cancel();
      throw new TransportError("network", `answered HTTP ${response.status}`);
    }
    const r = await processResponse(setup, response);
    return {
      accessToken: r.access_token,
      tokenType: r.token_type,
      expiresIn: r.expires_in,
      refreshToken: r.refresh_token,
      scope: r.scope,
    };
  } catch (e) {
    throw await tokenEndpointError(e, o.tokenEndpoint, setup.secrets);
  }
}

/**
 * Requests a token with the client_credentials grant (RFC 6749 §4.4).
 *
 * @example const { accessToken, expiresIn } = await clientCredentialsToken({ tokenEndpoint, clientId, clientSecret, fetch });
 */
export function clientCredentialsToken(o: TokenEndpointOptions): Promise<GrantedToken> {
  return requestToken(
    o,
    (s) => oauth.clientCredentialsGrantRequest(s.as, s.client, s.auth, s.body, s.options),
    (s, r) => oauth.processClientCredentialsResponse(s.as, s.client, r),
  );
}
