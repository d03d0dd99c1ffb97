import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Delivery } from "../../../core/contracts/store.ts";
import { oauth2 } from "../../../plugins/oauth2/index.ts";
import { formUrlEncode } from "../../../plugins/oauth2/token-endpoint.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink, unusedPort } from "../../support/http-sink.ts";
import { expectedBasicHeader, startTokenServer, type TokenServer } from "../../support/oauth-server.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

// Every character RFC 6749 §2.3.1 makes a client careful about: ':', '+', '%', spaces, non-ASCII.
const CLIENT_ID = "hook:line +id%2F ü";
const CLIENT_SECRET = "s3:cr+t %25 ∑ é/=&x";

const names = [
  "hdr",
  "body",
  "query",
  "slow",
  "direct",
  "short",
  "refused",
  "revoked",
  "together",
  "wrong",
  "flaky",
];

describe("oauth2 client_credentials against a strict local token endpoint", () => {
  let driver: Driver;
  let api: Sink;
  const servers = new Map<string, TokenServer>();
  let downPort: number;
  let app: Awaited<ReturnType<typeof testApp>>;
  const valid = (token: string | undefined) => [...servers.values()].some((s) => s.isValid(token));

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    api = await startSink((req) => {
      if (req.url.startsWith("/api/refused/")) return { status: 401 };
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
      const query = new URL(req.url, "http://x").searchParams.get("access_token") ?? undefined;
      return valid(bearer ?? query) ? { status: 200, body: '{"ok":true}' } : { status: 401 };
    });
    for (const name of names) {
      servers.set(
        name,
        await startTokenServer({
          clientId: CLIENT_ID,
          clientSecret: CLIENT_SECRET,
          expiresIn: name === "short" ? 2 : 3600,
          delayMs: name === "slow" || name === "direct" ? 300 : 0,
          override: name === "flaky" ? (_, i) => (i < 2 ? { status: 503 } : undefined) : undefined,
        }),
      );
    }
    downPort = await unusedPort();
    const integration = (name: string, extra: string) => `
  ${name}:
    kind: oauth2
    endpointPrefix: ${api.url}/api/${name}
    tokenEndpoint: ${name === "down" ? `http://127.0.0.1:${downPort}/oauth2/token` : servers.get(name)!.tokenUrl}
    clientId: "${CLIENT_ID}"
    clientSecret: \${${name === "wrong" ? "WRONG_SECRET" : "CLIENT_SECRET"}}
    allowedDomains: ["${api.url}"]
${extra}`;
    const yaml = `
engine:
  concurrency: 100
  pollInterval: 20ms
  timeout: 2s
  retry: { delays: [30ms, 60ms, 90ms], jitter: 0.1 }
  allowNetworks: ["127.0.0.1/32"]
integrations:
${integration("hdr", "    clientAuthentication: header")}
${integration("body", "    clientAuthentication: body")}
${integration(
  "query",
  `    clientAuthentication: query
    extraFields: [{ name: scope, value: "contacts.write lists.read" }, { name: audience, value: "https://api", in: query }]
    tokenPlacement: query`,
)}
${[...names.slice(3), "down"].map((n) => integration(n, "")).join("\n")}
webhooks:
${[...names, "down"]
  .map(
    (n) => `  ${n}:
    url: ${api.url}/api/${n}/contacts/<%= it.customer.id %>
    integration: ${n}
    body: '{"id": <%= json(it.customer.id) %>}'`,
  )
  .join("\n")}
triggers:
${[...names, "down"].map((n) => `  - { kind: event, events: [${n}], webhooks: [${n}] }`).join("\n")}
`;
    app = await testApp(yaml, driver, {
      plugins: [oauth2()],
      env: { CLIENT_SECRET, WRONG_SECRET: "not-the-secret-at-all" },
    });
    await app.start();
  });
  afterAll(async () => {
    await app.stop(1_000);
    await api.close();
    for (const s of servers.values()) await s.close();
    await driver.dispose();
  });

  const publish = async (type: string, customer = crypto.randomUUID()) =>
    (await app.publish({ type, customer: { id: customer } })).events[0]!.deliveries[0]!.id;
  const settled = (id: string): Promise<Delivery> =>
    eventually(async () => {
      const d = await app.store.getDelivery(id);
      return d && ["succeeded", "failed", "halted"].includes(d.status) ? d : undefined;
    }, 20_000);
  const hits = (name: string) => api.requests.filter((r) => r.url.startsWith(`/api/${name}/`));

  it("encodes the form the way RFC 6749 Appendix B shows", () => {
    // The RFC's own example: SPACE % & + £ € → "+%25%26%2B%C2%A3%E2%82%AC".
    expect(formUrlEncode(" %&+£€")).toBe("+%25%26%2B%C2%A3%E2%82%AC");
  });

  it("sends client_secret_basic as base64 of form-urlencoded id ':' secret (RFC 6749 §2.3.1)", async () => {
    const d = await settled(await publish("hdr"));
    expect(d.status).toBe("succeeded");
    const [seen] = servers.get("hdr")!.requests;
    expect(seen!.clientAuth).toBe("header");
    expect(seen!.raw.headers.authorization).toBe(expectedBasicHeader(CLIENT_ID, CLIENT_SECRET));
    expect([seen!.clientId, seen!.clientSecret]).toEqual([CLIENT_ID, CLIENT_SECRET]);
    expect(seen!.form.has("client_secret")).toBe(false);
    expect(seen!.problems).toEqual([]);
    expect(hits("hdr")[0]!.headers.authorization).toBe(`Bearer ${servers.get("hdr")!.issued[0]}`);
  });

  it("sends client_secret_post in the form body", async () => {
    expect((await settled(await publish("body"))).status).toBe("succeeded");
    const [seen] = servers.get("body")!.requests;
    expect(seen!.clientAuth).toBe("body");
    expect(seen!.raw.headers.authorization).toBeUndefined();
    expect([seen!.form.get("client_id"), seen!.form.get("client_secret")]).toEqual([
      CLIENT_ID,
      CLIENT_SECRET,
    ]);
    expect(seen!.raw.body).toContain(
      `client_secret=${new URLSearchParams({ s: CLIENT_SECRET }).toString().slice(2)}`,
    );
  });

  it("sends client credentials and query extra fields in the token endpoint's query, the token in the API's", async () => {
    const id = await publish("query");
    expect((await settled(id)).status).toBe("succeeded");
    const [seen] = servers.get("query")!.requests;
    expect(seen!.clientAuth).toBe("query");
    expect([seen!.query.get("client_id"), seen!.query.get("client_secret")]).toEqual([
      CLIENT_ID,
      CLIENT_SECRET,
    ]);
    expect(seen!.query.get("audience")).toBe("https://api");
    expect(seen!.form.get("scope")).toBe("contacts.write lists.read");
    expect(seen!.form.has("client_secret")).toBe(false);
    expect(seen!.raw.headers.authorization).toBeUndefined();
    const hit = new URL(hits("query")[0]!.url, "http://x");
    expect(hit.searchParams.get("access_token")).toBe(servers.get("query")!.issued[0]!);
    const [attempt] = await app.store.listAttempts(id);
    expect(attempt!.request.url).not.toContain(servers.get("query")!.issued[0]!);
  });

  it("shares one token request among 100 concurrent deliveries", async () => {
    const ids = await Promise.all(Array.from({ length: 100 }, () => publish("slow")));
    const all = await Promise.all(ids.map(settled));
    expect(all.every((d) => d.status === "succeeded")).toBe(true);
    expect(servers.get("slow")!.requests).toHaveLength(1);
    expect(new Set(hits("slow").map((r) => r.headers.authorization)).size).toBe(1);
  });

  it("shares one token request among 100 concurrent authorize calls", async () => {
    const instance = app.integrations.get("direct")!.instance;
    const request = { method: "POST" as const, url: `${api.url}/api/direct/x`, headers: {}, body: "{}" };
    const out = await Promise.all(Array.from({ length: 100 }, () => instance.authorize(request, {})));
    expect(servers.get("direct")!.requests).toHaveLength(1);
    expect(new Set(out.map((r) => r.headers.authorization))).toEqual(
      new Set([`Bearer ${servers.get("direct")!.issued[0]}`]),
    );
  });

  it("replaces a token before expires_in runs out", async () => {
    const server = servers.get("short")!;
    expect((await settled(await publish("short"))).status).toBe("succeeded");
    expect((await settled(await publish("short"))).status).toBe("succeeded");
    expect(server.requests).toHaveLength(1);
    // expires_in: 2 → replaced after 90 % of its life (1.8 s), before the server would refuse it.
    await new Promise((r) => setTimeout(r, 1_850));
    expect((await settled(await publish("short"))).status).toBe("succeeded");
    expect(server.requests).toHaveLength(2);
    // Replaced ahead of time, not after a refusal: one API request per delivery.
    expect(hits("short")).toHaveLength(3);
    expect(hits("short").at(-1)!.headers.authorization).toBe(`Bearer ${server.issued[1]}`);
  });

  it("on a 401 gets one new token and retries once, not in a loop", async () => {
    const id = await publish("refused");
    const d = await settled(id);
    expect(d.status).toBe("failed");
    expect(d.reason).toBe("HTTP 401");
    expect(servers.get("refused")!.requests).toHaveLength(2);
    expect(hits("refused")).toHaveLength(2);
    const [first, second] = hits("refused");
    expect(first!.headers.authorization).toBe(`Bearer ${servers.get("refused")!.issued[0]}`);
    expect(second!.headers.authorization).toBe(`Bearer ${servers.get("refused")!.issued[1]}`);
    expect(await app.store.listAttempts(id)).toHaveLength(1);
  });

  it("recovers from a revoked token with one refresh inside the same attempt", async () => {
    const server = servers.get("revoked")!;
    expect((await settled(await publish("revoked"))).status).toBe("succeeded");
    server.revokeAll();
    const id = await publish("revoked");
    expect((await settled(id)).status).toBe("succeeded");
    expect(server.requests).toHaveLength(2);
    expect(hits("revoked").map((r) => r.headers.authorization)).toEqual([
      `Bearer ${server.issued[0]}`,
      `Bearer ${server.issued[0]}`,
      `Bearer ${server.issued[1]}`,
    ]);
    const attempts = await app.store.listAttempts(id);
    expect(attempts.map((a) => a.status)).toEqual([200]);
  });

  it("gets one new token for many requests refused together", async () => {
    const server = servers.get("together")!;
    expect((await settled(await publish("together"))).status).toBe("succeeded");
    server.revokeAll();
    const ids = await Promise.all(Array.from({ length: 40 }, () => publish("together")));
    const all = await Promise.all(ids.map(settled));
    expect(all.every((d) => d.status === "succeeded")).toBe(true);
    expect(server.requests).toHaveLength(2);
  });

  it("records invalid_client for a wrong client secret, sends nothing, and keeps running", async () => {
    const id = await publish("wrong");
    const d = await settled(id);
    expect(d.status).toBe("failed");
    expect(d.reason).toContain("invalid_client");
    expect(d.reason).not.toContain("not-the-secret-at-all");
    const [attempt] = await app.store.listAttempts(id);
    expect(attempt!.errorClass).toBe("auth");
    expect(attempt!.outcome).toBe("failed");
    expect(attempt!.error).toContain("invalid_client");
    // Not retried: a wrong secret stays wrong.
    expect(servers.get("wrong")!.requests).toHaveLength(1);
    expect(hits("wrong")).toHaveLength(0);
    expect((await settled(await publish("hdr"))).status).toBe("succeeded");
  });

  it("retries a delivery whose token endpoint refuses connections, as a fault", async () => {
    const id = await publish("down");
    const d = await settled(id);
    expect(d.status).toBe("failed");
    const attempts = await app.store.listAttempts(id);
    expect(attempts).toHaveLength(4);
    expect(attempts.slice(0, 3).every((a) => a.outcome === "retry")).toBe(true);
    expect(attempts[0]!.errorClass).toBe("auth");
    expect(attempts[0]!.error).toContain(`token endpoint http://127.0.0.1:${downPort}/oauth2/token`);
    expect(hits("down")).toHaveLength(0);
  });

  it("retries a delivery whose token endpoint answers 503, then delivers", async () => {
    const id = await publish("flaky");
    expect((await settled(id)).status).toBe("succeeded");
    const attempts = await app.store.listAttempts(id);
    expect(attempts.map((a) => a.outcome)).toEqual(["retry", "retry", "succeeded"]);
    expect(attempts[0]!.error).toContain("answered HTTP 503");
    expect(servers.get("flaky")!.requests).toHaveLength(3);
  });
});
