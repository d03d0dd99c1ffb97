import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { bearer } from "../../../plugins/bearer/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

const TOKEN = "esp.Bearer-token_0123456789~+/==";

describe("bearer: a static token", () => {
  let driver: Driver;
  let sink: Sink;
  let app: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    sink = await startSink((r) => ({ status: r.headers.authorization === `Bearer ${TOKEN}` ? 200 : 401 }));
    app = await testApp(
      `
engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
integrations:
  esp: { kind: bearer, endpointPrefix: "${sink.url}/api/v1", token: "${TOKEN}" }
webhooks:
  esp: { url: "${sink.url}/api/v1/contacts", integration: esp, headers: { Authorization: "Basic template" }, body: "{}" }
triggers:
  - { kind: event, events: [esp], webhooks: [esp] }
`,
      driver,
      { plugins: [bearer()] },
    );
    await app.start();
  });
  afterAll(async () => {
    await app.stop(1_000);
    await sink.close();
    await driver.dispose();
  });

  it("sends Authorization: Bearer <token>, replacing a template's, and keeps the token out of records and logs", async () => {
    const id = (await app.publish({ type: "esp", customer: { id: "c" } })).events[0]!.deliveries[0]!.id;
    const d = await eventually(async () => {
      const x = await app.store.getDelivery(id);
      return x && ["succeeded", "failed"].includes(x.status) ? x : undefined;
    });
    expect(d.status).toBe("succeeded");
    expect(sink.requests[0]!.headers.authorization).toBe(`Bearer ${TOKEN}`);
    const attempts = await app.store.listAttempts(id);
    expect(attempts[0]!.request.headers.authorization).toBe("[redacted]");
    expect(JSON.stringify(attempts)).not.toContain(TOKEN);
    expect(app.logs.join("\n")).not.toContain(TOKEN);
  });

  it("refuses a token that is not a token68 (RFC 6750)", async () => {
    const error = await testApp(
      `integrations: { b: { kind: bearer, endpointPrefix: "https://x.example.com", token: "two words" } }`,
      driver,
      { plugins: [bearer()] },
    ).catch((e: unknown) => e as Error);
    expect(error.message).toContain("integrations.b.token");
    expect(error.message).toContain("token68");
  });
});
