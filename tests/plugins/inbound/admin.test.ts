import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { inbound } from "../../../plugins/inbound/index.ts";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { ESPUTNIK_EXAMPLE } from "../../support/esputnik-example.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
const ADMIN = "admin-token-5c8d1e2f";
const API_KEY = "put-key-8e1f00aa";
const SECRET_KEY = btoa(String.fromCharCode(...Array.from({ length: 32 }, (_, i) => (i * 37 + 11) % 256)));

const config = `
inbound:
  endpoints:
    from-file: { kind: activity-status, path: file, auth: { kind: none } }
`;

for (const kind of storeKinds) {
  describe(`PUT /v1/inbound/:name on ${kind.name}`, () => {
    let driver: Driver;
    let app: Awaited<ReturnType<typeof testApp>>;
    let other: Awaited<ReturnType<typeof testApp>>;

    beforeAll(async () => {
      driver = await kind.open();
      const env = { HOOKLINE_SECRET_KEY: SECRET_KEY };
      app = await testApp(config, driver, { plugins: [inbound()], adminToken: ADMIN, env });
      // A second app on the same store: another process of the same deployment.
      other = await testApp(config, driver, { plugins: [inbound()], adminToken: ADMIN, env });
    });
    afterAll(async () => {
      await app.stop(0);
      await other.stop(0);
      await driver.dispose();
    });

    const admin = (method: string, path: string, body?: unknown, token = ADMIN) =>
      app.fetch(
        new Request(`http://h${path}`, {
          method,
          body: body === undefined ? undefined : JSON.stringify(body),
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        }),
      );
    const callback = (target: typeof app, path: string) =>
      target.fetch(
        new Request(`http://h/in/${path}`, {
          method: "POST",
          body: ESPUTNIK_EXAMPLE,
          headers: { "content-type": "application/json", "x-api-key": API_KEY },
        }),
      );
    const endpoint = {
      kind: "activity-status",
      path: "partners/acme",
      auth: { kind: "apiKey", keys: [API_KEY] },
    };

    it("creates an endpoint that every process sharing the store serves at once", async () => {
      expect((await admin("PUT", "/v1/inbound/acme", endpoint, "wrong-token")).status).toBe(401);
      const r = await admin("PUT", "/v1/inbound/acme", endpoint);
      expect(r.status).toBe(201);
      const shown = (await r.json()) as { url: string; config: { auth: { keys: string[] } } };
      expect(shown.url).toBe("/in/partners/acme");
      expect(shown.config.auth.keys).toEqual(["[REDACTED]"]);
      expect((await callback(app, "partners/acme")).status).toBe(200);
      expect((await callback(other, "partners/acme")).status).toBe(200);
      const wrong = await app.fetch(
        new Request("http://h/in/partners/acme", {
          method: "POST",
          body: "[]",
          headers: { "x-api-key": "nope" },
        }),
      );
      expect(wrong.status).toBe(401);
    });

    it("seals saved secrets at rest, and refuses secrets without HOOKLINE_SECRET_KEY (503)", async () => {
      const rows = await driver.query<{ config: unknown; sealed: string }>(
        "SELECT config::text AS config, sealed FROM hookline_inbound_endpoints WHERE name = 'acme'",
      );
      expect(JSON.stringify(rows)).not.toContain(API_KEY);
      expect(rows[0]!.sealed).toStartWith("v1.");
      const keyless = await testApp(config, driver, { plugins: [inbound()] });
      const r = await keyless.fetch(
        new Request("http://h/v1/inbound/acme-keyless", {
          method: "PUT",
          body: JSON.stringify({ ...endpoint, path: "k" }),
        }),
      );
      expect(r.status).toBe(503);
      expect(((await r.json()) as { code: string }).code).toBe("HOOKLINE_SECRET_KEY_MISSING");
      // An endpoint without secrets needs no key.
      const open = await keyless.fetch(
        new Request("http://h/v1/inbound/open", {
          method: "PUT",
          body: JSON.stringify({ kind: "activity-status", auth: { kind: "none" } }),
        }),
      );
      expect(open.status).toBe(201);
      expect(
        (await keyless.fetch(new Request("http://h/v1/inbound/open", { method: "DELETE" }))).status,
      ).toBe(204);
      await keyless.stop(0);
    });

    it("never shows a saved secret again, and redacts it from logs", async () => {
      const list = await admin("GET", "/v1/inbound");
      const text = await list.text();
      expect(text).toContain("partners/acme");
      expect(text).toContain("from-file");
      expect(text).not.toContain(API_KEY);
      app.logger.log("info", `a message quoting ${API_KEY}`);
      expect(app.logs.join("\n")).not.toContain(API_KEY);
    });

    it("replaces an endpoint (200), refuses a config-file name or a taken path (409) and an invalid body (400)", async () => {
      const replaced = await admin("PUT", "/v1/inbound/acme", { ...endpoint, bodyLimit: "64kb" });
      expect(replaced.status).toBe(200);
      expect((await admin("PUT", "/v1/inbound/from-file", endpoint)).status).toBe(409);
      expect((await admin("PUT", "/v1/inbound/acme-2", endpoint)).status).toBe(409);
      expect((await admin("PUT", "/v1/inbound/acme-2", { ...endpoint, path: "file" })).status).toBe(409);
      const invalid = await admin("PUT", "/v1/inbound/acme-2", {
        kind: "activity-status",
        auth: { kind: "apiKey", keys: [] },
      });
      expect(invalid.status).toBe(400);
      expect(((await invalid.json()) as { issues: Array<{ path: string }> }).issues[0]!.path).toBe(
        "auth.keys",
      );
      const script = await admin("PUT", "/v1/inbound/p", {
        kind: "profile-update",
        auth: { kind: "none" },
        identifier: { property: "email" },
        mappings: [{ from: "$[?(@.x)]", to: "x" }],
      });
      expect(script.status).toBe(400);
    });

    it("deletes an API endpoint (then 404 at its path), not a config-file one", async () => {
      expect((await admin("DELETE", "/v1/inbound/from-file")).status).toBe(409);
      expect((await admin("DELETE", "/v1/inbound/acme")).status).toBe(204);
      expect((await admin("DELETE", "/v1/inbound/acme")).status).toBe(404);
      expect((await callback(app, "partners/acme")).status).toBe(404);
      expect((await admin("GET", "/v1/inbound/acme")).status).toBe(404);
    });

    it("lists the activities an endpoint received", async () => {
      await app.fetch(new Request("http://h/in/file", { method: "POST", body: ESPUTNIK_EXAMPLE }));
      const r = await admin("GET", "/v1/inbound/from-file/activities?limit=3");
      const body = (await r.json()) as { activities: Array<{ activityStatus: string; receivedAt: string }> };
      expect(body.activities.map((a) => a.activityStatus)).toEqual(["SPAM", "CLICKED", "UNSUBSCRIBED"]);
      expect(Number.isNaN(Date.parse(body.activities[0]!.receivedAt))).toBe(false);
    });
  });
}
