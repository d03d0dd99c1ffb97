import { createLocalJWKSet, createRemoteJWKSet, customFetch, type JWTVerifyGetKey, jwtVerify } from "jose";
import { z } from "zod";
import {
  Duration,
  HooklineError,
  type InboundAuthKind,
  type InboundRefused,
  type InboundVerifier,
  type Logger,
  TransportError,
  timingSafeEqual,
} from "../../core/plugin/index.ts";
import { compileAuthKinds, type InboundAuth } from "./auth-kinds.ts";
import { verifyHmac, verifyStandardWebhook } from "./signatures.ts";

// The built-in inbound authentication kinds, each an `InboundAuthKind` registered under
// `Tokens.InboundAuth` as a third party's would be. Every comparison is constant-time.

const secret = z.string().min(1);

const refuse = (code: string, description: string, challenge?: string): InboundRefused => ({
  ok: false,
  code,
  description,
  challenge,
});

/** Constant-time membership: every candidate is compared, so the time says nothing about which matched. */
function oneOf(given: string, accepted: readonly string[]): boolean {
  let hit = false;
  for (const a of accepted) hit = timingSafeEqual(given, a) || hit;
  return hit;
}

const ApiKeyOptions = z
  .object({
    header: z.string().min(1).default("x-api-key").describe("the header carrying the key"),
    query: z.string().min(1).default("apiKey").describe("the query parameter, when allowQuery is on"),
    allowQuery: z
      .boolean()
      .default(false)
      .describe("accept the key in the URL (less secure: URLs are logged)"),
    keys: z.array(secret).min(1).describe("accepted keys (several, for rotation)"),
  })
  .strict();

/** `auth: { kind: apiKey, keys: [...] }`: a key in a header (or, when allowed, the query). */
export const apiKeyAuth: InboundAuthKind<z.output<typeof ApiKeyOptions>> = {
  kind: "apiKey",
  schema: ApiKeyOptions,
  secrets: (o) => o.keys,
  create: (o) => ({
    headers(request, url) {
      const header = request.headers.get(o.header);
      if (header !== null) {
        return oneOf(header.trim(), o.keys)
          ? { ok: true }
          : refuse("HOOKLINE_INBOUND_API_KEY", `wrong API key in the ${o.header} header`);
      }
      const inQuery = url.searchParams.get(o.query);
      if (inQuery !== null && !o.allowQuery)
        return refuse(
          "HOOKLINE_INBOUND_API_KEY_PLACEMENT",
          `this endpoint takes the API key in the ${o.header} header only, not in the query`,
        );
      if (inQuery !== null)
        return oneOf(inQuery, o.keys)
          ? { ok: true }
          : refuse("HOOKLINE_INBOUND_API_KEY", `wrong API key in the ${o.query} query parameter`);
      return refuse("HOOKLINE_INBOUND_API_KEY", `missing API key: send it in the ${o.header} header`);
    },
  }),
};

const BasicOptions = z
  .object({
    users: z.array(z.object({ username: z.string().min(1), password: secret }).strict()).min(1),
  })
  .strict();

/** `auth: { kind: basic, users: [{ username, password }] }`: HTTP Basic (RFC 7617, UTF-8). */
export const basicAuth: InboundAuthKind<z.output<typeof BasicOptions>> = {
  kind: "basic",
  schema: BasicOptions,
  secrets: (o) => o.users.map((u) => u.password),
  create: (o) => ({
    headers(request) {
      const challenge = 'Basic realm="hookline", charset="UTF-8"';
      const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(request.headers.get("authorization") ?? "");
      if (!m) return refuse("HOOKLINE_INBOUND_BASIC", "missing Basic credentials", challenge);
      let decoded: string;
      try {
        decoded = new TextDecoder("utf-8", { fatal: true }).decode(
          Uint8Array.from(atob(m[1]!), (ch) => ch.charCodeAt(0)),
        );
      } catch {
        return refuse("HOOKLINE_INBOUND_BASIC", "malformed Basic credentials", challenge);
      }
      const colon = decoded.indexOf(":");
      const user = colon < 0 ? decoded : decoded.slice(0, colon);
      const password = colon < 0 ? "" : decoded.slice(colon + 1);
      let hit = false;
      for (const u of o.users)
        hit = (timingSafeEqual(user, u.username) && timingSafeEqual(password, u.password)) || hit;
      return hit ? { ok: true } : refuse("HOOKLINE_INBOUND_BASIC", "wrong username or password", challenge);
    },
  }),
};

