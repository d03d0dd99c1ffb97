import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { oauth2 } from "../../../plugins/oauth2/index.ts";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";
import { startTokenServer, type TokenServer } from "../../support/oauth-server.ts";

const CLIENT_SECRET = "itest-secret-6c1f";

describe("an integration's test request", () => {
  let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
  let tokens: TokenServer;
  let api: Sink;
  let app: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    tokens = await startTokenServer({ clientId: "hookline", clientSecret: CLIENT_SECRET });
    let refusedOnce = false;
    api = await startSink((req) => {
      // /api/once refuses its first request (a token revoked on the API's side), as an expired one would be.
      if (req.url === "/api/once/ping" && !refusedOnce) {
        refusedOnce = true;
        return { status: 401 };
      }
      return req.url === "/api/always/ping" ? { status: 401 } : { status: 200 };
    });
    const integration = (name: string) => `
  ${name}:
    kind: oauth2
    endpointPrefix: ${api.url}/api/${name}
    tokenEndpoint: ${tokens.tokenUrl}
    clientId: hookline
    clientSecret: ${CLIENT_SECRET}
    allowedDomains: ["${api.url}"]
    test: { method: GET, path: ping }`;
    app = await testApp(
      `
engine: { allowNetworks: ["127.0.0.1/32"] }
integrations:${integration("once")}${integration("always")}
`,
      driver,
      { plugins: [oauth2()] },
    );
  });
  afterAll(async () => {
    await app.stop(0);
    await api.close();
    await tokens.close();
    await driver.dispose();
  });

  const test = async (name: string) =>
    (await app.fetch(new Request(`http://h/v1/integrations/${name}/test`, { method: "POST" }))).json();
  const sent = (path: string) =>
    api.requests
      .filter((r) => r.url === path)
      .map((r) => [r.method, r.headers.authorization, r.headers["user-agent"]]);

  it("after a 401 gets a new token and goes once more, freshly authorized, to the same URL", async () => {
    expect(await test("once")).toEqual({
      ok: true,
      status: 200,
      request: { method: "GET", url: `${api.url}/api/once/ping` },
    });
    expect(tokens.issued).toHaveLength(2);
    expect(sent("/api/once/ping")).toEqual([
      ["GET", `Bearer ${tokens.issued[0]}`, "hookline/0.1"],
      ["GET", `Bearer ${tokens.issued[1]}`, "hookline/0.1"],
    ]);
  });

  it("reports the 401 when the request sent after a new token is refused too, without a loop", async () => {
    const before = tokens.issued.length;
    const r = await test("always");
    expect(r).toMatchObject({ ok: false, status: 401, reason: "HTTP 401" });
    expect(tokens.issued.length - before).toBe(2);
    expect(sent("/api/always/ping")).toEqual([
      ["GET", `Bearer ${tokens.issued[before]}`, "hookline/0.1"],
      ["GET", `Bearer ${tokens.issued[before + 1]}`, "hookline/0.1"],
    ]);
  });
});
