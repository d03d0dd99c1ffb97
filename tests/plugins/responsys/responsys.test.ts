import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Delivery } from "../../../core/contracts/store.ts";
import { responsys } from "../../../plugins/responsys/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type ResponsysServer, startResponsysServer } from "../../support/responsys-server.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

const USER = "hookline-api";
const PASSWORD = "Rsys pa$$ wörd+&=1";
const scenarios = ["main", "expiry", "together", "slow", "aged", "wrong", "outside"] as const;

describe("responsys against a local server that follows Oracle's contract", () => {
  let driver: Driver;
  const servers = new Map<string, ResponsysServer>();
  let app: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    for (const s of scenarios)
      servers.set(
        s,
        await startResponsysServer({ users: { [USER]: PASSWORD }, loginDelayMs: s === "slow" ? 300 : 0 }),
      );
    const integration = (s: (typeof scenarios)[number]) => {
      const server = servers.get(s)!;
      // "outside": a prefix that covers the login host but not the API endpoint the login returns.
      const prefix = s === "outside" ? server.loginEndpoint : `${server.endPoint}/rest/api/v1.3`;
      return `  ${s}:
    kind: responsys
    endpointPrefix: ${prefix}
    loginEndpoint: ${server.loginEndpoint}
    username: ${USER}
    password: \${${s === "wrong" ? "WRONG" : "RSYS_PASSWORD"}}${s === "aged" ? "\n    tokenLifetime: 300ms" : ""}`;
    };
    // Webhook URLs are written against the login endpoint; the plugin sends them to the endPoint.
    const webhook = (s: string) =>
      `  ${s}: { url: "${servers.get(s)!.loginEndpoint}rest/api/v1.3/lists/members/members?id=<%= it.customer.id %>", integration: ${s}, body: "{}" }`;
    app = await testApp(
      `
engine:
  concurrency: 60
  pollInterval: 20ms
  timeout: 2s
  retry: { delays: [30ms], jitter: 0 }
  allowNetworks: ["127.0.0.1/32"]
integrations:
${scenarios.map(integration).join("\n")}
webhooks:
${scenarios.map(webhook).join("\n")}
triggers:
${scenarios.map((s) => `  - { kind: event, events: [${s}], webhooks: [${s}] }`).join("\n")}
`,
      driver,
      { plugins: [responsys()], env: { RSYS_PASSWORD: PASSWORD, WRONG: "not-the-password" } },
    );
    await app.start();
  });
  afterAll(async () => {
    await app.stop(1_000);
    for (const s of servers.values()) await s.close();
    await driver.dispose();
  });

  const publish = async (type: string) =>
    (await app.publish({ type, customer: { id: crypto.randomUUID() } })).events[0]!.deliveries[0]!.id;
  const settled = (id: string): Promise<Delivery> =>
    eventually(async () => {
      const d = await app.store.getDelivery(id);
      return d && ["succeeded", "failed", "halted"].includes(d.status) ? d : undefined;
    }, 20_000);

  it("logs in with the documented form and sends the raw token to the returned endPoint", async () => {
    const rsys = servers.get("main")!;
    const id = await publish("main");
    expect((await settled(id)).status).toBe("succeeded");
    expect(rsys.logins).toHaveLength(1);
    const [login] = rsys.logins;
    expect(login!.method).toBe("POST");
    expect(login!.url).toBe("/rest/api/v1.3/auth/token");
    expect(login!.headers["content-type"]).toStartWith("application/x-www-form-urlencoded");
    expect(Object.fromEntries(new URLSearchParams(login!.body))).toEqual({
      user_name: USER,
      password: PASSWORD,
      auth_type: "password",
    });
    const [call] = rsys.apiRequests;
    expect(call!.headers.authorization).toBe(rsys.tokens[0]!);
    expect(call!.url).toStartWith("/rest/api/v1.3/lists/members/members?id=");
    const [attempt] = await app.store.listAttempts(id);
    expect(attempt!.status).toBe(200);
    expect(attempt!.request.headers.authorization).toBe("[redacted]");
  });

  it("resolves a relative path against the endPoint and leaves other URLs alone", async () => {
    const rsys = servers.get("main")!;
    const instance = app.integrations.get("main")!.instance;
    expect(await instance.resolveUrl!("/rest/api/v1.3/lists/x/members?q=1", {})).toBe(
      `${rsys.endPoint}/rest/api/v1.3/lists/x/members?q=1`,
    );
    expect(await instance.resolveUrl!("https://elsewhere.example.com/rest/api/v1.3/x", {})).toBe(
      "https://elsewhere.example.com/rest/api/v1.3/x",
    );
    expect(rsys.logins).toHaveLength(1);
  });

  it("logs in again when the API answers 401, and retries once with the new token", async () => {
    const rsys = servers.get("expiry")!;
    expect((await settled(await publish("expiry"))).status).toBe("succeeded");
    rsys.expireAll();
    const id = await publish("expiry");
    expect((await settled(id)).status).toBe("succeeded");
    expect(rsys.logins).toHaveLength(2);
    expect(rsys.apiRequests.map((r) => r.headers.authorization)).toEqual([
      rsys.tokens[0],
      rsys.tokens[0],
      rsys.tokens[1],
    ]);
    expect((await app.store.listAttempts(id)).map((a) => a.status)).toEqual([200]);
  });

  it("logs in once again for many requests refused together", async () => {
    const rsys = servers.get("together")!;
    expect((await settled(await publish("together"))).status).toBe("succeeded");
    const before = rsys.logins.length;
    rsys.expireAll();
    const ids = await Promise.all(Array.from({ length: 40 }, () => publish("together")));
    const all = await Promise.all(ids.map(settled));
    expect(all.every((d) => d.status === "succeeded")).toBe(true);
    expect(rsys.logins.length - before).toBe(1);
  });

  it("logs in again before the token ages out", async () => {
    const rsys = servers.get("aged")!;
    expect((await settled(await publish("aged"))).status).toBe("succeeded");
    await new Promise((r) => setTimeout(r, 400));
    expect((await settled(await publish("aged"))).status).toBe("succeeded");
    expect(rsys.logins).toHaveLength(2);
    // No request was refused: the new login came first.
    expect(rsys.apiRequests.map((r) => r.headers.authorization)).toEqual([rsys.tokens[0], rsys.tokens[1]]);
  });

  it("collapses concurrent logins into one", async () => {
    const rsys = servers.get("slow")!;
    const ids = await Promise.all(Array.from({ length: 50 }, () => publish("slow")));
    const all = await Promise.all(ids.map(settled));
    expect(all.every((d) => d.status === "succeeded")).toBe(true);
    expect(rsys.logins).toHaveLength(1);
    expect(rsys.apiRequests).toHaveLength(50);
  });

  it("records a refused login with Responsys' errorCode, without the password, and does not retry it", async () => {
    const rsys = servers.get("wrong")!;
    const id = await publish("wrong");
    const d = await settled(id);
    expect(d.status).toBe("failed");
    expect(d.reason).toContain("AUTHENTICATION_FAILED");
    expect(d.reason).toContain("HTTP 401");
    expect(d.reason).not.toContain("not-the-password");
    expect(rsys.logins).toHaveLength(1);
    expect(rsys.apiRequests).toHaveLength(0);
  });

  it("sends nothing when the account's endPoint is outside the endpoint prefix", async () => {
    const rsys = servers.get("outside")!;
    const id = await publish("outside");
    const d = await settled(id);
    expect(d.status).toBe("failed");
    expect((await app.store.listAttempts(id))[0]!.errorClass).toBe("scope");
    expect(d.reason).toContain(rsys.endPoint);
    expect(rsys.apiRequests).toHaveLength(0);
  });
});
