import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Delivery } from "../../../core/contracts/store.ts";
import { HooklineError } from "../../../core/errors.ts";
import { oauth2 } from "../../../plugins/oauth2/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";
import { startTokenServer, type TokenServer } from "../../support/oauth-server.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

const engine = `
engine:
  pollInterval: 20ms
  timeout: 2s
  retry: { delays: [30ms], jitter: 0 }
  allowNetworks: ["127.0.0.1/32"]
`;

describe("oauth2 base-URL rule and endpoint prefix", () => {
  let driver: Driver;
  /** Token endpoint and API on one origin. */
  let sameOrigin: TokenServer;
  /** A token endpoint on its own origin, and the API elsewhere. */
  let auth: TokenServer;
  let api: Sink;
  let elsewhere: Sink;
  let app: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    sameOrigin = await startTokenServer({
      clientId: "c",
      clientSecret: "same-origin-secret",
      api: () => ({}),
    });
    auth = await startTokenServer({ clientId: "c", clientSecret: "split-origin-secret" });
    api = await startSink();
    elsewhere = await startSink();
    app = await testApp(
      `${engine}
integrations:
  same:
    kind: oauth2
    endpointPrefix: ${sameOrigin.url}/api
    tokenEndpoint: ${sameOrigin.tokenUrl}
    clientId: c
    clientSecret: same-origin-secret
  split:
    kind: oauth2
    endpointPrefix: ${api.url}/api/v1
    tokenEndpoint: ${auth.tokenUrl}
    clientId: c
    clientSecret: split-origin-secret
    allowedDomains: ["${api.url}"]
webhooks:
  same: { url: "${sameOrigin.url}/api/contacts", integration: same, body: "{}" }
  split: { url: "${api.url}/api/v1/contacts", integration: split, body: "{}" }
  other-host: { url: "${elsewhere.url}/api/v1/contacts", integration: split, body: "{}" }
  other-path: { url: "${api.url}/api/v2/contacts", integration: split, body: "{}" }
triggers:
  - { kind: event, events: [same], webhooks: [same] }
  - { kind: event, events: [split], webhooks: [split] }
  - { kind: event, events: [outside], webhooks: [other-host, other-path] }
`,
      driver,
      { plugins: [oauth2()] },
    );
    await app.start();
  });
  afterAll(async () => {
    await app.stop(1_000);
    for (const s of [sameOrigin, auth, api, elsewhere]) await s.close();
    await driver.dispose();
  });

  const deliveries = async (type: string) =>
    (await app.publish({ type, customer: { id: crypto.randomUUID() } })).events[0]!.deliveries.map(
      (d) => d.id,
    );
  const settled = (id: string): Promise<Delivery> =>
    eventually(async () => {
      const d = await app.store.getDelivery(id);
      return d && ["succeeded", "failed", "halted"].includes(d.status) ? d : undefined;
    });

  const create = (tokenEndpoint: string, endpointPrefix: string, allowed?: string[]) =>
    testApp(
      `${engine}
integrations:
  crm:
    kind: oauth2
    endpointPrefix: ${endpointPrefix}
    tokenEndpoint: ${tokenEndpoint}
    clientId: c
    clientSecret: s3cret-value
${allowed ? `    allowedDomains: ${JSON.stringify(allowed)}` : ""}
`,
      driver,
      { plugins: [oauth2()] },
    );

  it("refuses at load a token endpoint on another base URL when allowedDomains is empty, naming both", async () => {
    const error = await create("https://auth.example.com/oauth2/token", "https://api.example.com/v1").catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HooklineError);
    expect((error as HooklineError).code).toBe("HOOKLINE_OAUTH_BASE_URL");
    expect((error as Error).message).toContain("https://api.example.com");
    expect((error as Error).message).toContain("https://auth.example.com");
    expect((error as Error).message).toContain('integration "crm"');
  });

  it("refuses at load when allowedDomains does not list the endpoint prefix's base URL", async () => {
    const error = await create("https://auth.example.com/token", "https://api.example.com/v1", [
      "https://other.example.com",
    ]).catch((e: unknown) => e);
    expect((error as HooklineError).code).toBe("HOOKLINE_OAUTH_BASE_URL");
    expect((error as Error).message).toContain("https://other.example.com");
  });

  it("treats a different port as a different base URL", async () => {
    const error = await create("https://api.example.com:8443/token", "https://api.example.com/v1").catch(
      (e: unknown) => e,
    );
    expect((error as HooklineError).code).toBe("HOOKLINE_OAUTH_BASE_URL");
  });

  it("accepts a token endpoint on the webhook's base URL without allowedDomains, and delivers", async () => {
    const [id] = await deliveries("same");
    expect((await settled(id!)).status).toBe("succeeded");
    expect(sameOrigin.requests).toHaveLength(1);
    expect(sameOrigin.apiRequests[0]!.headers.authorization).toBe(`Bearer ${sameOrigin.issued[0]}`);
  });

  it("accepts another base URL listed in allowedDomains, and delivers", async () => {
    const [id] = await deliveries("split");
    expect((await settled(id!)).status).toBe("succeeded");
    expect(api.requests[0]!.headers.authorization).toBe(`Bearer ${auth.issued[0]}`);
  });

  it("sends no credentials and asks for no token outside the endpoint prefix", async () => {
    const tokensBefore = auth.requests.length;
    const apiBefore = api.requests.length;
    const ids = await deliveries("outside");
    const done = await Promise.all(ids.map(settled));
    expect(done.map((d) => d.status)).toEqual(["failed", "failed"]);
    for (const id of ids) expect((await app.store.listAttempts(id))[0]!.errorClass).toBe("scope");
    expect(elsewhere.requests).toHaveLength(0);
    expect(elsewhere.connections).toBe(0);
    expect(api.requests.length).toBe(apiBefore);
    expect(auth.requests.length).toBe(tokensBefore);
  });

  it("checks the webhook's base URL again on every request, before asking for a token", async () => {
    const instance = app.integrations.get("same")!.instance;
    const before = sameOrigin.requests.length;
    const error = await Promise.resolve(
      instance.authorize({ method: "POST", url: `${api.url}/api/contacts`, headers: {}, body: "{}" }, {}),
    ).catch((e: unknown) => e);
    expect((error as HooklineError).code).toBe("HOOKLINE_OAUTH_BASE_URL");
    expect((error as Error).message).toContain(api.url);
    expect(sameOrigin.requests.length).toBe(before);
  });
});
