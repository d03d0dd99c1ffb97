import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mustache } from "../../../plugins/mustache/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

const yamlFor = (sink: Sink) => `
engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
webhooks:
  crm:
    engine: mustache
    url: ${sink.url}/crm
    body: '{"customer": "{{customer.id}}", "event": "{{event.type}}"}'
triggers: [{ kind: event, events: [signup], webhooks: [crm] }]
`;

for (const kind of storeKinds) {
  describe(`the webhook lifecycle through the admin API on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
    let sink: Sink;
    // Two apps on one store: what one process disables, the other does not fire either.
    let app: Awaited<ReturnType<typeof testApp>>;
    let other: Awaited<ReturnType<typeof testApp>>;
    const callOn = async (on: typeof app, method: string, path: string, body?: unknown) => {
      const r = await on.fetch(
        new Request(`http://h${path}`, {
          method,
          ...(body === undefined
            ? {}
            : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
        }),
      );
      const text = await r.text();
      return { status: r.status, json: (text ? JSON.parse(text) : {}) as Record<string, any> };
    };
    const call = (method: string, path: string, body?: unknown) => callOn(app, method, path, body);
    const statuses = async (ids: string[]) =>
      Promise.all(
        ids.map(async (id) => (await call("GET", `/v1/deliveries/${id}`)).json.delivery.status as string),
      );
    const signups = async (on: typeof app, ...customers: string[]) => {
      const published = await on.publish(customers.map((id) => ({ type: "signup", customer: { id } })));
      return published.events.flatMap((e) => e.deliveries.map((d) => d.id));
    };
    const crmRequests = () => sink.requests.filter((r) => r.url === "/crm");

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink(() => ({ status: 200, body: '{"ok":true}' }));
      app = await testApp(yamlFor(sink), driver, { plugins: [mustache()] });
      other = await testApp(yamlFor(sink), driver, { plugins: [mustache()] });
    });
    afterAll(async () => {
      await app.stop(500);
      await other.stop(0);
      await sink.close();
      await driver.dispose();
    });

    it("cancels a webhook's queued deliveries with the reason when disabled with cancel", async () => {
      const queued = await signups(app, "c1", "c2");
      expect(queued).toHaveLength(2);
      const r = await call("POST", "/v1/webhooks/crm/disable", { queued: "cancel", reason: "campaign over" });
      expect([r.status, r.json]).toEqual([200, { name: "crm", disabled: true, queued: "cancel", halted: 2 }]);
      for (const id of queued) {
        const d = (await call("GET", `/v1/deliveries/${id}`)).json.delivery;
        expect([d.status, d.reason]).toEqual(["halted", "webhook disabled: campaign over"]);
      }
      const listed = (await call("GET", "/v1/webhooks")).json.webhooks.find(
        (w: { name: string }) => w.name === "crm",
      );
      expect(listed).toMatchObject({
        source: "config",
        file: "test.yaml",
        disabled: { reason: "campaign over" },
      });
      expect((await call("GET", "/v1/webhooks/crm")).json).toMatchObject({
        name: "crm",
        source: "config",
        line: 4,
        disabled: { reason: "campaign over" },
      });
      expect((await call("POST", "/v1/webhooks/crm/enable")).json).toEqual({ name: "crm", enabled: true });
      expect((await call("POST", "/v1/webhooks/crm/enable")).status).toBe(409);
    });

    it("keeps a disabled webhook's queued deliveries unclaimed until it is enabled, and fires it on no process", async () => {
      const queued = await signups(app, "c3", "c4");
      expect((await call("POST", "/v1/webhooks/crm/disable", {})).json).toMatchObject({
        disabled: true,
        queued: "wait",
        halted: 0,
      });
      expect((await call("POST", "/v1/webhooks/crm/disable", {})).status).toBe(409);
      // Triggers write nothing for it, on this process or another sharing the store.
      expect(await signups(app, "c5")).toEqual([]);
      expect(await signups(other, "c6")).toEqual([]);
      expect((await callOn(other, "GET", "/v1/webhooks")).json.webhooks[0].disabled).toBeDefined();

      await app.start();
      // The claim meets them and sets them aside instead of leasing them.
      await eventually(
        async () => (await statuses(queued)).every((s) => s === "paused"),
        10_000,
        "set aside",
      );
      expect(crmRequests()).toHaveLength(0);

      // Enabled on the other process: this one's workers send them.
      expect((await callOn(other, "POST", "/v1/webhooks/crm/enable")).status).toBe(200);
      await eventually(async () => (await statuses(queued)).every((s) => s === "succeeded"), 10_000, "sent");
      expect(
        crmRequests()
          .map((r) => JSON.parse(r.body).customer)
          .sort(),
      ).toEqual(["c3", "c4"]);
      expect(await signups(other, "c7")).toHaveLength(1);
    });

    it("keeps a webhook both paused and disabled waiting until it is resumed and enabled", async () => {
      await call("POST", "/v1/webhooks/crm/disable", {});
      // Paused as continuous failure pauses it (core/store/run-health.ts trackHealth).
      await driver.query(
        `INSERT INTO hookline_webhook_health (webhook, paused_at, reason) VALUES ('crm', now(), 'paused: failing')
         ON CONFLICT (webhook) DO UPDATE SET paused_at = now(), reason = 'paused: failing'`,
      );
      const queued = await app.publish({ type: "welcome", customer: { id: "c8" } });
      expect(queued.events[0]!.deliveries).toEqual([]);
      const fired = await call("POST", "/v1/webhooks/crm/fire", { customer: "c8" });
      expect(fired.status).toBe(409);
      await call("POST", "/v1/webhooks/crm/enable");
      const waiting = (await call("POST", "/v1/webhooks/crm/fire", { customer: "c8" })).json
        .delivery as string;
      await call("POST", "/v1/webhooks/crm/disable", {});
      await eventually(async () => (await statuses([waiting]))[0] === "paused", 10_000, "set aside");
      expect((await call("POST", "/v1/webhooks/crm/resume")).status).toBe(200);
      // Resumed but still disabled: it waits on.
      expect(await statuses([waiting])).toEqual(["paused"]);
      expect(crmRequests().some((r) => JSON.parse(r.body).customer === "c8")).toBe(false);
      await call("POST", "/v1/webhooks/crm/enable");
      await eventually(async () => (await statuses([waiting]))[0] === "succeeded", 10_000, "sent");
    });

    it("fires a webhook for one customer: one delivery in a run of its own", async () => {
      const r = await call("POST", "/v1/webhooks/crm/fire", {
        customer: { id: "c9", email: "c9@example.com" },
        event: { type: "welcome" },
      });
      expect(r.status).toBe(202);
      const { delivery, runId } = r.json as { delivery: string; runId: string };
      expect([r.json.webhook, runId]).toEqual(["crm", expect.stringMatching(/^run_/)]);
      await eventually(async () => (await statuses([delivery]))[0] === "succeeded", 10_000, "fired");
      expect(crmRequests().some((q) => q.body === '{"customer": "c9", "event": "welcome"}')).toBe(true);
      const run = (await call("GET", `/v1/runs/${runId}`)).json.run;
      expect(run.counts).toMatchObject({ total: 1, succeeded: 1 });

      const again = await call("POST", "/v1/webhooks/crm/fire", {
        customer: "c9",
        event: { id: "evt-fixed" },
      });
      expect(again.status).toBe(202);
      expect(
        (await call("POST", "/v1/webhooks/crm/fire", { customer: "c9", event: { id: "evt-fixed" } })).status,
      ).toBe(409);
      expect((await call("POST", "/v1/webhooks/nope/fire", { customer: "c9" })).status).toBe(404);
      expect((await call("POST", "/v1/webhooks/crm/fire", {})).status).toBe(400);
      await call("POST", "/v1/webhooks/crm/disable", {});
      const refused = await call("POST", "/v1/webhooks/crm/fire", { customer: "c9" });
      expect([refused.status, refused.json.code]).toEqual([409, "HOOKLINE_HTTP_CONFLICT"]);
      await call("POST", "/v1/webhooks/crm/enable");
    });

    it("copies a config-file webhook into an admin-API one that no trigger fires", async () => {
      const r = await call("POST", "/v1/webhooks/crm/copy", { name: "crm-copy" });
      expect(r.status).toBe(201);
      expect(r.json).toMatchObject({ name: "crm-copy", url: `${sink.url}/crm`, method: "POST" });
      const listed = (await call("GET", "/v1/webhooks")).json.webhooks;
      expect(listed.find((w: { name: string }) => w.name === "crm-copy")).toMatchObject({ source: "api" });
      // The copy fires on nothing: a signup makes the original's delivery only.
      const made = await app.publish({ type: "signup", customer: { id: "c10" } });
      expect(made.events[0]!.deliveries.map((d) => d.webhook)).toEqual(["crm"]);
      const fired = await call("POST", "/v1/webhooks/crm-copy/fire", { customer: { id: "c11" } });
      await eventually(
        async () => (await statuses([fired.json.delivery]))[0] === "succeeded",
        10_000,
        "copy sent",
      );
      expect((await call("POST", "/v1/webhooks/crm/copy", { name: "crm-copy" })).status).toBe(409);
      expect((await call("POST", "/v1/webhooks/crm/copy", { name: "not a name" })).status).toBe(400);
      expect((await call("POST", "/v1/webhooks/crm-copy/copy", { name: "crm-copy-2" })).status).toBe(201);
      expect((await call("DELETE", "/v1/webhooks/crm-copy-2")).status).toBe(204);
    });

    it("forgets a deleted webhook's disabling: one made again under its name starts active", async () => {
      expect((await call("POST", "/v1/webhooks/crm/copy", { name: "again" })).status).toBe(201);
      expect((await call("POST", "/v1/webhooks/again/disable", { queued: "wait" })).status).toBe(200);
      expect((await call("DELETE", "/v1/webhooks/again")).status).toBe(204);
      expect((await call("POST", "/v1/webhooks/crm/copy", { name: "again" })).status).toBe(201);
      const shown = (await call("GET", "/v1/webhooks/again")).json;
      expect(shown.disabled).toBeUndefined();
      const fired = await call("POST", "/v1/webhooks/again/fire", { customer: { id: "c20" } });
      expect(fired.status).toBe(202);
      await eventually(
        async () => (await statuses([fired.json.delivery]))[0] === "succeeded",
        10_000,
        "sent by the webhook made again",
      );
    });
  });
}
