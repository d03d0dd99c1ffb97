import { type Sink, type SinkHandler, type SinkReply, type SinkRequest, startSink } from "./http-sink.ts";

/**
 * RFC 6749 Appendix B (HTML 4.01 §17.13.4): UTF-8 octets, alphanumerics kept, space as "+", every
 * other octet as %HH. Written independently of the code under test, to check it.
 */
export function rfc6749FormEncode(value: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(value)) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9]/.test(c)) out += c;
    else if (byte === 0x20) out += "+";
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/** The exact Authorization header RFC 6749 §2.3.1 prescribes for client_secret_basic. */
export function expectedBasicHeader(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${rfc6749FormEncode(clientId)}:${rfc6749FormEncode(clientSecret)}`, "latin1").toString("base64")}`;
}

/** One token request as the server understood it. */
export interface TokenRequestSeen {
  raw: SinkRequest;
  query: URLSearchParams;
  form: URLSearchParams;
  /** Where the client credentials came: the Authorization header, the form body or the query. */
  clientAuth: "header" | "body" | "query" | "none";
  clientId?: string;
  clientSecret?: string;
  /** Why the request was refused (empty when a token was issued). */
  problems: string[];
}

export interface TokenServerOptions {
  /** The one registered client. */
  clientId: string;
  /**
   * Its secret; undefined registers a public client, which authenticates with `client_id` in the
   * form body and nothing else (RFC 6749 §2.1, §3.2.1).
   */
  clientSecret?: string;
  /** `expires_in` of issued tokens in seconds (undefined: left out of the answer). Default 3600. */
  expiresIn?: number;
  /** Delay before answering, to make concurrent requests overlap. */
  delayMs?: number;
  /** Replaces the answer to request `index` (0-based) when it returns a reply. */
  override?: (seen: TokenRequestSeen, index: number) => SinkReply | undefined;
  /** A careless server that echoes the presented secret (and refresh token) in its error description. */
  echoSecretInErrors?: boolean;
  /**
   * refresh_token grant: answer every refresh with a new refresh token and invalidate the one used
   * (rotation, RFC 9700 §4.14.2). Without it the refresh token stays valid and none is sent back.
   */
  rotateRefreshTokens?: boolean;
  /** Answers requests to other paths than the token endpoint (an API on the same origin). */
  api?: SinkHandler;
}

export interface TokenServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** `${url}/oauth2/token` */
  tokenUrl: string;
  requests: TokenRequestSeen[];
  /** Requests to other paths (answered by `api`, else 404). */
  apiRequests: SinkRequest[];
  /** Tokens issued, in order. */
  issued: string[];
  /** Refresh tokens issued (by `issueRefreshToken` or by rotation), in order. */
  refreshTokens: string[];
  /** Issues a refresh token the way a provider's console does, for an operator to paste into config. */
  issueRefreshToken(): string;
  /** True for a refresh token this server issued that is still valid (not rotated away nor revoked). */
  isValidRefreshToken(token: string | undefined): boolean;
  /** Revokes every refresh token issued so far (the operator revoked the grant). */
  revokeRefreshTokens(): void;
  /** True for a token this server issued that has not expired or been revoked. */
  isValid(token: string | undefined): boolean;
  revokeAll(): void;
  close(): Promise<void>;
}

/**
 * A token endpoint for the client_credentials (RFC 6749 §4.4) and refresh_token (§6) grants that
 * checks client authentication strictly: client_secret_basic must be base64 of the Appendix B
 * form-encoded id ":" secret, byte for byte; client_secret_post and query credentials must decode to
 * the registered values; exactly one method may be used (§2.3), none for a public client. Refusals
 * follow §5.2 (`invalid_client` with WWW-Authenticate after Basic; `invalid_grant` for a refresh
 * token that is unknown, rotated away or revoked). Refresh tokens rotate when asked to.
 *
 * @example
 * const auth = await startTokenServer({ clientId: "id:1", clientSecret: "s +%€" });
 * // integration: tokenEndpoint: auth.tokenUrl
 */
