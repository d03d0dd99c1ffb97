// The catalogue alone, as data: the edge build keeps its codes and statuses and drops the summaries
// (scripts/build-edge.ts), which are documentation (docs/errors.md).
/** What the catalogue says of one code: the HTTP status it answers with, and what it means. */
export interface ErrorCodeInfo {
  /**
   * The status of an answer carrying this code. A code that never answers on its own (start-up,
   * delivery, the command line) has the one it would take: 4xx when what was given (a request, a
   * config value, key material) is at fault, 500 when the set-up is (a plugin, a key, the runtime),
   * 502 when a server hookline talks to answered wrongly, 503 when something it needs is away.
   */
  readonly status: number;
  /** One line: what went wrong. */
  readonly summary: string;
}

/**
 * Every code hookline raises on purpose, with the HTTP status it answers with and its meaning — the
 * one list a caller branches on (`e.code === "HOOKLINE_STORE_UNAVAILABLE"`) and docs/errors.md
 * shows. A throw site names its code as a string literal; a code missing here fails the typecheck.
 * Codes of plugins outside hookline are theirs: see `defineErrorCodes`.
 *
 * @example ErrorCodes.HOOKLINE_HTTP_NOT_FOUND // { status: 404, summary: "no such route or thing" }
 */
export const ErrorCodes = {
  // The HTTP app (events and admin API).
  HOOKLINE_HTTP_BODY: {
    status: 400,
    summary: "the request body is not JSON, nests too deep, or holds text the store cannot keep",
  },
  HOOKLINE_HTTP_PARAM: { status: 400, summary: "a path or query parameter does not parse" },
  HOOKLINE_HTTP_INVALID: {
    status: 400,
    summary: "the body parsed but does not fit the route's schema (`issues` name the fields)",
  },
  HOOKLINE_HTTP_NOT_APPLICABLE: {
    status: 400,
    summary: "the route does not apply to this thing (no test request, no interactive grant)",
  },
  HOOKLINE_HTTP_UNAUTHORIZED: { status: 401, summary: "missing or wrong admin bearer token" },
  HOOKLINE_HTTP_FORBIDDEN: {
    status: 403,
    summary: "the token's role does not allow this route (or this change)",
  },
  HOOKLINE_HTTP_NOT_FOUND: { status: 404, summary: "no such route or thing" },
  HOOKLINE_HTTP_CONFLICT: {
    status: 409,
    summary: "the thing is in a state that does not allow it, or is owned by the config file",
  },
  HOOKLINE_HTTP_TOO_LARGE: { status: 413, summary: "the request body is larger than 16 MiB" },
  HOOKLINE_HTTP_CONTENT_TYPE: { status: 415, summary: "the body is sent as something other than JSON" },
  HOOKLINE_HTTP_UNPROCESSABLE: {
    status: 422,
    summary:
      "well-formed, but it cannot be done (a webhook that does not render, a URL that does not answer)",
  },
  HOOKLINE_MANAGED: {
    status: 400,
    summary:
      "the admin API refused a webhook or integration; the error carries its own status (400, 403, 404, 409, 503)",
  },
  HOOKLINE_INTERNAL: { status: 500, summary: "anything not raised on purpose; logged with the request id" },
  HOOKLINE_STORE_SCHEMA_BEHIND: {
    status: 503,
    summary:
      "the store's schema lacks migrations this build needs (the edge worker checks, and never migrates): run `hookline migrate` or start a server against it",
  },
  HOOKLINE_STORE_UNAVAILABLE: {
    status: 503,
    summary:
      "the store could not be reached; nothing was accepted (an inbound receiver answers 500, as its contract says)",
  },

  // Start-up, config and the command line.
  HOOKLINE_CONFIG: { status: 400, summary: "the config file does not load; each issue at its line and key" },
  HOOKLINE_CONFIG_READ: { status: 500, summary: "the config file cannot be read" },
  HOOKLINE_CONFIG_NETWORK: { status: 400, summary: "an `allowNetworks` entry is not a CIDR network" },
  HOOKLINE_HTTPS_REQUIRED: { status: 400, summary: "plain http:// targets under `engine.requireHttps`" },
  HOOKLINE_NO_STORE: { status: 500, summary: "no store plugin registered (add pglite() or postgres())" },
  HOOKLINE_CONSENT_UNCHECKED: {
    status: 500,
    summary: "a webhook or trigger needs consent, and no plugin checks consents (add inbound())",
  },
  HOOKLINE_ADMIN_TOKEN_REQUIRED: { status: 500, summary: "no admin token, so no listening beyond loopback" },
  HOOKLINE_ADMIN_TOKEN_INVALID: { status: 500, summary: "the admin token is not an RFC 6750 Bearer token" },
  HOOKLINE_MANAGED_KIND: { status: 500, summary: "a stored integration has a kind no plugin provides" },
  HOOKLINE_RUNTIME_CAPABILITY: { status: 500, summary: "the runtime lacks a capability (workerd binding)" },
  HOOKLINE_USAGE: { status: 400, summary: "a command line hookline cannot run (exit code 2)" },
  HOOKLINE_VERSION: { status: 500, summary: "hookline's package.json cannot be found to read its version" },
  HOOKLINE_WEBHOOK_UNKNOWN: { status: 404, summary: "`hookline render`: no webhook of that name" },
  HOOKLINE_INTEGRATION_UNKNOWN: { status: 404, summary: "`hookline test-integration`: no such integration" },
  HOOKLINE_INTEGRATION_NO_TEST: { status: 400, summary: "the integration has no `test: { method, path }`" },
  HOOKLINE_RENDER: { status: 422, summary: "`hookline render`: the webhook does not render" },

  // Secrets sealed at rest.
  HOOKLINE_SECRET_KEY_MISSING: { status: 503, summary: "HOOKLINE_SECRET_KEY is needed and not set" },
  HOOKLINE_SECRET_KEY_INVALID: { status: 500, summary: "a HOOKLINE_SECRET_KEY entry is not a 32-byte key" },
  HOOKLINE_SECRET_KEY_UNKNOWN: { status: 500, summary: "sealed with a key HOOKLINE_SECRET_KEY lacks" },
  HOOKLINE_SECRET_FORMAT: { status: 500, summary: "a stored secret is not in the v1 format" },
  HOOKLINE_SECRET_TAMPERED: { status: 500, summary: "a stored secret does not decrypt (altered or moved)" },

  // Delivery: credentials, templates, mapping.
  HOOKLINE_AUTH_SCOPE: { status: 400, summary: "credentials refused for a URL outside the endpointPrefix" },
  HOOKLINE_INTEGRATION_INCOMPLETE: { status: 409, summary: "an integration's secrets must be re-entered" },
  HOOKLINE_TEMPLATE: { status: 422, summary: "a template does not compile or render (with line and column)" },
  HOOKLINE_TEMPLATE_NOT_PRECOMPILED: { status: 500, summary: "an eta template not precompiled for the edge" },
  HOOKLINE_MAPPING_EXPRESSION: { status: 400, summary: "a mapping expression: no field name or JSONPath" },
  HOOKLINE_MAPPING_NOT_A_NUMBER: {
    status: 200,
    summary:
      "a `sum` mapping met a value that is not a number; reported in the answer's errors, the other rules applied",
  },
  HOOKLINE_MAPPING_NOT_A_CONSENT: {
    status: 200,
    summary:
      "a consent mapping met a value that is neither a yes nor a no; reported in the answer's errors, the consent kept",
  },

  // Outbound transport: a request that got no HTTP answer (`TransportError`, by `faultClass`).
  HOOKLINE_TRANSPORT_TIMEOUT: { status: 502, summary: "no answer within the timeout" },
  HOOKLINE_TRANSPORT_CONNECTION_REFUSED: { status: 502, summary: "the connection was refused" },
  HOOKLINE_TRANSPORT_CONNECTION_RESET: { status: 502, summary: "the connection was reset" },
  HOOKLINE_TRANSPORT_DNS: { status: 502, summary: "the host name did not resolve" },
  HOOKLINE_TRANSPORT_TLS: { status: 502, summary: "the TLS handshake failed" },
  HOOKLINE_TRANSPORT_BLOCKED_ADDRESS: { status: 502, summary: "an address outside `allowNetworks` (SSRF)" },
  HOOKLINE_TRANSPORT_NETWORK: { status: 502, summary: "another network fault" },

  // OAuth 2.0 integrations (`OAuthError` for the server's refusals).
  HOOKLINE_OAUTH_INVALID_REQUEST: { status: 400, summary: "OAuth error `invalid_request`" },
  HOOKLINE_OAUTH_INVALID_CLIENT: { status: 400, summary: "OAuth error `invalid_client`" },
  HOOKLINE_OAUTH_INVALID_GRANT: { status: 400, summary: "OAuth error `invalid_grant`" },
  HOOKLINE_OAUTH_UNAUTHORIZED_CLIENT: { status: 400, summary: "OAuth error `unauthorized_client`" },
  HOOKLINE_OAUTH_UNSUPPORTED_GRANT_TYPE: { status: 400, summary: "OAuth error `unsupported_grant_type`" },
  HOOKLINE_OAUTH_INVALID_SCOPE: { status: 400, summary: "OAuth error `invalid_scope`" },
  HOOKLINE_OAUTH_ACCESS_DENIED: { status: 400, summary: "OAuth error `access_denied`" },
  HOOKLINE_OAUTH_SERVER_ERROR: { status: 400, summary: "OAuth error `server_error`" },
  HOOKLINE_OAUTH_TEMPORARILY_UNAVAILABLE: { status: 400, summary: "OAuth error `temporarily_unavailable`" },
  HOOKLINE_OAUTH_ERROR: { status: 400, summary: "an OAuth error RFC 6749 does not register" },
  HOOKLINE_OAUTH_REAUTHORIZE: { status: 400, summary: "the refresh token was refused: authorize again" },
  HOOKLINE_OAUTH_TOKEN_RESPONSE: { status: 502, summary: "the token endpoint's answer is no token response" },
  HOOKLINE_OAUTH_STATE: { status: 400, summary: "the callback matches no authorization hookline started" },
  HOOKLINE_OAUTH_NO_REFRESH_TOKEN: { status: 400, summary: "the authorization granted no refresh token" },
  HOOKLINE_OAUTH_GRANT: { status: 400, summary: "authorizing applies to the authorization_code grant only" },
  HOOKLINE_OAUTH_BASE_URL: { status: 400, summary: "an OAuth endpoint's origin is not the token endpoint's" },
  HOOKLINE_OAUTH_TOKEN_PLACEMENT: { status: 400, summary: "`tokenPlacement: body` needs a JSON/form body" },

  // Other outbound integrations.
  HOOKLINE_MTLS_PEM: { status: 400, summary: "mTLS material is not the PEM expected (certificate or key)" },
  HOOKLINE_MTLS_KEY: { status: 400, summary: "the mTLS private key cannot be used with the certificate" },
  HOOKLINE_MTLS_KEY_MISMATCH: { status: 400, summary: "the mTLS private key is not the certificate's" },
  HOOKLINE_MTLS_ENCRYPTED_KEY: { status: 400, summary: "the mTLS private key is password-protected" },
  HOOKLINE_MTLS_NOT_YET_VALID: { status: 400, summary: "the mTLS certificate is not valid yet" },
  HOOKLINE_MTLS_EXPIRED: { status: 400, summary: "the mTLS certificate has expired" },
  HOOKLINE_MTLS_SOURCE: { status: 400, summary: "mTLS material cannot be read from its file or URL" },
  HOOKLINE_RESPONSYS_URL: { status: 400, summary: "a Responsys URL is neither absolute nor a path" },
  HOOKLINE_RESPONSYS_LOGIN: { status: 502, summary: "the Responsys login was refused" },
  HOOKLINE_RESPONSYS_LOGIN_RESPONSE: { status: 502, summary: "the login answered no authToken and endPoint" },
  HOOKLINE_SIGNATURE_SECRET: { status: 400, summary: "a signing secret is not `whsec_<base64>`, or none" },

  // Inbound receivers (`/in/<path>`), in the receiving-endpoint contract's `errors`.
  HOOKLINE_INBOUND_API_KEY: { status: 401, summary: "missing or wrong API key" },
  HOOKLINE_INBOUND_API_KEY_PLACEMENT: { status: 401, summary: "the API key came in the query, not a header" },
  HOOKLINE_INBOUND_BASIC: { status: 401, summary: "missing, malformed or wrong Basic credentials" },
  HOOKLINE_INBOUND_BEARER: { status: 401, summary: "missing or wrong Bearer token" },
  HOOKLINE_INBOUND_JWT: { status: 401, summary: "the Bearer JWT was refused (expiry, audience, signature…)" },
  HOOKLINE_INBOUND_JWKS: { status: 401, summary: "the signing keys (JWKS) could not be fetched" },
  HOOKLINE_INBOUND_SIGNATURE: { status: 401, summary: "a missing, malformed or wrong request signature" },
  HOOKLINE_INBOUND_SIGNATURE_STALE: { status: 401, summary: "the signed timestamp is outside the tolerance" },
  HOOKLINE_INBOUND_AUTH_KIND: { status: 500, summary: "an inbound auth kind unknown or registered twice" },
  HOOKLINE_INBOUND_IP: { status: 403, summary: "the client address is not in the endpoint's IP allowlist" },
  HOOKLINE_INBOUND_METHOD: { status: 405, summary: "the endpoint takes POST (or PUT) only" },
  HOOKLINE_INBOUND_TOO_LARGE: { status: 413, summary: "the request body is larger than the endpoint allows" },
  HOOKLINE_INBOUND_CONTENT_TYPE: { status: 415, summary: "the content type is not one the endpoint takes" },
  HOOKLINE_INBOUND_JSON: { status: 400, summary: "the body is not JSON" },
  HOOKLINE_INBOUND_FORM: { status: 400, summary: "the form body is not UTF-8" },
  HOOKLINE_INBOUND_INVALID: { status: 400, summary: "does not fit the schema (`issues` name the fields)" },
  HOOKLINE_INBOUND_UNSTORABLE: { status: 400, summary: "holds data the store cannot keep; do not retry" },
  HOOKLINE_PROFILE_IDENTIFIER: { status: 400, summary: "the profile identifier is missing or not usable" },
  HOOKLINE_PROFILE_NOT_FOUND: {
    status: 200,
    summary:
      "no profile has the identifier, and the endpoint does not create profiles (in the answer's errors)",
  },
  HOOKLINE_TIMELINE_DATE: { status: 200, summary: "a timeline event's date did not parse; in `errors`" },
  HOOKLINE_ACTIVITY_INVALID: { status: 400, summary: "activities do not fit the activity schema" },
  HOOKLINE_SUBSCRIBER_INTEGRATION: { status: 400, summary: "a subscriber names an unconfigured integration" },
  HOOKLINE_SUBSCRIBER_WEBHOOK: { status: 400, summary: "a subscriber names an unconfigured webhook" },

  // The edge worker.
  HOOKLINE_NOT_FOUND: { status: 404, summary: "the edge worker has no inbound endpoint at this path" },
  HOOKLINE_EDGE_START: { status: 500, summary: "the edge worker cannot start; its log says why" },
  HOOKLINE_EDGE_NO_REQUEST: { status: 500, summary: "a store query ran outside a request on workerd" },
  HOOKLINE_EDGE_NO_JWT: { status: 500, summary: "the edge build has no JWT verification (build with --jwt)" },
} as const satisfies Record<`HOOKLINE_${string}`, ErrorCodeInfo>;

/** A code of hookline's own: a key of `ErrorCodes`. */
export type ErrorCode = keyof typeof ErrorCodes;
