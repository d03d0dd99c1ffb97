import { HooklineError } from "../errors.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

const b64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
const fromB64 = (s: string) =>
  Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

async function keyId(raw: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw as BufferSource));
  return [...digest.slice(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Seals secrets at rest: AES-256-GCM (WebCrypto, so it runs on every runtime), a fresh 96-bit IV per
 * value, the key id in every ciphertext so that keys can rotate, and the value's place (e.g.
 * `integration:crm`) bound as additional data so a ciphertext cannot be moved to another slot.
 *
 * `HOOKLINE_SECRET_KEY` holds one or more comma-separated keys, each 32 bytes in base64, optionally
 * named `id:key`; the first encrypts, all decrypt. Unnamed keys get the first 8 hex digits of their
 * SHA-256 as id.
 *
 * @example
 * const box = await SecretBox.fromEnv("new:BASE64KEY,old:OLDBASE64KEY");
 * const sealed = await box.seal("s3cret", "integration:crm"); // "v1.new.<iv>.<ciphertext>"
 * await box.open(sealed, "integration:crm"); // "s3cret"
 */
export class SecretBox {
  private constructor(private readonly keys: Array<{ id: string; key: CryptoKey }>) {}

  /** Reads a keyring; throws `HOOKLINE_SECRET_KEY_INVALID` naming the entry that is not a 32-byte key. */
  static async fromEnv(value: string | undefined): Promise<SecretBox | undefined> {
    if (!value?.trim()) return undefined;
    const keys: Array<{ id: string; key: CryptoKey }> = [];
    for (const [i, entry] of value
      .split(",")
      .map((e) => e.trim())
      .filter(Boolean)
      .entries()) {
      const colon = entry.indexOf(":");
      const named = colon > 0 && /^[A-Za-z0-9_-]{1,32}$/.test(entry.slice(0, colon));
      let raw: Uint8Array;
      try {
        raw = fromB64(named ? entry.slice(colon + 1) : entry);
      } catch {
        raw = new Uint8Array();
      }
      if (raw.length !== 32) {
        throw new HooklineError(
          "HOOKLINE_SECRET_KEY_INVALID",
          `HOOKLINE_SECRET_KEY entry ${i + 1} is not a 32-byte key in base64 (got ${raw.length} bytes); make one with: openssl rand -base64 32`,
        );
      }
      const id = named ? entry.slice(0, colon) : await keyId(raw);
      keys.push({
        id,
        key: await crypto.subtle.importKey("raw", raw as BufferSource, "AES-GCM", false, [
          "encrypt",
          "decrypt",
        ]),
      });
    }
    return new SecretBox(keys);
  }

  /** The id of the key that encrypts now. */
  get activeKeyId(): string {
    return this.keys[0]!.id;
  }

  async seal(plaintext: string, place: string): Promise<string> {
    const { id, key } = this.keys[0]!;
    const iv = crypto.getRandomValues(new Uint8Array(12));
    const ct = new Uint8Array(
      await crypto.subtle.encrypt(
        { name: "AES-GCM", iv, additionalData: enc.encode(place) },
        key,
        enc.encode(plaintext),
      ),
    );
    return `v1.${id}.${b64url(iv)}.${b64url(ct)}`;
  }

  async open(sealed: string, place: string): Promise<string> {
    const [version, id, iv, ct] = sealed.split(".");
    if (version !== "v1" || !id || !iv || !ct) {
      throw new HooklineError(
        "HOOKLINE_SECRET_FORMAT",
        `a stored secret for ${place} is not in the v1 format`,
      );
    }
    const entry = this.keys.find((k) => k.id === id);
    if (!entry) {
      throw new HooklineError(
        "HOOKLINE_SECRET_KEY_UNKNOWN",
        `the secret stored for ${place} was sealed with key "${id}", which HOOKLINE_SECRET_KEY does not hold (keys: ${this.keys.map((k) => k.id).join(", ")})`,
      );
    }
    try {
      const pt = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: fromB64(iv) as BufferSource, additionalData: enc.encode(place) },
        entry.key,
        fromB64(ct) as BufferSource,
      );
      return dec.decode(pt);
    } catch (e) {
      throw new HooklineError(
        "HOOKLINE_SECRET_TAMPERED",
        `the secret stored for ${place} does not decrypt with key "${id}" (altered or moved)`,
        { cause: e },
      );
    }
  }
}
