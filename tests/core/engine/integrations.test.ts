import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

const PASSWORD = "pw-Distinctive-91";
const TOKEN = "tk-Distinctive-77";

describe("integrations", () => {
  let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
  let sink: Sink;
  let app: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    sink = await startSink((req) => {
      if (req.url === "/api/v1/ping") return { status: 200, body: "pong" };
      // An API that echoes the credentials in its error: they must not come back in the test result.
      if (req.url === "/api/v1/denied")
        return { status: 401, body: `bad credentials: ${req.headers.authorization}` };
      return { status: 200 };
    });
    app = await testApp(
      `
engine: { allowNetworks: ["127.0.0.1/32"], pollInterval: 20ms }
integrations:
  crm:
    kind: basic
    endpointPrefix: ${sink.url}/api/v1
    username: hookline
    password: "${PASSWORD}"
    test: { method: GET, path: /api/v1/ping }
  crm-denied:
    kind: basic
    endpointPrefix: ${sink.url}/api/v1
    username: hookline
    password: "${PASSWORD}"
    test: { method: POST, path: denied }
  tenant:
    kind: headers
    endpointPrefix: ${sink.url}/api
    headers: [{ name: X-Tenant-Token, value: "${TOKEN}" }]
  other-host:
    kind: headers
    endpointPrefix: http://localhost:${sink.port}/api
    headers: [{ name: X-Other, value: "${TOKEN}" }]
webhooks:
  both:
    url: ${sink.url}/api/v1/both
    integration: [crm, tenant]
    body: "{}"
  mismatch:
    url: ${sink.url}/api/v1/mismatch
    integration: [crm, other-host]
    body: "{}"
triggers:
  - { kind: event, events: [both], webhooks: [both] }
  - { kind: event, events: [mismatch], webhooks: [mismatch] }
`,
      driver,
    );
    await app.start();
  });
  afterAll(async () => {
    await app.stop(0);
    await sink.close();
    await driver.dispose();
  });

  const finished = (id: string) =>
    eventually(async () => {
      const d = await app.store.getDelivery(id);
      return d && d.status !== "pending" && d.status !== "in_flight" ? d : undefined;
    });

  it("applies several integrations in order, each under its own prefix", async () => {
    const r = await app.publish({ type: "both" });
    const d = await finished(r.events[0]!.deliveries[0]!.id);
    expect(d.status).toBe("succeeded");
    const req = sink.requests.find((q) => q.url === "/api/v1/both")!;
    expect(req.headers.authorization).toBe(`Basic ${btoa(`hookline:${PASSWORD}`)}`);
    expect(req.headers["x-tenant-token"]).toBe(TOKEN);
    const [attempt] = await app.store.listAttempts(d.id);
    expect(attempt!.request.headers.authorization).toBe("[redacted]");
    expect(attempt!.request.headers["x-tenant-token"]).toBe("[redacted]");
  });

  it("sends nothing when any integration's prefix does not cover the URL", async () => {
    const r = await app.publish({ type: "mismatch" });
    const d = await finished(r.events[0]!.deliveries[0]!.id);
    expect(d.status).toBe("failed");
    expect(d.reason).toContain("other-host");
    expect(sink.requests.some((q) => q.url === "/api/v1/mismatch")).toBe(false);
  });

  const call = async (path: string) => {
    const res = await app.fetch(new Request(`http://h${path}`, { method: "POST" }));
    return { status: res.status, text: await res.text() };
  };

  it("reports success of a test request only on HTTP 200, sent with the credentials under the prefix", async () => {
    const r = await call("/v1/integrations/crm/test");
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({
      ok: true,
      status: 200,
      request: { method: "GET", url: `${sink.url}/api/v1/ping` },
    });
    const ping = sink.requests.find((q) => q.url === "/api/v1/ping")!;
    expect(ping.headers.authorization).toBe(`Basic ${btoa(`hookline:${PASSWORD}`)}`);
    expect(ping.body).toBe("");
  });

  it("reports a failed test with the status and a reason free of secrets", async () => {
    const r = await call("/v1/integrations/crm-denied/test");
    const body = JSON.parse(r.text);
    expect(body.ok).toBe(false);
    expect(body.status).toBe(401);
    expect(body.request.url).toBe(`${sink.url}/api/v1/denied`);
    expect(body.reason).toStartWith("HTTP 401: bad credentials:");
    expect(r.text).not.toContain(PASSWORD);
    expect(r.text).not.toContain(btoa(`hookline:${PASSWORD}`));
  });

  it("answers 400 for an integration without test settings and 404 for an unknown one", async () => {
    expect((await call("/v1/integrations/tenant/test")).status).toBe(400);
    expect((await call("/v1/integrations/nope/test")).status).toBe(404);
  });

  it("shows integrations without their secret values", async () => {
    const res = await app.fetch(new Request("http://h/v1/integrations/crm"));
    const text = await res.text();
    expect(JSON.parse(text)).toMatchObject({
      name: "crm",
      kind: "basic",
      options: { username: "hookline", password: "[REDACTED]" },
    });
    expect(text).not.toContain(PASSWORD);
    const all = await (await app.fetch(new Request("http://h/v1/integrations"))).text();
    expect(all).not.toContain(TOKEN);
  });
});
