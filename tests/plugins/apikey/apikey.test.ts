import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Delivery } from "../../../core/contracts/store.ts";
import { apikey } from "../../../plugins/apikey/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

const KEY = "esp-key/with+odd&chars=1";

describe("apikey: a key in a named header or query parameter", () => {
  let driver: Driver;
  let sink: Sink;
  let app: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    sink = await startSink();
    app = await testApp(
      `
engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
integrations:
  inHeader: { kind: apikey, endpointPrefix: "${sink.url}/api", name: X-API-Key, value: "\${KEY}" }
  inQuery: { kind: apikey, endpointPrefix: "${sink.url}/api", in: query, name: apikey, value: "\${KEY}" }
webhooks:
  inHeader: { url: "${sink.url}/api/contacts?x=1", integration: inHeader, body: "{}" }
  inQuery: { url: "${sink.url}/api/contacts?apikey=template-value&x=1", integration: inQuery, body: "{}" }
  outside: { url: "${sink.url}/other/contacts", integration: inHeader, body: "{}" }
triggers:
  - { kind: event, events: [inHeader], webhooks: [inHeader] }
  - { kind: event, events: [inQuery], webhooks: [inQuery] }
  - { kind: event, events: [outside], webhooks: [outside] }
`,
      driver,
      { plugins: [apikey()], env: { KEY } },
    );
    await app.start();
  });
  afterAll(async () => {
    await app.stop(1_000);
    await sink.close();
    await driver.dispose();
  });

  const deliver = async (type: string): Promise<Delivery> => {
    const id = (await app.publish({ type, customer: { id: "c" } })).events[0]!.deliveries[0]!.id;
    return eventually(async () => {
      const d = await app.store.getDelivery(id);
      return d && ["succeeded", "failed"].includes(d.status) ? d : undefined;
    });
  };

  it("sends the key in the named header and records it masked", async () => {
    const d = await deliver("inHeader");
    expect(d.status).toBe("succeeded");
    expect(sink.requests.at(-1)!.headers["x-api-key"]).toBe(KEY);
    const [attempt] = await app.store.listAttempts(d.id);
    expect(attempt!.request.headers["x-api-key"]).toBe("[redacted]");
  });

  it("sets the key as the named query parameter, replacing one the template wrote, and records the URL without it", async () => {
    const d = await deliver("inQuery");
    expect(d.status).toBe("succeeded");
    const url = new URL(sink.requests.at(-1)!.url, "http://x");
    expect(url.searchParams.getAll("apikey")).toEqual([KEY]);
    expect(url.searchParams.get("x")).toBe("1");
    const [attempt] = await app.store.listAttempts(d.id);
    expect(attempt!.request.url).not.toContain(encodeURIComponent(KEY));
    expect(JSON.stringify(attempt)).not.toContain(KEY);
  });

  it("sends nothing outside the endpoint prefix", async () => {
    const before = sink.requests.length;
    const d = await deliver("outside");
    expect(d.status).toBe("failed");
    expect(sink.requests.length).toBe(before);
  });

  it("refuses a header name that is not an HTTP token", async () => {
    const error = await testApp(
      `integrations: { k: { kind: apikey, endpointPrefix: "https://x.example.com", name: "X Key", value: v1234 } }`,
      driver,
      { plugins: [apikey()] },
    ).catch((e: unknown) => e as Error);
    expect(error.message).toContain("integrations.k.name");
  });
});
