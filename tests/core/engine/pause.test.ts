import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

for (const kind of storeKinds) {
  describe(`pausing an endpoint that keeps failing on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;
    let down = true;
    let waiting: string[] = [];

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink((req) => (req.url === "/crm" && down ? { status: 503 } : { status: 200 }));
      // 250 ms stands in for the default 5 days; retries every 50 ms keep it failing continuously.
      app = await testApp(
        `
engine: { concurrency: 2, pollInterval: 20ms, pauseAfter: 250ms, retry: { delays: [50ms], jitter: 0 }, allowNetworks: ["127.0.0.1/32"] }
webhooks:
  crm: { url: ${sink.url}/crm, body: '{"n": <%= it.event.data.n %>}' }
  ops: { url: ${sink.url}/ops, body: '{"paused": <%= json(it.event.data.webhook) %>}' }
triggers:
  - { kind: event, events: [change], webhooks: [crm] }
  - { kind: event, events: [webhook.paused], webhooks: [ops] }
`,
        driver,
      );
      await app.start();
    });
    afterAll(async () => {
      await app.stop(1_000);
      await sink.close();
      await driver.dispose();
    });

    const crmCalls = () => sink.requests.filter((r) => r.url === "/crm").length;

    it("pauses the webhook, raises webhook.paused, and sends nothing more while paused", async () => {
      // A steady stream of events keeps the endpoint failing past the pause period, as traffic would.
      const ids: string[] = [];
      for (let n = 0; n < 16 && !sink.requests.some((q) => q.url === "/ops"); n++) {
        const r = await app.publish({ type: "change", data: { n } });
        ids.push(r.events[0]!.deliveries[0]!.id);
        await new Promise((res) => setTimeout(res, 60));
      }
      await eventually(() => sink.requests.some((q) => q.url === "/ops"), 15_000, "the webhook.paused alert");
      expect(JSON.parse(sink.requests.find((q) => q.url === "/ops")!.body)).toEqual({ paused: "crm" });
      const listed = await (await app.fetch(new Request("http://h/v1/webhooks"))).json();
      const crm = listed.webhooks.find((w: { name: string }) => w.name === "crm");
      expect(crm.paused.reason).toStartWith("paused: failing continuously since ");
      await new Promise((res) => setTimeout(res, 100));
      const calls = crmCalls();
      await new Promise((res) => setTimeout(res, 400));
      expect(crmCalls()).toBe(calls);
      // What had not run out of attempts waits, rather than being given up: set aside as paused once
      // a claim met it (a worker's poll, some time after the alert), or still pending until its retry is due.
      const ds = await eventually(
        async () => {
          const all = await Promise.all(ids.map((id) => app.store.getDelivery(id)));
          return all.some((d) => d!.status === "paused") ? all : undefined;
        },
        15_000,
        "a delivery set aside as paused",
      );
      const held = (s: string) => s === "pending" || s === "paused";
      expect(ds.some((d) => d!.status === "paused")).toBe(true);
      waiting = ds.filter((d) => held(d!.status)).map((d) => d!.id);
    });

    it("goes on from where it stopped when resumed", async () => {
      down = false;
      const resumed = await app.fetch(new Request("http://h/v1/webhooks/crm/resume", { method: "POST" }));
      expect(resumed.status).toBe(200);
      await eventually(
        async () => {
          const ds = await Promise.all(waiting.map((id) => app.store.getDelivery(id)));
          return ds.every((d) => d!.status === "succeeded");
        },
        15_000,
        "the paused deliveries to go out",
      );
      expect(
        (await app.fetch(new Request("http://h/v1/webhooks/crm/resume", { method: "POST" }))).status,
      ).toBe(409);
    });
  });
}
