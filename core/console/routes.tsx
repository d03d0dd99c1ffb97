/** @jsxImportSource hono/jsx */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { ConsoleSection } from "../contracts/console.ts";
import type { PluginHost } from "../contracts/host.ts";
import type { Role } from "../contracts/tokens.ts";
import { HooklineError, HttpError } from "../errors.ts";
import type { AdminApp } from "../http/admin-app.ts";
import { TOKEN_CACHE_MS } from "../http/roles.ts";
import { timingSafeEqual } from "../security/constant-time.ts";
import { tokenHash } from "../security/token-hash.ts";
import { cached } from "../telemetry/prometheus.ts";
import { remember } from "../util/remember.ts";
import { consoleAssets } from "./assets.ts";
import { deliveriesSection } from "./deliveries.tsx";
import { integrationsSection } from "./integrations.tsx";
import { consoleKit, consolePage, isHtmx, navOf, REDIRECT, VIEWER, viewerOf } from "./kit.tsx";
import { BASE, Layout, type Viewer } from "./layout.tsx";
import { OverviewCards, OverviewPage, readOverview } from "./overview.tsx";
import { policiesSection } from "./policies.tsx";
import { presetsSection } from "./presets.tsx";
import { randomId, SESSION_TTL_MS, SessionSigner, SIGN_IN_TTL_MS } from "./session.ts";
import { webhooksSection } from "./webhooks.tsx";

const SESSION_COOKIE = "hookline_console";
const SIGN_IN_COOKIE = "hookline_console_sign_in";
const FORM_BYTES = 16 * 1024;
/** How long one read of the overview serves every console polling it. */
const OVERVIEW_CACHE_MS = 2_000;

/**
 * Every console answer's headers: a CSP that lets the page load scripts, styles and images from this
 * server only and run no inline script or style, no framing, no sniffing, no referrer, no caching.
 */
export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

const securityHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.res.headers.set("content-security-policy", CONSOLE_CSP);
  c.res.headers.set("x-content-type-options", "nosniff");
  c.res.headers.set("x-frame-options", "DENY");
  c.res.headers.set("referrer-policy", "no-referrer");
  if (!c.res.headers.has("cache-control")) c.res.headers.set("cache-control", "no-store");
};

/** Whether the browser reached us over https (directly or through a proxy that says so). */
const overHttps = (c: Context) =>
  new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";

const cookieOptions = (c: Context, maxAgeMs: number) =>
  ({
    path: BASE,
    httpOnly: true,
    sameSite: "Strict",
    secure: overHttps(c),
    maxAge: Math.floor(maxAgeMs / 1000),
  }) as const;

/** The console's roles: who may sign in (a publisher token only publishes, so it has nothing to see). */
const CONSOLE_ROLES: readonly Role[] = ["admin", "editor", "viewer"];

/**
 * `/console`: the operators' web console, server-rendered with hono/jsx and htmx (served from its
 * npm package by this server). Sign-in exchanges the admin token or an API token for a signed
 * session cookie; every POST checks the session's CSRF token and, as the admin API does, the role
 * (`rolesFor` of the admin route the action stands for). Without an admin token it is off.
 *
 * @example http.route("/console", consoleRoutes(app, { adminToken, host }))
 */
