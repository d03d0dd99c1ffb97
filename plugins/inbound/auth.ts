import { createLocalJWKSet, createRemoteJWKSet, customFetch, type JWTVerifyGetKey, jwtVerify } from "jose";
import { timingSafeEqual } from "../../core/security/constant-time.ts";
import type { InboundAuth } from "./config.ts";
import { verifyHmac, verifyStandardWebhook } from "./signatures.ts";

/** The outcome of one authentication step. `senderId` is the sender's own id for the request, if signed. */
export type AuthVerdict =
  | { ok: true; senderId?: string }
  | { ok: false; code: string; message: string; challenge?: string };

/**
 * Authenticates requests for one endpoint. `headers` runs before the body is read (keys, tokens,
 * passwords); `body` runs on the raw bytes (signatures). Either may be absent.
 */
export interface Authenticator {
  headers?(request: Request, url: URL): AuthVerdict | Promise<AuthVerdict>;
  body?(request: Request, raw: Uint8Array): Promise<AuthVerdict>;
}

const refuse = (code: string, message: string, challenge?: string): AuthVerdict => ({
  ok: false,
  code,
  message,
  challenge,
});

/** Constant-time membership: every candidate is compared, so the time says nothing about which matched. */
function oneOf(given: string, accepted: readonly string[]): boolean {
  let hit = false;
  for (const a of accepted) hit = timingSafeEqual(given, a) || hit;
  return hit;
}

export interface AuthenticatorOptions {
  /** The clock (ms since the epoch) for token expiry and signature timestamps; default `Date.now`. */
  now?: () => number;
  /**
   * Fetches a remote JWKS: the app's `outboundFetch` (its SSRF guard and timeouts), so that a JWKS URL
   * cannot reach what outbound webhooks may not. Default: the global fetch.
   */
  fetch?: (request: Request) => Promise<Response>;
}

/**
 * Builds the authenticator for an endpoint's `auth` settings.
 *
 * @example
 * const auth = authenticator({ kind: "apiKey", header: "x-api-key", query: "apiKey", allowQuery: false, keys: ["k1"] });
 * await auth.headers!(request, new URL(request.url)) // { ok: true } or { ok: false, code, message }
 * authenticator(endpoint.auth, { fetch: app.outboundFetch }) // a remote JWKS fetched over the app's transport
 */
export function authenticator(auth: InboundAuth, options: AuthenticatorOptions = {}): Authenticator {
  const now = options.now ?? Date.now;
  switch (auth.kind) {
    case "none":
      return {};
    case "apiKey":
      return {
        headers(request, url) {
          const header = request.headers.get(auth.header);
          if (header !== null) {
            return oneOf(header.trim(), auth.keys)
              ? { ok: true }
              : refuse("HOOKLINE_INBOUND_API_KEY", `wrong API key in the ${auth.header} header`);
          }
          const inQuery = url.searchParams.get(auth.query);
          if (inQuery !== null && !auth.allowQuery)
            return refuse(
              "HOOKLINE_INBOUND_API_KEY_PLACEMENT",
              `this endpoint takes the API key in the ${auth.header} header only, not in the query`,
            );
          if (inQuery !== null)
            return oneOf(inQuery, auth.keys)
              ? { ok: true }
              : refuse("HOOKLINE_INBOUND_API_KEY", `wrong API key in the ${auth.query} query parameter`);
          return refuse("HOOKLINE_INBOUND_API_KEY", `missing API key: send it in the ${auth.header} header`);
        },
      };
    case "basic":
      return {
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
          for (const u of auth.users)
            hit = (timingSafeEqual(user, u.username) && timingSafeEqual(password, u.password)) || hit;
          return hit
            ? { ok: true }
            : refuse("HOOKLINE_INBOUND_BASIC", "wrong username or password", challenge);
        },
      };
    case "bearer": {
      const viaApp = options.fetch;
      const keys: JWTVerifyGetKey | undefined = auth.jwks
        ? "url" in auth.jwks
          ? createRemoteJWKSet(
              new URL(auth.jwks.url),
              viaApp ? { [customFetch]: (url, init) => viaApp(new Request(url, init)) } : {},
            )
          : createLocalJWKSet({ keys: auth.jwks.keys as never })
        : undefined;
      return {
        async headers(request) {
          const m = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "");
          if (!m) return refuse("HOOKLINE_INBOUND_BEARER", "missing Bearer token", "Bearer");
          if (auth.tokens)
            return oneOf(m[1]!, auth.tokens)
              ? { ok: true }
              : refuse("HOOKLINE_INBOUND_BEARER", "wrong Bearer token", 'Bearer error="invalid_token"');
          try {
            await jwtVerify(m[1]!, keys!, {
              issuer: auth.issuer,
              audience: auth.audience,
              algorithms: auth.algorithms,
              clockTolerance: Math.round(auth.clockTolerance / 1000),
              currentDate: new Date(now()),
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
    }
    case "standardWebhooks":
      return {
        body: (request, raw) =>
          verifyStandardWebhook(request.headers, raw, auth.secrets, auth.tolerance, now()),
      };
    case "hmac":
      return {
        body: (request, raw) => verifyHmac(request.headers, raw, auth),
      };
  }
}
