import { type Sink, type SinkReply, type SinkRequest, startSink } from "./http-sink.ts";

// A local stand-in for Oracle Responsys, written from Oracle's REST API v1.3 documentation:
// - "Login with username and password": POST /rest/api/v1.3/auth/token, Content-Type
//   application/x-www-form-urlencoded, body user_name, password, auth_type=password; the credentials
//   must not travel in the URL. Answer: {"authToken", "issuedAt", "endPoint"}; every later call goes to
//   endPoint with the header "Authorization: <AUTH_TOKEN>" (the token itself, no scheme).
// - Tokens expire (two hours in the current guide).
// - Request-level failures answer {"type": "", "title", "errorCode", "detail", "errorDetails": []};
//   a refused login or token is HTTP 401. The errorCode values used here are illustrative: the plugin
//   reports whatever code comes and does not branch on it.

const error = (status: number, title: string, errorCode: string, detail: string): SinkReply => ({
  status,
  headers: { "content-type": "application/json" },
  body: JSON.stringify({ type: "", title, errorCode, detail, errorDetails: [] }),
});

export interface ResponsysServerOptions {
  /** Usernames and their passwords. */
  users: Record<string, string>;
  /** How long a token is accepted (default two hours). */
  tokenTtlMs?: number;
  /** Delay before answering a login, so that concurrent logins overlap. */
  loginDelayMs?: number;
}

export interface ResponsysServer {
  /** The login endpoint, e.g. `http://127.0.0.1:PORT/` (what the integration's loginEndpoint names). */
  loginEndpoint: string;
  /** The account's API endpoint the login returns (another origin, as on legacy pods). */
  endPoint: string;
  /** Login requests, in order. */
  logins: SinkRequest[];
  /** API requests, in order. */
  apiRequests: SinkRequest[];
  /** Tokens issued, in order. */
  tokens: string[];
  /** Makes every token issued so far unknown (as if they had aged out). */
  expireAll(): void;
  close(): Promise<void>;
}

/**
 * Starts a Responsys login host and API host on two loopback ports.
 *
 * @example
 * const rsys = await startResponsysServer({ users: { "api-user": "pw" } });
 * // integration: loginEndpoint: rsys.loginEndpoint, endpointPrefix: `${rsys.endPoint}/rest/api/v1.3`
 */
export async function startResponsysServer(o: ResponsysServerOptions): Promise<ResponsysServer> {
  const ttl = o.tokenTtlMs ?? 2 * 3_600_000;
  const logins: SinkRequest[] = [];
  const apiRequests: SinkRequest[] = [];
  const tokens: string[] = [];
  const valid = new Map<string, number>();

  const api: Sink = await startSink((req) => {
    apiRequests.push(req);
    if (!req.url.startsWith("/rest/api/v1.3/"))
      return error(404, "Not found", "RESOURCE_NOT_FOUND", "unknown service URL");
    const token = req.headers.authorization;
    if (!token || (valid.get(token) ?? 0) <= Date.now())
      return error(401, "Unauthorized", "INVALID_TOKEN", "Authentication token is invalid or has expired");
    return {
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ recordData: { path: req.url.split("?")[0] }, mergeRule: {} }),
    };
  });

  const login: Sink = await startSink(async (req) => {
    logins.push(req);
    if (o.loginDelayMs) await new Promise((r) => setTimeout(r, o.loginDelayMs));
    const url = new URL(req.url, "http://x");
    if (url.pathname !== "/rest/api/v1.3/auth/token" || req.method !== "POST")
      return error(404, "Not found", "RESOURCE_NOT_FOUND", "unknown service URL");
    if (url.searchParams.has("user_name") || url.searchParams.has("password"))
      return error(
        400,
        "Invalid request parameters",
        "INVALID_PARAMETER",
        "credentials must not be in the URL",
      );
    if (!/^application\/x-www-form-urlencoded\b/.test(req.headers["content-type"] ?? ""))
      return error(400, "Invalid request parameters", "INVALID_PARAMETER", "expected a form body");
    const form = new URLSearchParams(req.body);
    if (form.get("auth_type") !== "password")
      return error(400, "Invalid request parameters", "INVALID_PARAMETER", "auth_type must be password");
    const user = form.get("user_name") ?? "";
    if (!(user in o.users) || o.users[user] !== form.get("password"))
      return error(401, "Authentication failed", "AUTHENTICATION_FAILED", "Invalid user name or password");
    const token = `rsys-${tokens.length + 1}-${crypto.randomUUID()}`;
    tokens.push(token);
    valid.set(token, Date.now() + ttl);
    return {
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ authToken: token, issuedAt: Date.now(), endPoint: api.url }),
    };
  });

  return {
    loginEndpoint: `${login.url}/`,
    endPoint: api.url,
    logins,
    apiRequests,
    tokens,
    expireAll: () => valid.clear(),
    close: async () => {
      await login.close();
      await api.close();
    },
  };
}
