import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { canonical, hmacHex, hmacSigning } from "../../examples/custom-auth-plugin/hmac-signing.ts";
import { inbound } from "../../plugins/inbound/index.ts";
import { eventually, testApp } from "../support/app.ts";
import { storeKinds } from "../support/db.ts";
import { type Sink, startSink } from "../support/http-sink.ts";
import { type ServedApp, serveApp } from "../support/serve-app.ts";

const SECRET = "partner-shared-secret-Distinctive";

describe("a third-party authentication plugin (examples/custom-auth-plugin)", () => {
  let sink: Sink;
  let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
  let app: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    sink = await startSink();
    app = await testApp(
      `
engine: { allowNetworks: ["127.0.0.1/32"], pollInterval: 20ms }
integrations:
  partner: { kind: hmac-signing, endpointPrefix: ${sink.url}/v2, keyId: k1, secret: "\${PARTNER_SECRET}" }
webhooks:
  order: { url: "${sink.url}/v2/orders?src=hookline", integration: partner, body: '{"order": <%= json(it.event.data.order) %>}' }
triggers: [{ kind: event, events: [order.placed], webhooks: [order] }]
`,
      driver,
      { plugins: [hmacSigning()], env: { PARTNER_SECRET: SECRET } },
    );
    await app.start();
  });
  afterAll(async () => {
    await app.stop(0);
    await sink.close();
    await driver.dispose();
  });

  it("signs what is sent so that the partner can verify it, and keeps the secret out of records", async () => {
    const { events } = await app.publish({ type: "order.placed", data: { order: "A-1001" } });
    const id = events[0]!.deliveries[0]!.id;
    await eventually(async () => (await app.store.getDelivery(id))?.status === "succeeded");
    const req = sink.requests[0]!;
    const m = /^k=k1,t=(\d+),v1=([0-9a-f]{64})$/.exec(req.headers["x-partner-signature"]!)!;
    expect(m).not.toBeNull();
    expect(await hmacHex(SECRET, canonical("POST", `http://x${req.url}`, Number(m[1]), req.body))).toBe(
      m[2]!,
    );
    expect(
      await hmacHex(
        "another-secret-0123456789",
        canonical("POST", `http://x${req.url}`, Number(m[1]), req.body),
      ),
    ).not.toBe(m[2]!);
    const attempts = JSON.stringify(await app.store.listAttempts(id));
    expect(attempts).toContain('"x-partner-signature":"[redacted]"');
    expect(attempts).not.toContain(SECRET);
  });

  it("is checked at config load like a built-in kind", async () => {
    const bad = testApp(
      `integrations:\n  partner: { kind: hmac-signing, endpointPrefix: "https://x.example", keyId: k1, secret: short }\n`,
      driver,
      { plugins: [hmacSigning()] },
    );
    await expect(bad).rejects.toThrow(
      /test\.yaml:2:\d+ integrations\.partner\.secret: .*at least 16 characters/,
    );
  });
});

describe("the same plugin verifying what the partner sends (its inbound authentication kind)", () => {
  let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
  let app: Awaited<ReturnType<typeof testApp>>;
  let served: ServedApp;

  const callback = (contactId: number) =>
    JSON.stringify([{ activityStatus: "DELIVERED", activityDateTime: "2024-05-01T10:00:00", contactId }]);
  const signed = async (body: string, o: { secret?: string; keyId?: string; at?: number } = {}) => {
    const url = `${served.url}/in/partner`;
    const t = Math.floor((o.at ?? Date.now()) / 1000);
    const v1 = await hmacHex(o.secret ?? SECRET, canonical("POST", url, t, body));
    return fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-partner-signature": `k=${o.keyId ?? "k1"},t=${t},v1=${v1}`,
      },
      body,
    });
  };
  const stored = async () =>
    (
      await driver.query<{ n: unknown }>(
        "SELECT count(*) AS n FROM hookline_activities WHERE endpoint = 'partner'",
      )
    ).map((r) => Number(r.n))[0];

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    app = await testApp(
      `
inbound:
  endpoints:
    partner:
      kind: activity-status
      auth: { kind: hmac-signing, keyId: k1, secret: "\${PARTNER_SECRET}" }
`,
      driver,
      { plugins: [inbound(), hmacSigning()], env: { PARTNER_SECRET: SECRET } },
    );
    served = await serveApp(app);
  });
  afterAll(async () => {
    await served.close();
    await app.stop(0);
    await driver.dispose();
  });

  it("stores a callback signed with the partner's secret", async () => {
    const r = await signed(callback(1));
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ success: true, result: { received: 1, stored: 1 } });
    expect(await stored()).toBe(1);
  });

  it("refuses one signed wrong with the verifier's code and reason, and stores nothing", async () => {
    const cases = [
      { secret: "another-secret-0123456789", reason: /does not match the request/ },
      { keyId: "k2", reason: /names key "k2"/ },
      { at: Date.now() - 3_600_000, reason: /from now; at most 300 s/ },
    ];
    for (const c of cases) {
      const r = await signed(callback(2), c);
      expect(r.status).toBe(401);
      const body = (await r.json()) as {
        success: boolean;
        errors: Array<{ code: string; description: string }>;
      };
      expect(body.success).toBe(false);
      expect(body.errors[0]!.code).toBe("PARTNER_SIGNATURE");
      expect(body.errors[0]!.description).toMatch(c.reason);
      expect(JSON.stringify(body)).not.toContain(SECRET);
    }
    const unsigned = await fetch(`${served.url}/in/partner`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: callback(2),
    });
    expect(unsigned.status).toBe(401);
    expect(await stored()).toBe(1);
  });

  it("shows its secret redacted in the admin API, as a built-in kind's", async () => {
    const r = await fetch(`${served.url}/v1/inbound/partner`);
    expect(r.status).toBe(200);
    const shown = (await r.json()) as { config: { auth: Record<string, unknown> } };
    expect(shown.config.auth).toEqual({
      kind: "hmac-signing",
      keyId: "k1",
      secret: "[REDACTED]",
      header: "X-Partner-Signature",
      tolerance: 300_000,
    });
  });

  it("is checked at config load like a built-in kind, at the line of the bad option", async () => {
    const bad = testApp(
      `inbound:\n  endpoints:\n    partner:\n      kind: activity-status\n      auth: { kind: hmac-signing, keyId: k1, secret: short }\n`,
      driver,
      { plugins: [inbound(), hmacSigning()] },
    );
    await expect(bad).rejects.toThrow(
      /test\.yaml:5:\d+ inbound\.endpoints\.partner\.auth\.secret: .*at least 16 characters/,
    );
    const unknown = testApp(
      `inbound:\n  endpoints:\n    partner:\n      kind: activity-status\n      auth: { kind: hmac-signing, keyId: k1, secret: "${SECRET}" }\n`,
      driver,
      { plugins: [inbound()] },
    );
    await expect(unknown).rejects.toThrow(
      /test\.yaml:5:\d+ inbound\.endpoints\.partner\.auth\.kind: unknown inbound auth kind "hmac-signing"; expected one of: apiKey, bearer, basic, standardWebhooks, hmac, none/,
    );
  });
});