const BearerOptions = z
  .object({
    tokens: z.array(secret).min(1).optional().describe("accepted static tokens"),
    jwks: z
      .union([
        z.object({ url: z.url({ protocol: /^https?$/ }) }).strict(),
        z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }).strict(),
      ])
      .optional()
      .describe("verify JWTs against these keys: a JWKS URL or inline keys"),
    issuer: z.string().min(1).optional(),
    audience: z.string().min(1).optional(),
    algorithms: z.array(z.string().min(1)).optional(),
    clockTolerance: Duration.default(5_000),
  })
  .strict()
  .refine((a) => (a.tokens ? !a.jwks : a.jwks), "give either tokens or jwks")
  .refine((a) => !a.jwks || (a.issuer && a.audience), "JWT verification needs issuer and audience");

/**
 * `auth: { kind: bearer, tokens: [...] }` or `{ kind: bearer, jwks: { url }, issuer, audience }`: a
 * static token, or a JWT verified against a JWKS (fetched over the app's transport) or inline keys.
 */
export const bearerAuth: InboundAuthKind<z.output<typeof BearerOptions>> = {
  kind: "bearer",
  schema: BearerOptions,
  secrets: (o) => o.tokens ?? [],
  create(o, context) {
    const viaApp = jwksFetch(context.fetch, context.logger, context.endpoint);
    const keys: JWTVerifyGetKey | undefined = o.jwks
      ? "url" in o.jwks
        ? createRemoteJWKSet(new URL(o.jwks.url), {
            [customFetch]: (url, init) => viaApp(new Request(url, init)),
          })
        : createLocalJWKSet({ keys: o.jwks.keys as never })
      : undefined;
    return {
      async headers(request) {
        const m = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
        if (!m) return refuse("HOOKLINE_INBOUND_BEARER", "missing Bearer token", "Bearer");
        if (o.tokens)
          return oneOf(m[1]!, o.tokens)
            ? { ok: true }
            : refuse("HOOKLINE_INBOUND_BEARER", "wrong Bearer token", 'Bearer error="invalid_token"');
        try {
          await jwtVerify(m[1]!, keys!, {
            issuer: o.issuer,
            audience: o.audience,
            algorithms: o.algorithms,
            clockTolerance: Math.round(o.clockTolerance / 1000),
            currentDate: new Date(context.now()),
          });
          return { ok: true };
        } catch (e) {
          // jose's codes and messages name the failed check (exp, aud, signature), never the token.
          const code = (e as { code?: string }).code ?? "ERR_JWT_INVALID";
          return refuse(
            "HOOKLINE_INBOUND_JWT",
            `Bearer JWT refused (${code}): ${(e as Error).message}`,
            'Bearer error="invalid_token"',
          );
        }
      },
    };
  },
};

/**
 * A fetch for an endpoint's remote JWKS over the app's transport (SSRF guard, timeouts). A fetch that
 * got no answer is logged with its cause; the sender's 401 says only that the keys could not be
 * fetched (the cause may name internal addresses).
 */
