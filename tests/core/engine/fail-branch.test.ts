import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

for (const kind of storeKinds) {
  describe(`abort and fail branch on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink((req) => {
        if (req.url.startsWith("/email")) return { status: 401, body: '{"error":"mailbox rejected"}' };
        if (req.url.startsWith("/denied")) return { status: 401, delayMs: 10 };
        return { status: 200 };
      });
      app = await testApp(
        `
engine: { concurrency: 2, pollInterval: 20ms, abortAfter: 5, retry: { delays: [20ms], jitter: 0 }, allowNetworks: ["127.0.0.1/32"] }
webhooks:
  email: { url: ${sink.url}/email, body: '{"to": <%= json(it.customer.email) %>}' }
  sms-fallback:
    url: ${sink.url}/sms
    body: '{"to": <%= json(it.customer.phone) %>, "why": <%= json(it.event.data.reason) %>, "failed": <%= json(it.event.data.webhook) %>, "said": <%= json(it.event.data.response.body.error) %>}'
  bulk: { url: ${sink.url}/denied, body: '{"n": <%= it.event.data.n %>}' }
  alert: { url: ${sink.url}/alert, body: '{"aborted": <%= json(it.event.data.webhook) %>, "why": <%= json(it.event.data.reason) %>}' }
  noted: { url: ${sink.url}/noted, body: '{"webhook": <%= json(it.event.data.webhook) %>, "delivery": <%= json(it.event.data.deliveryId) %>, "status": <%= json(it.event.data.status) %>, "reason": <%= json(it.event.data.reason) %>}' }
triggers:
  - { kind: event, events: [welcome], webhooks: [email] }
  - { kind: event, events: [campaign], webhooks: [bulk] }
  - { kind: event, events: [webhook.failed], webhooks: [sms-fallback, noted] }
  - { kind: event, events: [webhook.aborted], webhooks: [alert] }
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

    it("routes a failed delivery to its follow-up webhook with the customer, the reason and the last response", async () => {
      await app.publish({
        type: "welcome",
        customer: { id: "c1", email: "ada@example.com", phone: "+420600000001" },
      });
      await eventually(() => sink.requests.some((r) => r.url === "/sms"), 15_000, "the SMS fallback");
      const sms = JSON.parse(sink.requests.find((r) => r.url === "/sms")!.body);
      expect(sms).toEqual({
        to: "+420600000001",
        why: "HTTP 401",
        failed: "email",
        said: "mailbox rejected",
      });
    });

    it("stops calling a webhook that keeps answering 401 after the threshold, aborts the rest and raises webhook.aborted", async () => {
      const run = await app.publish(
        Array.from({ length: 40 }, (_, n) => ({ type: "campaign", data: { n } })),
      );
      const ids = run.events.map((e) => e.deliveries[0]!.id);
      const all = await eventually(
        async () => {
          const ds = await Promise.all(ids.map((id) => app.store.getDelivery(id)));
          return ds.every((d) => d && ["failed", "aborted"].includes(d.status))
            ? ds.map((d) => d!)
            : undefined;
        },
        20_000,
        "the run to end",
      );
      const called = sink.requests.filter((r) => r.url === "/denied").length;
      expect(called).toBeGreaterThanOrEqual(5);
      // The threshold, plus what was in flight or not yet recorded when it was reached: far from all 40.
      expect(called).toBeLessThanOrEqual(15);
      await new Promise((r) => setTimeout(r, 300));
      expect(sink.requests.filter((r) => r.url === "/denied").length).toBe(called);
      const aborted = all.filter((d) => d.status === "aborted");
      expect(aborted.length).toBe(40 - called);
      expect(aborted[0]!.reason).toMatch(/^aborted after \d+ unrecoverable outcomes in this run$/);
      await eventually(
        () => sink.requests.some((r) => r.url === "/alert"),
        15_000,
        "the webhook.aborted alert",
      );
      expect(JSON.parse(sink.requests.find((r) => r.url === "/alert")!.body).aborted).toBe("bulk");
      // Every delivery of the run raised webhook.failed: those that failed and those aborted unsent.
      const noted = await eventually(
        () => {
          const n = sink.requests
            .filter((r) => r.url === "/noted")
            .map((r) => JSON.parse(r.body))
            .filter((b) => b.webhook === "bulk");
          return n.length >= 40 ? n : undefined;
        },
        15_000,
        "webhook.failed for each delivery of the run",
      );
      expect(new Set(noted.map((b) => b.delivery))).toEqual(new Set(ids));
      expect(noted.filter((b) => b.status === "aborted").length).toBe(40 - called);
      expect(noted.filter((b) => b.status === "failed").length).toBe(called);
      expect(noted.find((b) => b.status === "aborted").reason).toMatch(/^aborted after \d+ unrecoverable/);
      // Another run of the same webhook starts afresh.
      const again = await app.publish({ type: "campaign", data: { n: 99 } });
      const d = await eventually(async () => {
        const x = await app.store.getDelivery(again.events[0]!.deliveries[0]!.id);
        return x && x.status !== "pending" && x.status !== "in_flight" ? x : undefined;
      });
      expect(d.status).toBe("failed");
    });
  });
}