export function consoleRoutes(
  app: AdminApp,
  options: { adminToken?: string; host: PluginHost; sections?: readonly ConsoleSection[] },
) {
  const r = new Hono();
  // The core's sections, then the plugins' (`HttpRoutes.console`).
  const sections: ConsoleSection[] = [
    deliveriesSection(app),
    integrationsSection(app),
    webhooksSection(app),
    presetsSection(app),
    policiesSection(app),
    ...(options.sections ?? []),
  ];
  const nav = navOf(sections);
  const kit = consoleKit(options.host, nav);
  const secretKey = options.host.env.HOOKLINE_SECRET_KEY;
  let signer: Promise<SessionSigner> | undefined;
  const keys = () => {
    if (!signer) {
      signer = SessionSigner.create(secretKey || undefined);
      if (!secretKey)
        app.logger.log(
          "warn",
          "console: HOOKLINE_SECRET_KEY is not set, so console sessions are signed with a random key of this process: they end when it stops and are not valid on other processes",
        );
    }
    return signer;
  };
  // One read of the overview per OVERVIEW_CACHE_MS for every console open on this process: each polls.
  const overview = cached(() => readOverview(app, options.host.sql), OVERVIEW_CACHE_MS);
  const adminHash = options.adminToken ? tokenHash(options.adminToken) : undefined;
  const known = new Map<string, { role?: Role; until: number }>();

  /** The live role of a token's hash: the admin token's, or an API token's from the store (cached as the API's guard caches it). */
  const roleOfHash = async (hash: string): Promise<Role | undefined> => {
    if (adminHash && timingSafeEqual(hash, adminHash)) return "admin";
    const hit = known.get(hash);
    if (hit && hit.until > Date.now()) return hit.role;
    const role = await app.store.roleOfHash(hash);
    remember(known, hash, { role, until: Date.now() + TOKEN_CACHE_MS });
    return role;
  };

  r.use("*", securityHeaders);
  r.route("/assets", consoleAssets());
  r.use("*", async (_c, next) => {
    if (!options.adminToken)
      throw new HttpError(
        "HOOKLINE_ADMIN_TOKEN_REQUIRED",
        "the console needs HOOKLINE_ADMIN_TOKEN: set it and sign in with it",
        { status: 503 },
      );
    await next();
  });
  r.use("*", bodyLimit({ maxSize: FORM_BYTES, onError: (c) => c.text("form too large", 413) }));

  const signInPage = async (c: Context, status: 200 | 401 | 403, error?: string) => {
    const nonce = randomId();
    const k = await keys();
    setCookie(
      c,
      SIGN_IN_COOKIE,
      await k.signNonce(nonce, Date.now() + SIGN_IN_TTL_MS),
      cookieOptions(c, SIGN_IN_TTL_MS),
    );
    const csrf = await k.csrfToken(`sign-in:${nonce}`);
    return c.html(
      <Layout title="Sign in">
        <section class="card signin">
          <h1>hookline console</h1>
          <form method="post" action={`${BASE}/sign-in`}>
            <input type="hidden" name="_csrf" value={csrf} />
            <label>
              Token
              <input
                type="password"
                name="token"
                autocomplete="current-password"
                required
                autofocus
                aria-describedby="token-help"
              />
            </label>
            <p id="token-help" class="muted">
              HOOKLINE_ADMIN_TOKEN, or an API token (admin, editor or viewer).
            </p>
            {error ? (
              <p class="error" role="alert">
                {error}
              </p>
            ) : null}
            <button type="submit">Sign in</button>
          </form>
        </section>
      </Layout>,
      status,
    );
  };

  r.get("/sign-in", consolePage("The console's sign-in page"), (c) => signInPage(c, 200));
  r.post(
    "/sign-in",
    consolePage("Exchanges a token for a console session cookie", { answers: REDIRECT }),
    async (c) => {
      const k = await keys();
      const form = await c.req.parseBody();
      const nonce = await k.verifyNonce(getCookie(c, SIGN_IN_COOKIE));
      if (!nonce || !(await k.checkCsrf(`sign-in:${nonce}`, String(form._csrf ?? ""))))
        return signInPage(c, 403, "The form expired or did not come from this console: try again.");
      const token = String(form.token ?? "").trim();
      const hash = tokenHash(token);
      const role = token ? await roleOfHash(hash) : undefined;
      if (!role || !CONSOLE_ROLES.includes(role))
        return signInPage(
          c,
          401,
          role === "publisher"
            ? "A publisher token cannot sign in to the console."
            : "Wrong or revoked token.",
        );
      const expires = Date.now() + SESSION_TTL_MS;
      setCookie(
        c,
        SESSION_COOKIE,
        await k.sign({ role, tokenHash: hash, id: randomId(), expires }),
        cookieOptions(c, SESSION_TTL_MS),
      );
      deleteCookie(c, SIGN_IN_COOKIE, { path: BASE });
      return c.redirect(BASE, 303);
    },
  );

  // Every other page needs a live session: signed by us, not expired, its token still live with the
  // role it signed in with (a revoked or re-roled token ends the session at once, give or take the
  // role cache's few seconds).
  r.use("*", async (c, next) => {
    const k = await keys();
    const session = await k.verify(getCookie(c, SESSION_COOKIE));
    const live = session ? await roleOfHash(session.tokenHash) : undefined;
    if (!session || live !== session.role) {
      if (isHtmx(c)) return c.body(null, 401, { "hx-redirect": `${BASE}/sign-in` });
      if (c.req.method === "GET") return c.redirect(`${BASE}/sign-in`, 303);
      throw new HttpError(
        "HOOKLINE_HTTP_UNAUTHORIZED",
        "not signed in, or the session has ended: sign in again",
      );
    }
    if (c.req.method === "POST") {
      const form = await c.req.parseBody();
      if (!(await k.checkCsrf(session.id, String(form._csrf ?? ""))))
        throw new HttpError(
          "HOOKLINE_HTTP_FORBIDDEN",
          "the form's CSRF token is missing or wrong: reload the page",
        );
    }
    c.set(
      VIEWER as never,
      { role: session.role, csrf: await k.csrfToken(session.id) } satisfies Viewer as never,
    );
    await next();
  });

  r.post("/sign-out", consolePage("Ends the console session", { answers: REDIRECT }), (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: BASE });
    return c.redirect(`${BASE}/sign-in`, 303);
  });

  r.get("/", consolePage("The console's overview"), async (c) => {
    const data = await overview();
    return c.html(
      <Layout title="Overview" viewer={viewerOf(c)} nav={nav} active="overview">
        <OverviewPage data={data} />
      </Layout>,
    );
  });
  r.get("/overview/live", consolePage("The overview's live cards (an HTML fragment htmx polls)"), async (c) =>
    c.html(<OverviewCards data={await overview()} />),
  );

  for (const section of sections) {
    const pages = new Hono();
    section.mount(pages, kit);
    r.route(`/${section.path}`, pages);
  }

  r.onError((e, c) => {
    const status = e instanceof HttpError ? e.status : 500;
    const message =
      e instanceof HooklineError ? e.message : "something went wrong; the server's log says what";
    if (!(e instanceof HttpError))
      app.logger.log("error", "console: request failed", { error: (e as Error).message });
    const title = status === 403 ? "Refused" : status === 404 ? "Not found" : "Error";
    return c.html(
      <Layout title={title}>
        <section class="card signin">
          <h1>{title}</h1>
          <p class="error" role="alert">
            {message}
          </p>
          <p>
            <a href={BASE}>Back to the console</a>
          </p>
        </section>
      </Layout>,
      status as 400,
    );
  });
  return r;
}