function jwksFetch(
  fetch: (request: Request) => Promise<Response>,
  logger: Logger,
  endpoint: string,
): (request: Request) => Promise<Response> {
  return async (request) => {
    try {
      return await fetch(request);
    } catch (e) {
      const fault = e instanceof TransportError ? e.faultClass : request.signal.aborted ? "timeout" : "error";
      logger.log("warn", "inbound.jwks_unavailable", {
        endpoint,
        url: request.url,
        fault,
        error: (e as Error).message,
      });
      // jose's own timeout (its signal) stays jose's error: it reports it as a JWKS timeout.
      if (request.signal.aborted) throw e;
      throw new HooklineError(
        "HOOKLINE_INBOUND_JWKS",
        `the signing keys (JWKS) could not be fetched (${fault}); the receiver's log says why`,
        { cause: e },
      );
    }
  };
}

const StandardWebhooksOptions = z
  .object({
    secrets: z
      .array(secret.regex(/^whsec_[A-Za-z0-9+/=]+$/, "a secret of the form whsec_<base64>"))
      .min(1)
      .describe("accepted signing secrets (several, for rotation)"),
    tolerance: Duration.default(300_000).describe("how far webhook-timestamp may be from now"),
  })
  .strict();

/** `auth: { kind: standardWebhooks, secrets: [whsec_…] }`: a Standard Webhooks signature over the body. */
export const standardWebhooksAuth: InboundAuthKind<z.output<typeof StandardWebhooksOptions>> = {
  kind: "standardWebhooks",
  schema: StandardWebhooksOptions,
  // The key inside a `whsec_` secret could appear on its own.
  secrets: (o) => [...o.secrets, ...o.secrets.map((s) => s.slice("whsec_".length))],
  create: (o, context) => ({
    body: (request, raw) =>
      verifyStandardWebhook(request.headers, raw, o.secrets, o.tolerance, context.now()),
  }),
};

const HmacOptions = z
  .object({
    header: z.string().min(1).describe("the header carrying the signature"),
    algorithm: z.enum(["sha256", "sha1", "sha512"]).default("sha256"),
    secret,
    encoding: z.enum(["hex", "base64"]).default("hex"),
    prefix: z.string().default("").describe('text before the signature, e.g. "sha256="'),
  })
  .strict();

/** `auth: { kind: hmac, header, secret }`: an HMAC of the raw body in a header (GitHub's, Shopify's). */
export const hmacAuth: InboundAuthKind<z.output<typeof HmacOptions>> = {
  kind: "hmac",
  schema: HmacOptions,
  secrets: (o) => [o.secret],
  create: (o) => ({ body: (request, raw) => verifyHmac(request.headers, raw, o) }),
};

/** `auth: { kind: none }`: anyone may call (an IP allowlist may still apply). */
export const noAuth: InboundAuthKind<Record<string, never>> = {
  kind: "none",
  schema: z.object({}).strict(),
  secrets: () => [],
  create: () => ({}),
};

/** The kinds `inbound()` registers. */
export const builtinAuthKinds: readonly InboundAuthKind[] = [
  apiKeyAuth,
  bearerAuth,
  basicAuth,
  standardWebhooksAuth,
  hmacAuth,
  noAuth,
];

/** The built-in kinds alone, compiled (`InboundSection` and `authenticator` use them). */
export const builtinAuth = compileAuthKinds(builtinAuthKinds);

/**
 * The verifier for an `auth:` of a built-in kind, outside an app (the clock and JWKS fetch default to
 * the runtime's own).
 *
 * @example
 * const auth = authenticator({ kind: "apiKey", header: "x-api-key", query: "apiKey", allowQuery: false, keys: ["k1"] });
 * await auth.headers!(request, new URL(request.url)) // { ok: true } or { ok: false, code, description }
 */
export function authenticator(
  auth: InboundAuth,
  options: { now?: () => number; fetch?: (request: Request) => Promise<Response> } = {},
): InboundVerifier {
  return builtinAuth.verifier(auth, {
    endpoint: "",
    now: options.now ?? Date.now,
    fetch: options.fetch ?? ((request) => fetch(request)),
    logger: { log: () => {} },
  });
}
