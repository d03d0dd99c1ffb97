import { describe, expect, it } from "bun:test";
import { Webhook } from "standardwebhooks";
import { verifyHmac, verifyStandardWebhook } from "../../plugins/inbound/signatures.ts";
import { StandardWebhookSigner } from "../../plugins/signature/index.ts";
import { RUNTIME } from "./support/runtime.ts";

// Signing and verification run on each runtime's WebCrypto; a third-party library checks ours.
const SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const OTHER = "whsec_bm90LXRoZS1zYW1lLXNlY3JldC1hdC1hbGw=";
const body = '{"type":"signup","email":"ada@example.com"}';
const bytes = (s: string) => new TextEncoder().encode(s);

async function hmacHex(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", bytes(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const sig = new Uint8Array(await crypto.subtle.sign("HMAC", key, bytes(text)));
  return [...sig].map((b) => b.toString(16).padStart(2, "0")).join("");
}

describe(`signing and verification (${RUNTIME})`, () => {
  it("signs per Standard Webhooks so that the reference library verifies it", async () => {
    const headers = await new StandardWebhookSigner([SECRET]).sign({ id: "msg_1", body });
    expect(headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    const verified = new Webhook(SECRET).verify(body, headers);
    expect(verified).toEqual(JSON.parse(body));
  });

  it("verifies a signature from the reference library, and names the sender's id", async () => {
    const timestamp = new Date();
    const signature = new Webhook(SECRET).sign("msg_2", timestamp, body);
    const headers = new Headers({
      "webhook-id": "msg_2",
      "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
      "webhook-signature": signature,
    });
    expect(await verifyStandardWebhook(headers, bytes(body), [OTHER, SECRET], 300_000, Date.now())).toEqual({
      ok: true,
      senderId: "msg_2",
    });
  });

  it("refuses a changed body, a foreign secret and a stale timestamp", async () => {
    const now = Math.floor(Date.now() / 1000);
    const headers = await new StandardWebhookSigner([SECRET]).sign({ id: "msg_3", body, timestamp: now });
    const h = new Headers(headers as unknown as Record<string, string>);
    const tampered = await verifyStandardWebhook(
      h,
      bytes(body.replace("ada", "eve")),
      [SECRET],
      300_000,
      Date.now(),
    );
    expect(tampered).toMatchObject({ ok: false, code: "HOOKLINE_INBOUND_SIGNATURE" });
    expect(await verifyStandardWebhook(h, bytes(body), [OTHER], 300_000, Date.now())).toMatchObject({
      ok: false,
    });
    const stale = await verifyStandardWebhook(h, bytes(body), [SECRET], 300_000, Date.now() + 3_600_000);
    expect(stale).toMatchObject({ ok: false, code: "HOOKLINE_INBOUND_SIGNATURE_STALE" });
  });

  it("verifies its own signatures and rejects others'", async () => {
    const signer = new StandardWebhookSigner([SECRET]);
    const headers = await signer.sign({ id: "msg_4", body });
    expect(await signer.verify(body, headers as unknown as Record<string, string>)).toBe(true);
    const foreign = await new StandardWebhookSigner([OTHER]).sign({ id: "msg_4", body });
    expect(await signer.verify(body, foreign as unknown as Record<string, string>)).toBe(false);
  });

  it("verifies a GitHub-style HMAC header over the raw body", async () => {
    const options = {
      header: "x-hub-signature-256",
      algorithm: "sha256" as const,
      secret: "s3cret",
      encoding: "hex" as const,
      prefix: "sha256=",
    };
    const good = new Headers({ "x-hub-signature-256": `sha256=${await hmacHex("s3cret", body)}` });
    expect(await verifyHmac(good, bytes(body), options)).toEqual({ ok: true });
    const bad = new Headers({ "x-hub-signature-256": `sha256=${await hmacHex("wrong", body)}` });
    expect(await verifyHmac(bad, bytes(body), options)).toMatchObject({
      ok: false,
      code: "HOOKLINE_INBOUND_SIGNATURE",
    });
  });
});
