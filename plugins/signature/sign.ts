import { HooklineError, timingSafeEqual } from "../../core/plugin/index.ts";

// Standard Webhooks (standardwebhooks.com): the signed content is "{webhook-id}.{webhook-timestamp}.{body}",
// signed with HMAC-SHA256 under the secret's bytes (base64 after the "whsec_" prefix); the signature
// header lists "v1,<base64>" entries separated by spaces, one per active secret.

const PREFIX = "whsec_";
const enc = new TextEncoder();

/** The three headers a signed request carries. */
export interface SignatureHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/**
 * The key bytes of a `whsec_…` secret; throws `HOOKLINE_SIGNATURE_SECRET` (without the secret) when
 * it is not `whsec_` followed by base64.
 *
 * @example secretBytes("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
 */
export function secretBytes(secret: string): Uint8Array<ArrayBuffer> {
  const b64 = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : "";
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0)
    throw new HooklineError(
      "HOOKLINE_SIGNATURE_SECRET",
      `expected a secret of the form whsec_<base64>, got one of ${secret.length} characters${secret.startsWith(PREFIX) ? " whose rest is not base64" : " without the whsec_ prefix"}`,
    );
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

const b64 = (bytes: ArrayBuffer) => btoa(String.fromCharCode(...new Uint8Array(bytes)));

/**
 * Signs and verifies Standard Webhooks requests with WebCrypto (every runtime hookline runs on).
 * Several secrets sign at once during a rotation; any one of them verifies.
 *
 * @example
 * const signer = new StandardWebhookSigner(["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]);
 * const headers = await signer.sign({ id: "msg_1", body: '{"a":1}' });
 * await signer.verify('{"a":1}', headers); // true
 */
export class StandardWebhookSigner {
  private readonly keys: Promise<CryptoKey[]>;

  constructor(secrets: readonly string[]) {
    if (secrets.length === 0)
      throw new HooklineError("HOOKLINE_SIGNATURE_SECRET", "expected at least one secret");
    const raw = secrets.map(secretBytes);
    this.keys = Promise.all(
      raw.map((k) => crypto.subtle.importKey("raw", k, { name: "HMAC", hash: "SHA-256" }, false, ["sign"])),
    );
  }

  /** The headers for one message; `timestamp` defaults to now (seconds since the epoch). */
  async sign(message: { id: string; body: string; timestamp?: number }): Promise<SignatureHeaders> {
    const timestamp = String(message.timestamp ?? Math.floor(Date.now() / 1000));
    return {
      "webhook-id": message.id,
      "webhook-timestamp": timestamp,
      "webhook-signature": (await this.signatures(message.id, timestamp, message.body)).join(" "),
    };
  }

  /**
   * True when the headers carry a v1 signature made by one of the secrets over this body, and the
   * timestamp lies within `toleranceSeconds` (default 300) of now. Comparisons are constant-time.
   */
  async verify(
    body: string,
    headers: Record<string, string | undefined>,
    options: { toleranceSeconds?: number; now?: number } = {},
  ): Promise<boolean> {
    const id = headers["webhook-id"];
    const timestamp = headers["webhook-timestamp"];
    const given = headers["webhook-signature"];
    if (!id || !timestamp || !given || !/^\d+$/.test(timestamp)) return false;
    const now = options.now ?? Math.floor(Date.now() / 1000);
    if (Math.abs(now - Number(timestamp)) > (options.toleranceSeconds ?? 300)) return false;
    const expected = await this.signatures(id, timestamp, body);
    const offered = given.split(" ").filter((s) => s.startsWith("v1,"));
    let ok = false;
    for (const e of expected) for (const o of offered) ok = timingSafeEqual(e, o) || ok;
    return ok;
  }

  private async signatures(id: string, timestamp: string, body: string): Promise<string[]> {
    const content = enc.encode(`${id}.${timestamp}.${body}`);
    const keys = await this.keys;
    return Promise.all(keys.map(async (k) => `v1,${b64(await crypto.subtle.sign("HMAC", k, content))}`));
  }
}
