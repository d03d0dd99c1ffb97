import { afterAll, beforeAll, beforeEach, describe, expect, it } from "bun:test";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { Webhook } from "standardwebhooks";
import { inbound } from "../../../plugins/inbound/index.ts";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { ESPUTNIK_EXAMPLE } from "../../support/esputnik-example.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";
import { type ServedApp, serveApp } from "../../support/serve-app.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

const secret = (seed: number) =>
  `whsec_${btoa(String.fromCharCode(...Array.from({ length: 24 }, (_, i) => (i * 7 + seed) % 256)))}`;
const OLD_SECRET = secret(1);
const NEW_SECRET = secret(2);
const HMAC_SECRET = "hmac-secret-9a7c";
const BEARER = "static-bearer-7d21e0";

const config = (jwks: string, inlineJwk: string) => `
engine: { allowNetworks: ["127.0.0.1/32"] } # the JWKS is fetched over the app's transport
inbound:
  endpoints:
    signed:
      kind: activity-status
      auth: { kind: standardWebhooks, secrets: ["${OLD_SECRET}", "${NEW_SECRET}"] }
    hmac:
      kind: activity-status
      auth: { kind: hmac, header: X-Hub-Signature-256, prefix: "sha256=", secret: ${HMAC_SECRET} }
    basic:
      kind: activity-status
      auth: { kind: basic, users: [{ username: esputnik, password: "pässwörd:1" }] }
    bearer:
      kind: activity-status
      auth: { kind: bearer, tokens: [${BEARER}] }
    jwt-remote:
      kind: activity-status
      auth: { kind: bearer, jwks: { url: "${jwks}" }, issuer: https://idp.test, audience: hookline }
    jwt-inline:
      kind: activity-status
      auth: { kind: bearer, jwks: { keys: [${inlineJwk}] }, issuer: https://idp.test, audience: hookline }
    allowlisted:
      kind: activity-status
      auth: { kind: none }
      ipAllowlist: ["203.0.113.0/24", "2001:db8::/32"]
    loopback-only:
      kind: activity-status
      auth: { kind: none }
      ipAllowlist: ["127.0.0.1/32"]
    behind-proxy:
      kind: activity-status
      auth: { kind: none }
      ipAllowlist: ["203.0.113.0/24"]
      trustedProxies: ["127.0.0.1/32"]
`;

const hex = async (key: string, body: string) => {
  const k = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(key),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  return Buffer.from(await crypto.subtle.sign("HMAC", k, new TextEncoder().encode(body))).toString("hex");
};

