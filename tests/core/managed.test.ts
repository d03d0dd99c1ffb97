import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mustache } from "../../plugins/mustache/index.ts";
import { eventually, testApp } from "../support/app.ts";
import { storeKinds } from "../support/db.ts";
import { type Sink, startSink } from "../support/http-sink.ts";

const KEY = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
const PASSWORD = "Pw-distinctive-5150";
const NEW_PASSWORD = "Pw-rotated-8086";

for (const kind of storeKinds) {
  describe(`admin API integrations and webhooks on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;
    const yaml = (url: string) => `
engine: { allowNetworks: ["127.0.0.1/32"], pollInterval: 20ms }
integrations:
  from-config: { kind: basic, endpointPrefix: ${url}/cfg, username: c, password: "cfg-password-1" }
webhooks:
  configured: { url: ${url}/cfg/x, integration: from-config, body: "{}" }
`;
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await app.fetch(
        new Request(`http://h${path}`, {
          method,
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
      const text = await r.text();
      return { status: r.status, text, json: text ? JSON.parse(text) : undefined };
    };

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink();
      app = await testApp(yaml(sink.url), driver, {
        env: { HOOKLINE_SECRET_KEY: KEY },
        plugins: [mustache()],
      });
      await app.start();
    });
    afterAll(async () => {
      await app.stop(0);
      await sink.close();
      await driver.dispose();
    });

    it("creates an integration whose secret is sealed at rest and never shown", async () => {
      const r = await call("PUT", "/v1/integrations/crm", {
        kind: "basic",
        endpointPrefix: `${sink.url}/api`,
        username: "hookline",
        password: PASSWORD,
      });
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({
        name: "crm",
        source: "api",
        kind: "basic",
        options: { username: "hookline" },
        secrets: { password: "set" },
      });
      expect(r.text).not.toContain(PASSWORD);
      const [row] = await driver.query<{ spec: unknown; sealed: string }>(
        "SELECT spec, sealed FROM hookline_managed WHERE name = 'crm'",
      );
      expect(JSON.stringify(row!.spec)).not.toContain(PASSWORD);
      expect(row!.sealed).toStartWith("v1.");
      expect(row!.sealed).not.toContain(PASSWORD);
      expect((await call("GET", "/v1/integrations/crm")).text).not.toContain(PASSWORD);
    });

    it("refuses an Eta webhook from the admin API unless the operator allowed code templates", async () => {
      const r = await call("PUT", "/v1/webhooks/contact", {
        url: `${sink.url}/api/contacts`,
        integration: "crm",
        body: "{}",
        events: ["signup"],
      });
      expect(r.status).toBe(403);
      expect(r.json.error).toContain("runs templates as code");
    });

    it("delivers through an API webhook and an API integration, and keeps the secret on an update that omits it", async () => {
      // Mustache is an interpreter: safe for templates that arrive at run time.
      const put = await call("PUT", "/v1/webhooks/contact", {
        url: `${sink.url}/api/contacts`,
        integration: "crm",
        engine: "mustache",
        body: '{"id": {{#json}}{{customer.id}}{{/json}}}',
        events: ["signup"],
      });
      expect(put.status).toBe(200);
      const upd = await call("PUT", "/v1/integrations/crm", {
        kind: "basic",
        endpointPrefix: `${sink.url}/api`,
        username: "hookline-2",
      });
      expect(upd.status).toBe(200);
      const r = await app.publish({ type: "signup", customer: { id: "c1" } });
      const id = r.events[0]!.deliveries[0]!.id;
      await eventually(async () => (await app.store.getDelivery(id))?.status === "succeeded");
      const req = sink.requests.find((q) => q.url === "/api/contacts")!;
      expect(req.headers.authorization).toBe(`Basic ${btoa(`hookline-2:${PASSWORD}`)}`);
      expect(JSON.parse(req.body)).toEqual({ id: "c1" });
    });

    it("requires the secrets again when the endpoint prefix changes", async () => {
      const moved = await call("PUT", "/v1/integrations/crm", {
        kind: "basic",
        endpointPrefix: `${sink.url}/elsewhere`,
        username: "hookline-2",
      });
      expect(moved.status).toBe(400);
      expect(moved.json.error).toBe("changing endpointPrefix requires the secrets again: password");
      const ok = await call("PUT", "/v1/integrations/crm", {
        kind: "basic",
        endpointPrefix: `${sink.url}/api`,
        username: "hookline-2",
        password: NEW_PASSWORD,
      });
      expect(ok.status).toBe(200);
    });

    it("refuses to change or delete what the config file defines, and to delete an integration in use", async () => {
      expect(
        (
          await call("PUT", "/v1/integrations/from-config", {
            kind: "basic",
            endpointPrefix: `${sink.url}/x`,
            username: "u",
            password: "p",
          })
        ).status,
      ).toBe(409);
      expect((await call("DELETE", "/v1/webhooks/configured")).status).toBe(409);
      const inUse = await call("DELETE", "/v1/integrations/crm");
      expect(inUse.status).toBe(409);
      expect(inUse.json.error).toBe('integration "crm" is used by webhooks: contact');
    });

    it("validates options with the kind's schema and says where", async () => {
      const r = await call("PUT", "/v1/integrations/bad", {
        kind: "basic",
        endpointPrefix: "ftp://x",
        username: "a:b",
        password: "p",
      });
      expect(r.status).toBe(400);
      const unknown = await call("PUT", "/v1/integrations/bad", {
        kind: "carrier-pigeon",
        endpointPrefix: "https://x.example",
      });
      expect(unknown.status).toBe(400);
      expect(unknown.json.error).toContain('unknown kind "carrier-pigeon"');
      const opts = await call("PUT", "/v1/integrations/bad", {
        kind: "basic",
        endpointPrefix: "https://x.example",
        username: "a:b",
        password: "p",
      });
      expect(opts.json.issues).toEqual([
        { path: "username", message: "a user-id may not contain ':' (RFC 7617)" },
      ]);
    });

    it("exports webhooks and integrations without any secret, and says which secrets an importer must re-enter", async () => {
      const r = await call("GET", "/v1/export");
      expect(r.status).toBe(200);
      for (const s of [PASSWORD, NEW_PASSWORD, "cfg-password-1"]) expect(r.text).not.toContain(s);
      expect(Object.keys(r.json.integrations).sort()).toEqual(["crm", "from-config"]);
      expect(r.json.secretsRequired).toEqual({ crm: ["password"], "from-config": ["password"] });
      expect(r.json.webhooks.contact.url).toBe(`${sink.url}/api/contacts`);
    });

    it("imports an export elsewhere: integrations wait for their secrets, deliveries through them fail saying so", async () => {
      const exported = (await call("GET", "/v1/export")).json;
      const other = await kind.open();
      // The export holds the config file's Eta webhook: the operator importing it opts in to code templates.
      const target = await testApp(
        'engine: { allowNetworks: ["127.0.0.1/32"], pollInterval: 20ms, allowCodeTemplatesFromApi: true }\n',
        other,
        { env: { HOOKLINE_SECRET_KEY: KEY }, plugins: [mustache()] },
      );
      await target.start();
      const imp = await target.fetch(
        new Request("http://h/v1/import", { method: "POST", body: JSON.stringify(exported) }),
      );
      const result = await imp.json();
      expect(imp.status).toBe(200);
      expect(result.imported.integrations.sort()).toEqual(["crm", "from-config"]);
      expect(result.secretsToReenter).toEqual({ crm: ["password"], "from-config": ["password"] });
      const shown = await (await target.fetch(new Request("http://h/v1/integrations/crm"))).json();
      expect(shown.secrets).toEqual({ password: "missing" });
      const pub = await target.publish({ type: "signup", customer: { id: "c2" } });
      const id = pub.events[0]!.deliveries[0]!.id;
      const d = await eventually(async () => {
        const x = await target.store.getDelivery(id);
        return x?.status === "failed" ? x : undefined;
      });
      expect(d.reason).toContain('integration "crm" needs its secrets re-entered (password)');
      await target.stop(0);
      await other.dispose();
    });

    it("stops start-up when sealed secrets are stored and HOOKLINE_SECRET_KEY is missing or wrong", async () => {
      await expect(testApp(yaml(sink.url), driver, { env: {} })).rejects.toThrow(
        /HOOKLINE_SECRET_KEY is not set, but the store holds sealed secrets of integrations \(crm\)/,
      );
      const wrong = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
      await expect(testApp(yaml(sink.url), driver, { env: { HOOKLINE_SECRET_KEY: wrong } })).rejects.toThrow(
        /which HOOKLINE_SECRET_KEY does not hold/,
      );
    });

    it("a delivery of a webhook created a moment ago in another process is sent by this one's workers, not failed as unknown", async () => {
      const maker = await testApp(yaml(sink.url), driver, {
        env: { HOOKLINE_SECRET_KEY: KEY },
        plugins: [mustache()],
      });
      const sender = await testApp(yaml(sink.url), driver, {
        env: { HOOKLINE_SECRET_KEY: KEY },
        plugins: [mustache()],
      });
      await maker.start({ workers: false });
      await sender.start();
      try {
        const put = await maker.fetch(
          new Request("http://h/v1/webhooks/made-elsewhere", {
            method: "PUT",
            body: JSON.stringify({
              url: `${sink.url}/elsewhere/made`,
              engine: "mustache",
              body: '{"id": {{#json}}{{customer.id}}{{/json}}}',
              events: ["made-elsewhere"],
            }),
          }),
        );
        expect(put.status).toBe(200);
        // The sender has not polled since (it refreshes every 2 s): its workers claim the delivery first.
        expect(sender.webhooks.has("made-elsewhere")).toBe(false);
        const r = await maker.publish({ type: "made-elsewhere", customer: { id: "x-1" } });
        expect(r.events[0]!.deliveries).toHaveLength(1);
        await eventually(
          () => sink.requests.some((q) => q.url === "/elsewhere/made"),
          5_000,
          "sent by the sender",
        );
        const status = async () =>
          (
            await driver.query<{ status: string }>(
              "SELECT status FROM hookline_delivery_state WHERE webhook = 'made-elsewhere'",
            )
          ).map((d) => d.status);
        await eventually(async () => (await status())[0] === "succeeded", 5_000, "recorded as succeeded");
        expect(await status()).toEqual(["succeeded"]);
      } finally {
        await maker.stop(0);
        await sender.stop(0);
      }
    });

    it("another process sharing the store sees an integration created through the API", async () => {
      const second = await testApp(yaml(sink.url), driver, {
        env: { HOOKLINE_SECRET_KEY: KEY },
        plugins: [mustache()],
      });
      expect(second.integrations.has("crm")).toBe(true);
      await call("PUT", "/v1/integrations/late", {
        kind: "basic",
        endpointPrefix: `${sink.url}/late`,
        username: "u",
        password: "late-password-1",
      });
      expect(await second.managed.refresh()).toBe(true);
      expect(second.integrations.has("late")).toBe(true);
      await second.stop(0);
    });
  });
}
