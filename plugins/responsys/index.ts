import { z } from "zod";
import {
  type AuthContext,
  type AuthIntegration,
  type AuthProvider,
  Duration,
  HooklineError,
  type OutboundRequest,
  type Plugin,
  SingleFlightCache,
  Tokens,
} from "../../core/plugin/index.ts";
import { type ResponsysSession, responsysLogin } from "./login.ts";

export { LOGIN_PATH, loginUrl, type ResponsysSession, responsysLogin } from "./login.ts";

const httpUrl = z.url({ protocol: /^https?$/, error: "an absolute http:// or https:// URL" });

/** Responsys tokens last two hours; logging in again after 1 h 50 min leaves a safe margin. */
const DEFAULT_TOKEN_LIFETIME = 110 * 60_000;

export const ResponsysOptions = z
  .object({
    loginEndpoint: httpUrl.describe("the pod's or account's login URL, e.g. https://login5.responsys.net/"),
    username: z.string().min(1).describe("an API user exclusive to this integration"),
    password: z.string().min(1).describe("secret: redacted everywhere, never exported"),
    tokenLifetime: Duration.default(DEFAULT_TOKEN_LIFETIME).describe(
      "log in again after this long (Responsys tokens last 2 hours); default 110m",
    ),
  })
  .strict();
export type ResponsysOptions = z.output<typeof ResponsysOptions>;

/**
 * Where a webhook URL goes once logged in: a path (`/rest/api/v1.3/lists/x/members`), or a URL on
 * the login endpoint's origin, is sent to the account's `endPoint`; any other URL is left alone.
 */
function rewrite(url: string, loginOrigin: string, session: () => Promise<ResponsysSession>) {
  if (url.startsWith("/") && !url.startsWith("//"))
    return session().then((s) => joinEndPoint(s.endPoint, url));
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HooklineError(
      "HOOKLINE_RESPONSYS_URL",
      `expected an absolute URL or a path starting with "/", got "${url.slice(0, 100)}"`,
    );
  }
  if (parsed.origin !== loginOrigin) return url;
  return session().then((s) => joinEndPoint(s.endPoint, `${parsed.pathname}${parsed.search}`));
}

/** `endPoint` (with or without a trailing slash or a path of its own) followed by `path`. */
function joinEndPoint(endPoint: string, path: string): string {
  return `${endPoint.replace(/\/+$/, "")}${path}`;
}

function createResponsys(o: ResponsysOptions, context: AuthContext): AuthIntegration {
  const loginOrigin = new URL(o.loginEndpoint).origin;
  const sessions = new SingleFlightCache<ResponsysSession>(async () => {
    const session = await responsysLogin({ ...o, fetch: context.fetch });
    context.logger.log("debug", "responsys.logged_in", {
      integration: context.name,
      endPoint: session.endPoint,
    });
    return { value: session, refreshAt: Date.now() + o.tokenLifetime };
  });
  return {
    credentialHeaders: ["authorization"],
    secrets: () => [o.password, new URLSearchParams({ p: o.password }).toString().slice(2)],
    resolveUrl: (url, { signal }) => rewrite(url, loginOrigin, () => sessions.get(signal)),
    async authorize(request, { signal }) {
      const session = await sessions.get(signal);
      // Responsys takes the token itself as the header value, without a scheme.
      return { ...request, headers: { ...request.headers, authorization: session.authToken } };
    },
    // The core authorizes and sends once more after this. Given the refused request, exactly its
    // token is dropped; without it, the cached session (see SingleFlightCache.refused).
    onUnauthorized(refused?: OutboundRequest) {
      const token = refused?.headers.authorization;
      if (token !== undefined) sessions.drop((s) => s.authToken === token);
      else sessions.refused();
      return true;
    },
  };
}

/**
 * Oracle Responsys (REST API v1.3) as an authentication kind: logs in with username and password,
 * sends webhooks given as paths to the account's API endpoint, re-logs in on 401 and before the token
 * ages out.
 *
 * @example
 * integrations:
 *   rsys: { kind: responsys, endpointPrefix: "https://rest001.rsys5.net/rest/api/v1.3",
 *           loginEndpoint: "https://login5.responsys.net/", username: hookline-api, password: "${RSYS_PASSWORD}" }
 */
export const responsysProvider: AuthProvider<ResponsysOptions> = {
  kind: "responsys",
  schema: ResponsysOptions,
  secretFields: ["password"],
  secretsRequiredOnChange: ["loginEndpoint", "username"],
  create: createResponsys,
};

/** @example createHookline({ plugins: [...defaultPlugins(), responsys()] }) */
export const responsys = (): Plugin => ({
  name: "responsys",
  register(container) {
    container.register(Tokens.AuthProvider, { useValue: responsysProvider });
  },
});