export async function startTokenServer(o: TokenServerOptions): Promise<TokenServer> {
  const requests: TokenRequestSeen[] = [];
  const apiRequests: SinkRequest[] = [];
  const issued: string[] = [];
  const expiry = new Map<string, number>();
  const refreshTokens: string[] = [];
  const validRefresh = new Set<string>();
  const issueRefreshToken = () => {
    const token = `rt-${refreshTokens.length + 1}-${crypto.randomUUID()}`;
    refreshTokens.push(token);
    validRefresh.add(token);
    return token;
  };
  const expiresIn = "expiresIn" in o ? o.expiresIn : 3600;

  const sink: Sink = await startSink(async (raw, n) => {
    const url = new URL(raw.url, "http://x");
    if (url.pathname !== "/oauth2/token") {
      apiRequests.push(raw);
      return o.api ? o.api(raw, n) : { status: 404 };
    }
    const seen: TokenRequestSeen = {
      raw,
      query: url.searchParams,
      form: new URLSearchParams(raw.body),
      clientAuth: "none",
      problems: [],
    };
    const index = requests.push(seen) - 1;
    if (o.delayMs) await new Promise((r) => setTimeout(r, o.delayMs));
    const overridden = o.override?.(seen, index);
    if (overridden) return overridden;

    const methods: TokenRequestSeen["clientAuth"][] = [];
    const basic = raw.headers.authorization;
    if (basic !== undefined) {
      methods.push("header");
      const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(basic);
      const decoded = m ? Buffer.from(m[1]!, "base64").toString("latin1") : "";
      const [id, secret] = decoded.split(":").map((p) => decodeURIComponent(p.replace(/\+/g, " ")));
      seen.clientId = id;
      seen.clientSecret = secret;
      if (basic !== expectedBasicHeader(id ?? "", secret ?? ""))
        seen.problems.push("Authorization is not base64(form-urlencoded id ':' form-urlencoded secret)");
    }
    if (seen.form.has("client_secret")) {
      methods.push("body");
      seen.clientId = seen.form.get("client_id") ?? undefined;
      seen.clientSecret = seen.form.get("client_secret") ?? undefined;
    }
    if (seen.query.has("client_secret")) {
      methods.push("query");
      seen.clientId = seen.query.get("client_id") ?? undefined;
      seen.clientSecret = seen.query.get("client_secret") ?? undefined;
    }
    seen.clientAuth = methods[0] ?? "none";
    const expectedMethods = o.clientSecret === undefined ? 0 : 1;
    if (methods.length === 0) seen.clientId = seen.form.get("client_id") ?? undefined;
    if (methods.length !== expectedMethods)
      seen.problems.push(
        `expected ${expectedMethods === 1 ? "one client authentication" : "none (a public client)"}, got ${methods.length}`,
      );
    if (raw.method !== "POST") seen.problems.push(`expected POST, got ${raw.method}`);
    if (!/^application\/x-www-form-urlencoded/.test(raw.headers["content-type"] ?? ""))
      seen.problems.push("expected a form body");
    const grant = seen.form.get("grant_type");
    if (grant !== "client_credentials" && grant !== "refresh_token")
      seen.problems.push("expected client_credentials or refresh_token");
    const wrongClient = seen.clientId !== o.clientId || seen.clientSecret !== o.clientSecret;
    if (wrongClient || seen.problems.length > 0) {
      if (wrongClient) seen.problems.push("unknown client or wrong secret");
      const echo = o.echoSecretInErrors ? ` (presented secret "${seen.clientSecret}")` : "";
      return {
        status: wrongClient ? 401 : 400,
        headers: {
          "content-type": "application/json",
          ...(seen.clientAuth === "header" ? { "www-authenticate": 'Basic realm="token"' } : {}),
        },
        body: JSON.stringify({
          error: wrongClient ? "invalid_client" : "invalid_request",
          error_description: `${seen.problems.join("; ")}${echo}`,
        }),
      };
    }
    let refreshToken: string | undefined;
    if (grant === "refresh_token") {
      const presented = seen.form.get("refresh_token") ?? "";
      if (!validRefresh.has(presented)) {
        seen.problems.push("invalid_grant");
        const echo = o.echoSecretInErrors ? ` (presented refresh token "${presented}")` : "";
        return {
          status: 400,
          headers: { "content-type": "application/json", "cache-control": "no-store" },
          body: JSON.stringify({
            error: "invalid_grant",
            error_description: `the refresh token is invalid, expired or revoked${echo}`,
          }),
        };
      }
      if (o.rotateRefreshTokens) {
        validRefresh.delete(presented);
        refreshToken = issueRefreshToken();
      }
    }
    const token = `at-${issued.length + 1}-${crypto.randomUUID()}`;
    issued.push(token);
    expiry.set(token, expiresIn === undefined ? Number.POSITIVE_INFINITY : Date.now() + expiresIn * 1000);
    return {
      headers: { "content-type": "application/json", "cache-control": "no-store" },
      body: JSON.stringify({
        access_token: token,
        token_type: "Bearer",
        ...(expiresIn === undefined ? {} : { expires_in: expiresIn }),
        ...(refreshToken ? { refresh_token: refreshToken } : {}),
        ...(seen.form.get("scope") ? { scope: seen.form.get("scope") } : {}),
      }),
    };
  });

  return {
    url: sink.url,
    tokenUrl: `${sink.url}/oauth2/token`,
    requests,
    apiRequests,
    issued,
    refreshTokens,
    issueRefreshToken,
    isValidRefreshToken: (token) => token !== undefined && validRefresh.has(token),
    revokeRefreshTokens: () => validRefresh.clear(),
    isValid: (token) => token !== undefined && (expiry.get(token) ?? 0) > Date.now(),
    revokeAll: () => expiry.clear(),
    close: () => sink.close(),
  };
}
