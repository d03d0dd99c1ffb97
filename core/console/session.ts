import type { Role } from "../contracts/tokens.ts";
import { timingSafeEqual } from "../security/constant-time.ts";

/** How long a console session lasts after sign-in (it is not extended by use). */
export const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
/** How long the sign-in form's CSRF token lasts (its own short cookie). */
export const SIGN_IN_TTL_MS = 10 * 60 * 1000;

/**
 * What a session cookie carries, signed: the role at sign-in, the SHA-256 of the token signed in with
 * (so that a revoked or re-roled token ends its sessions), a random id the CSRF token is made from,
 * and when it expires.
 */
export interface ConsoleSession {
  role: Role;
  /** `tokenHash` of the token (hex); never the token. */
  tokenHash: string;
  /** Random, base64url: the session's CSRF token is an HMAC of it. */
  id: string;
  /** Epoch milliseconds. */
  expires: number;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

const b64url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes))
    .replaceAll("+", "-")
    .replaceAll("/", "_")
    .replace(/=+$/, "");
const fromB64url = (s: string): Uint8Array => {
  const bin = atob(s.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(bin, (ch) => ch.charCodeAt(0));
};

/** A random base64url string of `bytes` random bytes. */
export const randomId = (bytes = 18): string => b64url(crypto.getRandomValues(new Uint8Array(bytes)));

/**
 * Signs and checks the console's cookies and CSRF tokens with one HMAC-SHA-256 key. The key is
 * derived from `HOOKLINE_SECRET_KEY` when it is set (sessions then survive a restart and are valid on
 * every process sharing that key); without it the key is random per process, so sessions end when the
 * process does and a load balancer must keep a browser on one process.
 *
 * @example
 * const signer = await SessionSigner.create(env.HOOKLINE_SECRET_KEY);
 * const cookie = await signer.sign({ role: "admin", tokenHash, id: randomId(), expires });
 */
export class SessionSigner {
  private constructor(
    private readonly key: CryptoKey,
    /** Whether the key comes from HOOKLINE_SECRET_KEY (else: random, this process only). */
    readonly fromSecretKey: boolean,
  ) {}

  static async create(secretKey?: string): Promise<SessionSigner> {
    let raw: Uint8Array;
    if (secretKey) {
      // A key of its own, derived from the secret key, so that a console signature is never usable
      // where the secret key itself is (sealed integration secrets).
      const base = await crypto.subtle.importKey(
        "raw",
        enc.encode(secretKey),
        { name: "HMAC", hash: "SHA-256" },
        false,
        ["sign"],
      );
      raw = new Uint8Array(
        await crypto.subtle.sign("HMAC", base, enc.encode("hookline console session key v1")),
      );
    } else raw = crypto.getRandomValues(new Uint8Array(32));
    const key = await crypto.subtle.importKey(
      "raw",
      raw as Uint8Array<ArrayBuffer>,
      { name: "HMAC", hash: "SHA-256" },
      false,
      ["sign"],
    );
    return new SessionSigner(key, Boolean(secretKey));
  }

  private async mac(purpose: string, value: string): Promise<string> {
    return b64url(
      new Uint8Array(await crypto.subtle.sign("HMAC", this.key, enc.encode(`${purpose}.${value}`))),
    );
  }

  /** `payload.signature`, both base64url: what a session cookie holds. */
  async sign(session: ConsoleSession): Promise<string> {
    const payload = b64url(enc.encode(JSON.stringify(session)));
    return `${payload}.${await this.mac("session", payload)}`;
  }

  /** The session a cookie holds, if its signature is ours and it has not expired. */
  async verify(cookie: string | undefined, now = Date.now()): Promise<ConsoleSession | undefined> {
    const [payload, signature, extra] = (cookie ?? "").split(".");
    if (!payload || !signature || extra !== undefined) return undefined;
    if (!timingSafeEqual(signature, await this.mac("session", payload))) return undefined;
    let session: ConsoleSession;
    try {
      session = JSON.parse(dec.decode(fromB64url(payload))) as ConsoleSession;
    } catch {
      return undefined;
    }
    if (typeof session.expires !== "number" || session.expires <= now) return undefined;
    return session;
  }

  /** The CSRF token of a session (or of a sign-in form's nonce): an HMAC of its id. */
  csrfToken(id: string): Promise<string> {
    return this.mac("csrf", id);
  }

  /** Whether `given` is the CSRF token of `id`, compared in constant time. */
  async checkCsrf(id: string, given: string | undefined): Promise<boolean> {
    if (!given) return false;
    return timingSafeEqual(given, await this.csrfToken(id));
  }

  /** A signed nonce with an expiry, for the sign-in form (which comes before any session). */
  async signNonce(nonce: string, expires: number): Promise<string> {
    const value = `${nonce}~${expires}`;
    return `${value}.${await this.mac("nonce", value)}`;
  }

  /** The nonce a sign-in cookie holds, if signed by us and not expired. */
  async verifyNonce(cookie: string | undefined, now = Date.now()): Promise<string | undefined> {
    const [value, signature, extra] = (cookie ?? "").split(".");
    if (!value || !signature || extra !== undefined) return undefined;
    if (!timingSafeEqual(signature, await this.mac("nonce", value))) return undefined;
    const [nonce, expires] = value.split("~");
    return nonce && Number(expires) > now ? nonce : undefined;
  }
}
