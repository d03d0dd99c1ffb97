import type { Context, MiddlewareHandler } from "hono";
import { bearerAuth } from "hono/bearer-auth";
import { ROLES, type Role, type TokenStore } from "../contracts/tokens.ts";
import { HooklineError, HttpError } from "../errors.ts";
import { timingSafeEqual } from "../security/constant-time.ts";
import { tokenHash } from "../security/token-hash.ts";
import { remember } from "../util/remember.ts";

/** RFC 6750's b64token: all a Bearer credential can carry. */
const B64TOKEN = /^[A-Za-z0-9._~+/-]+=*$/;
/** How long a token's role is kept before it is looked up again: a revocation elsewhere takes this long. */
export const TOKEN_CACHE_MS = 5_000;
const ROLE = "hookline.role";

const ANY_READER: Role[] = ["admin", "editor", "viewer"];
const EDITORS: Role[] = ["admin", "editor"];
const PUBLISHERS: Role[] = ["admin", "publisher"];
const ADMIN: Role[] = ["admin"];

/** One path segment, as a route pattern (`:name`, `{name}`) or a request path has it. */
const SEG = "[^/]+";
/** A rule over paths written with `:` for one segment and `**` for any rest, e.g. `/v1/webhooks/:/test`. */
const rule = (method: string, path: string, roles: Role[]) => ({
  method,
  path: new RegExp(`^${path.replaceAll("**", ".*").replaceAll(":", SEG)}/?$`),
  roles,
});

/**
 * Who may call each admin route, first match wins; what no rule names is for admins. Reading is for
 * every role but publishers (tokens aside); publishing events and activities for publishers; editing
 * testing and copying webhooks and integrations, and editing segments, for editors (an editor's
 * integration carries no secret: the route refuses one); what stops or starts traffic (resume,
 * disable, enable, fire) for admins.
 */
const RULES = [
  rule("*", "/v1/tokens", ADMIN),
  rule("*", "/v1/tokens/**", ADMIN),
  rule("GET", "/v1/**", ANY_READER),
  rule("HEAD", "/v1/**", ANY_READER),
  rule("POST", "/v1/events", PUBLISHERS),
  rule("POST", "/v1/activities", PUBLISHERS),
  rule("PUT", "/v1/webhooks/:", EDITORS),
  rule("DELETE", "/v1/webhooks/:", EDITORS),
  rule("POST", "/v1/webhooks/:/test", EDITORS),
  rule("POST", "/v1/webhooks/:/copy", EDITORS),
  rule("PUT", "/v1/integrations/:", EDITORS),
  rule("POST", "/v1/integrations/:/test", EDITORS),
  rule("PUT", "/v1/segments/:", EDITORS),
  rule("DELETE", "/v1/segments/:", EDITORS),
];

/**
 * The roles that may call `method path` (a request path or a route pattern, `:name` or `{name}`).
 *
 * @example rolesFor("PUT", "/v1/webhooks/{name}") // ["admin", "editor"]
 */
export function rolesFor(method: string, path: string): Role[] {
  const m = method.toUpperCase();
  for (const r of RULES) if ((r.method === "*" || r.method === m) && r.path.test(path)) return r.roles;
  return ADMIN;
}

/** The role of the token the request came with (admin when the admin API is open on loopback). */
export const roleOf = (c: Context): Role => (c.get(ROLE as never) as Role | undefined) ?? "admin";

/**
 * The admin API's guard: `Authorization: Bearer <token>`, the admin token (compared in constant time)
 * or an API token from the store (by its SHA-256, its role kept `TOKEN_CACHE_MS`), then the route's
 * roles (`rolesFor`). A missing or unknown token is the one 401 `HOOKLINE_HTTP_UNAUTHORIZED` with
 * `WWW-Authenticate: Bearer`; a known one whose role may not call the route is 403
 * `HOOKLINE_HTTP_FORBIDDEN`, naming the roles that may.
 *
 * @example http.use("/v1/*", apiTokens("s3cr3t-token", store));
 */
export function apiTokens(adminToken: string, tokens?: Pick<TokenStore, "roleOfHash">) {
  if (!B64TOKEN.test(adminToken))
    throw new HooklineError(
      "HOOKLINE_ADMIN_TOKEN_INVALID",
      "HOOKLINE_ADMIN_TOKEN must be a Bearer token: letters, digits and -._~+/ with = only at the end (e.g. openssl rand -hex 32)",
    );
  const known = new Map<string, { role?: Role; until: number }>();
  const lookup = async (given: string): Promise<Role | undefined> => {
    if (timingSafeEqual(given, adminToken)) return "admin";
    if (!tokens || !given.startsWith("hl_")) return undefined;
    const hash = tokenHash(given);
    const hit = known.get(hash);
    if (hit && hit.until > Date.now()) return hit.role;
    const role = await tokens.roleOfHash(hash);
    remember(known, hash, { role, until: Date.now() + TOKEN_CACHE_MS });
    return role;
  };
  const refuse = (): never => {
    throw new HttpError(
      "HOOKLINE_HTTP_UNAUTHORIZED",
      "missing or wrong bearer token (HOOKLINE_ADMIN_TOKEN or an API token)",
      {
        headers: { "www-authenticate": "Bearer" },
      },
    );
  };
  const bearer = bearerAuth({
    verifyToken: async (given, c) => {
      const role = await lookup(given);
      if (!role || !ROLES.includes(role)) return false;
      c.set(ROLE as never, role as never);
      return true;
    },
    // bearer-auth answers each refusal with its own Response; these throw first, so ours are answered.
    noAuthenticationHeader: { message: refuse },
    invalidAuthenticationHeader: { message: refuse },
    invalidToken: { message: refuse },
  });
  const guard: MiddlewareHandler = async (c, next) =>
    bearer(c, async () => {
      const role = roleOf(c);
      const allowed = rolesFor(c.req.method, c.req.path);
      if (!allowed.includes(role))
        throw new HttpError(
          "HOOKLINE_HTTP_FORBIDDEN",
          `a ${role} token may not ${c.req.method} ${c.req.path}; it needs one of: ${allowed.join(", ")}`,
        );
      await next();
    });
  return Object.assign(guard, { forget: () => known.clear() });
}
