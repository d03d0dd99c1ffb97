import type { z } from "zod";
import type { Logger } from "./logger.ts";

/** A request the verifier lets through. `senderId` is the sender's own id for it, when signed (the replay key). */
export interface InboundAccepted {
  readonly ok: true;
  readonly senderId?: string;
}

/**
 * A request the verifier refuses: answered `status` (401 when absent; 403 for a sender known but not
 * allowed) with the receiving-endpoint contract's `{ success: false, errors: [{ code, description }] }`.
 */
export interface InboundRefused {
  readonly ok: false;
  readonly status?: number;
  /** Stable, for the sender to branch on: `HOOKLINE_INBOUND_SIGNATURE`, `PARTNER_SIGNATURE`, … */
  readonly code: string;
  /** What was expected and what came; never a secret (it is sent and logged). */
  readonly description: string;
  /** A `WWW-Authenticate` challenge sent with the refusal (`Basic realm="hookline"`). */
  readonly challenge?: string;
}

export type InboundVerdict = InboundAccepted | InboundRefused;

/**
 * Authenticates the requests of one endpoint, in the receiving pipeline's order: `headers` before the
 * body is read (keys, tokens, passwords: a refusal costs no body), `body` on its raw bytes once the
 * content type and size limit passed (signatures). Either may be absent; neither may throw for a bad
 * request (refuse it). Compare secrets in constant time (`timingSafeEqual`, `crypto.subtle.verify`).
 */
export interface InboundVerifier {
  headers?(request: Request, url: URL): InboundVerdict | Promise<InboundVerdict>;
  body?(request: Request, body: Uint8Array): InboundVerdict | Promise<InboundVerdict>;
}

/** What a verifier may use of the app it receives in. */
export interface InboundAuthContext {
  /** The endpoint's name. */
  readonly endpoint: string;
  /** The clock, ms since the epoch (token expiry, signature timestamps). */
  now(): number;
  /** `fetch` over the app's transport (SSRF guard, timeouts): a JWKS, a key server. */
  fetch(request: Request): Promise<Response>;
  readonly logger: Logger;
}

/**
 * An inbound authentication kind: what an endpoint's `auth: { kind, … }` may name. `schema` validates
 * the kind's options (everything but `kind`) when the config loads, or when an endpoint comes through
 * `PUT /v1/inbound/:name`; its issues point at the file's line like any other. A plugin registers a
 * kind under `Tokens.InboundAuth`; the inbound plugin's built-in kinds (apiKey, basic, bearer, hmac,
 * standardWebhooks, none) are registered the same way.
 *
 * @example
 * const partner: InboundAuthKind<{ token: string }> = {
 *   kind: "partner-token",
 *   schema: z.object({ token: z.string().min(16) }).strict(),
 *   secrets: (o) => [o.token],
 *   create: (o) => ({
 *     headers: (request) => timingSafeEqual(request.headers.get("x-partner-token") ?? "", o.token)
 *       ? { ok: true }
 *       : { ok: false, code: "PARTNER_TOKEN", description: "wrong or missing X-Partner-Token" },
 *   }),
 * };
 * // plugin: register(c) { c.register(Tokens.InboundAuth, { useValue: partner }) }
 */
export interface InboundAuthKind<O = any> {
  readonly kind: string;
  readonly schema: z.ZodType<O>;
  /**
   * Every secret value the options hold: redacted wherever the app writes text, sealed at rest
   * (HOOKLINE_SECRET_KEY) when the endpoint comes through the admin API, shown as "[REDACTED]".
   */
  secrets(options: O): readonly string[];
  /** Called once per endpoint (and again when an API-defined endpoint changes), not per request. */
  create(options: O, context: InboundAuthContext): InboundVerifier;
}