for (const kind of storeKinds) {
  describe(`inbound authentication on ${kind.name}`, () => {
    let driver: Driver;
    let app: Awaited<ReturnType<typeof testApp>>;
    let served: ServedApp;
    let idp: Sink;
    let privateKey: CryptoKey;
    let otherKey: CryptoKey;

    beforeAll(async () => {
      driver = await kind.open();
      const pair = await generateKeyPair("ES256", { extractable: true });
      privateKey = pair.privateKey as CryptoKey;
      otherKey = (await generateKeyPair("ES256")).privateKey as CryptoKey;
      const jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "ES256", use: "sig" };
      idp = await startSink(() => ({
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ keys: [jwk] }),
      }));
      app = await testApp(config(`${idp.url}/jwks.json`, JSON.stringify(jwk)), driver, {
        plugins: [inbound()],
      });
      served = await serveApp(app);
    });
    afterAll(async () => {
      await served.close();
      await idp.close();
      await app.stop(0);
      await driver.dispose();
    });
    beforeEach(async () => {
      await driver.query("DELETE FROM hookline_activities");
      await driver.query("DELETE FROM hookline_inbound_receipts");
    });

    const stored = async () =>
      Number((await driver.query<{ n: unknown }>("SELECT count(*) AS n FROM hookline_activities"))[0]!.n);
    const post = (path: string, headers: Record<string, string> = {}, body = ESPUTNIK_EXAMPLE) =>
      fetch(`${served.url}/in/${path}`, {
        method: "POST",
        body,
        headers: { "content-type": "application/json", ...headers },
      });
    const signed = (id: string, at: Date, body = ESPUTNIK_EXAMPLE, key = NEW_SECRET) => ({
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(key).sign(id, at, body),
    });
    const codeOf = async (r: Response) =>
      ((await r.json()) as { errors: Array<{ code: string }> }).errors[0]!.code;

    describe("Standard Webhooks", () => {
      it("accepts signatures made by the independent standardwebhooks package, with either rotated secret", async () => {
        expect((await post("signed", signed("msg_1", new Date(), ESPUTNIK_EXAMPLE, NEW_SECRET))).status).toBe(
          200,
        );
        const other = JSON.stringify(
          JSON.parse(ESPUTNIK_EXAMPLE)
            .slice(0, 2)
            .map((a: object) => ({ ...a, activityDateTime: "2021-01-01T00:00:00" })),
        );
        const r = await post("signed", signed("msg_2", new Date(), other, OLD_SECRET), other);
        expect(r.status).toBe(200);
        expect(await stored()).toBe(10);
      });

      it("accepts a header listing several signatures when one matches", async () => {
        const h = signed("msg_3", new Date());
        h["webhook-signature"] = `v1,${btoa("nope".repeat(8))} ${h["webhook-signature"]}`;
        expect((await post("signed", h)).status).toBe(200);
      });

      it("answers 401 to a stale timestamp, a wrong signature, a tampered body, a missing header; stores nothing", async () => {
        const stale = new Date(Date.now() - 6 * 60_000);
        expect(await codeOf(await post("signed", signed("msg_4", stale)))).toBe(
          "HOOKLINE_INBOUND_SIGNATURE_STALE",
        );
        const future = new Date(Date.now() + 6 * 60_000);
        expect((await post("signed", signed("msg_5", future))).status).toBe(401);
        expect((await post("signed", signed("msg_6", new Date(), ESPUTNIK_EXAMPLE, secret(3)))).status).toBe(
          401,
        );
        const tampered = signed("msg_7", new Date());
        expect(
          (await post("signed", tampered, ESPUTNIK_EXAMPLE.replace("test@gmail.com", "evil@x.com"))).status,
        ).toBe(401);
        const { "webhook-signature": _, ...unsigned } = signed("msg_8", new Date());
        expect((await post("signed", unsigned)).status).toBe(401);
        expect(await stored()).toBe(0);
      });

      it("answers a replayed message 200 and stores nothing twice, even with another (validly signed) body", async () => {
        const h = signed("msg_9", new Date());
        expect((await post("signed", h)).status).toBe(200);
        const replay = await post("signed", h);
        expect(replay.status).toBe(200);
        expect(((await replay.json()) as { result: { replayed: boolean } }).result.replayed).toBe(true);
        const other = JSON.stringify([
          { ...JSON.parse(ESPUTNIK_EXAMPLE)[1], activityDateTime: "2020-01-01T00:00:00" },
        ]);
        expect((await post("signed", signed("msg_9", new Date(), other), other)).status).toBe(200);
        expect(await stored()).toBe(8);
      });
    });

    it("verifies a generic HMAC signature in constant time, refusing a wrong or missing one", async () => {
      const sig = await hex(HMAC_SECRET, ESPUTNIK_EXAMPLE);
      expect((await post("hmac", { "x-hub-signature-256": `sha256=${sig}` })).status).toBe(200);
      await driver.query("DELETE FROM hookline_activities");
      await driver.query("DELETE FROM hookline_inbound_receipts");
      expect(
        (await post("hmac", { "x-hub-signature-256": `sha256=${await hex("other", ESPUTNIK_EXAMPLE)}` }))
          .status,
      ).toBe(401);
      expect((await post("hmac", { "x-hub-signature-256": sig })).status).toBe(401);
      expect((await post("hmac")).status).toBe(401);
      expect(await stored()).toBe(0);
    });

    it("checks Basic credentials (UTF-8, colon in the password) and challenges without them", async () => {
      const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`, "utf8").toString("base64")}`;
      expect((await post("basic", { authorization: basic("esputnik", "pässwörd:1") })).status).toBe(200);
      const wrong = await post("basic", { authorization: basic("esputnik", "pässwörd") });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get("www-authenticate")).toContain("Basic");
      expect((await post("basic")).status).toBe(401);
    });

    it("checks static Bearer tokens", async () => {
      expect((await post("bearer", { authorization: `Bearer ${BEARER}` })).status).toBe(200);
      const r = await post("bearer", { authorization: "Bearer static-bearer-7d21e1" });
      expect(r.status).toBe(401);
      expect(JSON.stringify(await r.json())).not.toContain(BEARER);
    });

    it("verifies Bearer JWTs against a remote JWKS and inline keys: issuer, audience, expiry, signature", async () => {
      const jwt = (o: { key?: CryptoKey; aud?: string; iss?: string; exp?: string } = {}) =>
        new SignJWT({ sub: "esputnik" })
          .setProtectedHeader({ alg: "ES256", kid: "k1" })
          .setIssuer(o.iss ?? "https://idp.test")
          .setAudience(o.aud ?? "hookline")
          .setIssuedAt()
          .setExpirationTime(o.exp ?? "5m")
          .sign(o.key ?? privateKey);
      for (const path of ["jwt-remote", "jwt-inline"]) {
        expect((await post(path, { authorization: `Bearer ${await jwt()}` })).status).toBe(200);
        await driver.query("DELETE FROM hookline_inbound_receipts");
        await driver.query("DELETE FROM hookline_activities");
        for (const bad of [
          { aud: "other" },
          { iss: "https://evil.test" },
          { exp: "-1m" },
          { key: otherKey },
        ]) {
          const r = await post(path, { authorization: `Bearer ${await jwt(bad)}` });
          expect(r.status).toBe(401);
          expect(await codeOf(r)).toBe("HOOKLINE_INBOUND_JWT");
        }
      }
      expect(idp.requests.length).toBeGreaterThanOrEqual(1);
      expect(await stored()).toBe(0);
    });

    it("fetches a remote JWKS over the app's transport: an address the SSRF guard refuses is never asked", async () => {
      const guarded = await testApp(
        `
inbound:
  endpoints:
    jwt-remote:
      kind: activity-status
      auth: { kind: bearer, jwks: { url: "${idp.url}/guarded/jwks.json" }, issuer: https://idp.test, audience: hookline }
`,
        driver,
        { plugins: [inbound()] },
      );
      try {
        const token = await new SignJWT({ sub: "esputnik" })
          .setProtectedHeader({ alg: "ES256", kid: "k1" })
          .setIssuer("https://idp.test")
          .setAudience("hookline")
          .setExpirationTime("5m")
          .sign(privateKey);
        const r = await guarded.fetch(
          new Request("http://h/in/jwt-remote", {
            method: "POST",
            body: ESPUTNIK_EXAMPLE,
            headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          }),
        );
        expect(r.status).toBe(401);
        const error = ((await r.json()) as { errors: Array<{ code: string; description: string }> })
          .errors[0]!;
        expect(error.code).toBe("HOOKLINE_INBOUND_JWT");
        // The sender learns that the keys could not be fetched; the log says why (it may name addresses).
        expect(error.description).toContain("HOOKLINE_INBOUND_JWKS");
        expect(error.description).toContain("blocked_address");
        expect(error.description).not.toContain("127.0.0.1");
        const logged = guarded.logs.find((l) => l.includes('"inbound.jwks_unavailable"'));
        expect(logged).toContain("jwt-remote");
        expect(logged).toContain("loopback");
        expect(idp.requests.some((q) => q.url.startsWith("/guarded"))).toBe(false);
        expect(await stored()).toBe(0);
      } finally {
        await guarded.stop(0);
      }
    });

    describe("IP allowlist", () => {
      it("refuses with 403 a client outside the allowlist (the socket address counts)", async () => {
        const r = await post("allowlisted");
        expect(r.status).toBe(403);
        expect(await codeOf(r)).toBe("HOOKLINE_INBOUND_IP");
        expect(await stored()).toBe(0);
        expect((await post("loopback-only")).status).toBe(200);
        expect(await stored()).toBe(8);
      });

      it("ignores a spoofed X-Forwarded-For without trusted proxies", async () => {
        expect((await post("allowlisted", { "x-forwarded-for": "203.0.113.9" })).status).toBe(403);
        expect(await stored()).toBe(0);
      });

      it("believes X-Forwarded-For from a trusted proxy, reading from the right", async () => {
        expect((await post("behind-proxy", { "x-forwarded-for": "203.0.113.9" })).status).toBe(200);
        // The left-most entry is the client's own claim; the proxy appended the real address.
        expect((await post("behind-proxy", { "x-forwarded-for": "203.0.113.9, 198.51.100.1" })).status).toBe(
          403,
        );
        expect((await post("behind-proxy")).status).toBe(403);
      });

      it("fails closed when the server does not say where a request came from", async () => {
        const r = await app.fetch(
          new Request("http://h/in/loopback-only", { method: "POST", body: ESPUTNIK_EXAMPLE }),
        );
        expect(r.status).toBe(403);
        // An adapter passing { remoteAddress } is believed.
        const ok = await app.http.fetch(
          new Request("http://h/in/allowlisted", { method: "POST", body: ESPUTNIK_EXAMPLE }),
          { remoteAddress: "2001:db8::7" },
        );
        expect(ok.status).toBe(200);
      });
    });
  });
}
