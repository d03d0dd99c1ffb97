import { afterAll, describe, expect, it } from "bun:test";
import { activityCallbacks } from "../../../plugins/activity-callbacks/index.ts";
import { oauth2 } from "../../../plugins/oauth2/index.ts";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { startSink } from "../../support/http-sink.ts";
import { startTokenServer } from "../../support/oauth-server.ts";

describe("a subscriber's GET check", () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it("after a 401 goes once more as the first request went: freshly authorized, with the same URL and user agent", async () => {
    const tokens = await startTokenServer({ clientId: "hookline", clientSecret: "check-secret-4b7d" });
    // The subscriber refuses the first token (revoked on its side), as an expired one would be.
    const sink = await startSink((_r, i) => ({ status: i === 0 ? 401 : 200 }));
    const driver = await storeKinds[0]!.open();
    const app = await testApp(
      `
engine: { allowNetworks: ["127.0.0.1/32"] }
integrations:
  crm:
    kind: oauth2
    endpointPrefix: ${sink.url}/hooks
    tokenEndpoint: ${tokens.tokenUrl}
    clientId: hookline
    clientSecret: check-secret-4b7d
    allowedDomains: ["${sink.url}"]
`,
      driver,
      { plugins: [oauth2(), activityCallbacks()], adminToken: "admin-check" },
    );
    cleanup.push(async () => {
      await app.stop(0);
      await sink.close();
      await tokens.close();
      await driver.dispose();
    });

    const put = await app.fetch(
      new Request("http://h/v1/subscribers/crm", {
        method: "PUT",
        headers: { authorization: "Bearer admin-check" },
        body: JSON.stringify({ url: `${sink.url}/hooks/status`, integration: "crm" }),
      }),
    );
    expect(put.status).toBe(201);
    expect(tokens.issued.length).toBe(2);
    expect(
      sink.requests.map((r) => [r.method, r.url, r.headers.authorization, r.headers["user-agent"]]),
    ).toEqual([
      ["GET", "/hooks/status", `Bearer ${tokens.issued[0]}`, "hookline/0.1"],
      ["GET", "/hooks/status", `Bearer ${tokens.issued[1]}`, "hookline/0.1"],
    ]);
  });
});
