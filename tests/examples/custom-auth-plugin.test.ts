import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { canonical, hmacHex, hmacSigning } from "../../examples/custom-auth-plugin/hmac-signing.ts";
import { eventually, testApp } from "../support/app.ts";
import { storeKinds } from "../support/db.ts";
import { type Sink, startSink } from "../support/http-sink.ts";

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
