import { HooklineError, TransportError } from "../../core/plugin/index.ts";

/** What a Responsys login returns and hookline keeps. */
export interface ResponsysSession {
  /** Sent as the raw value of the Authorization header (no scheme). */
  authToken: string;
  /** The account's REST API base URL: every later call goes there. */
  endPoint: string;
  /** When Responsys issued the token (ms since the epoch), if it said. */
  issuedAt?: number;
}

export interface ResponsysLoginOptions {
  /** The pod's or account's login URL, e.g. `https://login5.responsys.net/`. */
  loginEndpoint: string;
  username: string;
  password: string;
  fetch: (request: Request) => Promise<Response>;
  signal?: AbortSignal;
}

/** The login service path (Responsys REST API v1.3, "Login with username and password"). */
export const LOGIN_PATH = "/rest/api/v1.3/auth/token";

/**
 * The login URL for a login endpoint: the endpoint's path with the service path appended.
 *
 * @example loginUrl("https://login5.responsys.net/") // "https://login5.responsys.net/rest/api/v1.3/auth/token"
 */
export function loginUrl(loginEndpoint: string): string {
  const u = new URL(loginEndpoint);
  u.pathname = `${u.pathname.replace(/\/+$/, "")}${LOGIN_PATH}`;
  u.search = "";
  u.hash = "";
  return u.href;
}

const scrub = (text: string, secrets: string[]) =>
  secrets.reduce((t, s) => (s.length >= 4 ? t.split(s).join("[REDACTED]") : t), text);

/**
 * Logs in with username and password: `POST {loginEndpoint}/rest/api/v1.3/auth/token` with the form
 * fields `user_name`, `password` and `auth_type=password` in the body (never in the URL, as Oracle
 * requires), and returns `authToken` and `endPoint`. A refusal (401 with Responsys' error JSON)
 * throws `HooklineError` `HOOKLINE_RESPONSYS_LOGIN` with its `errorCode`; a 5xx / 429 answer or none
 * throws `TransportError` (retried); an answer without a token throws `HOOKLINE_RESPONSYS_LOGIN_RESPONSE`.
 *
 * @example const { authToken, endPoint } = await responsysLogin({ loginEndpoint, username, password, fetch });
 */
export async function responsysLogin(o: ResponsysLoginOptions): Promise<ResponsysSession> {
  const url = loginUrl(o.loginEndpoint);
  const where = `Responsys login ${url}`;
  const secrets = [o.password, new URLSearchParams({ p: o.password }).toString().slice(2)];
  const body = new URLSearchParams({ user_name: o.username, password: o.password, auth_type: "password" });
  let response: Response;
  try {
    response = await o.fetch(
      new Request(url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: body.toString(),
        signal: o.signal,
      }),
    );
  } catch (e) {
    if (e instanceof TransportError)
      throw new TransportError(e.faultClass, scrub(`${where}: ${e.message}`, secrets), { cause: e });
    throw e;
  }
  const text = await response.text();
  if (response.status >= 500 || response.status === 429)
    throw new TransportError("network", `${where} answered HTTP ${response.status}`);
  let json: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === "object") json = parsed as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  const str = (v: unknown) => (typeof v === "string" && v.length > 0 ? v : undefined);
  if (response.status !== 200) {
    const code = str(json?.errorCode) ?? "no errorCode";
    const said = [str(json?.title), str(json?.detail)].filter(Boolean).join(": ").slice(0, 300);
    throw new HooklineError(
      "HOOKLINE_RESPONSYS_LOGIN",
      scrub(
        `${where} refused user "${o.username}": ${code}${said ? ` (${said})` : ""} [HTTP ${response.status}]`,
        secrets,
      ),
    );
  }
  const authToken = str(json?.authToken);
  const endPoint = str(json?.endPoint);
  let endPointOk = false;
  try {
    endPointOk = endPoint !== undefined && /^https?:$/.test(new URL(endPoint).protocol);
  } catch {
    endPointOk = false;
  }
  if (!authToken || !endPoint || !endPointOk) {
    throw new HooklineError(
      "HOOKLINE_RESPONSYS_LOGIN_RESPONSE",
      `${where}: expected JSON with authToken and an http(s) endPoint, got ${json ? `keys ${Object.keys(json).join(", ") || "none"}` : "no JSON"}`,
    );
  }
  const issuedAt = typeof json?.issuedAt === "number" ? json.issuedAt : undefined;
  return { authToken, endPoint, issuedAt };
}
