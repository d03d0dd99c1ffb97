import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

for (const kind of storeKinds) {
  describe(`batch webhooks on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink((req) => (req.url.startsWith("/down") ? { status: 500 } : { status: 200 }));
      app = await testApp(
        `
engine:
  concurrency: 4
  pollInterval: 20ms
  retry: { delays: [20ms], jitter: 0 }
  allowNetworks: ["127.0.0.1/32"]
webhooks:
  contacts:
    url: ${sink.url}/contacts
    batch:
      size: 1000
      linger: 300ms
      item: '{"email": <%= json(it.customer.email) %>, "name": <%= json(it.customer.profile.name) %>}'
    body: '{"list": <%= json(it.params.list) %>, "size": <%= it.size %>, "contacts": [<%= it.items.join(",") %>]}'
    params: { list: main }
  flaky:
    url: ${sink.url}/down
    batch: { size: 10, linger: 200ms, item: '<%= json(it.customer.id) %>' }
    body: '[<%= it.items.join(",") %>]'
  item-failed:
    url: ${sink.url}/item-failed
    body: '{"customer": <%= json(it.customer.id) %>, "webhook": <%= json(it.event.data.webhook) %>, "reason": <%= json(it.event.data.reason) %>}'
triggers:
  - { kind: event, events: [signup], webhooks: [contacts] }
  - { kind: event, events: [ping], webhooks: [flaky] }
  - { kind: event, events: [webhook.failed], webhooks: [item-failed] }
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

    const settle = (ids: string[]) =>
      eventually(
        async () => {
          const all = await Promise.all(ids.map((id) => app.store.getDelivery(id)));
          return all.every((d) => d && !["pending", "in_flight"].includes(d.status))
            ? all.map((d) => d!)
            : undefined;
        },
        30_000,
        "the batch to settle",
      );

    it("sends 1,000 customers as one request whose body is valid JSON with 1,000 entries", async () => {
      const r = await app.publish(
        Array.from({ length: 1000 }, (_, i) => ({
          type: "signup",
          customer: { id: `c${i}`, email: `c${i}@example.com`, profile: { name: `Name "${i}"` } },
        })),
      );
      const ids = r.events.map((e) => e.deliveries[0]!.id);
      const done = await settle(ids);
      expect(done.every((d) => d.status === "succeeded")).toBe(true);
      const requests = sink.requests.filter((q) => q.url === "/contacts");
      expect(requests).toHaveLength(1);
      const body = JSON.parse(requests[0]!.body);
      expect(body.size).toBe(1000);
      expect(body.list).toBe("main");
      expect(body.contacts).toHaveLength(1000);
      expect(new Set(body.contacts.map((c: { email: string }) => c.email)).size).toBe(1000);
      expect(body.contacts[7]).toEqual({ email: "c7@example.com", name: 'Name "7"' });
      // Every item has its attempt; the body (of a success: its size and hash) is kept once, on the
      // first, and the others point to it.
      const attempts = (await Promise.all(ids.slice(0, 3).map((id) => app.store.listAttempts(id)))).flat();
      const holders = attempts.filter((a) => a.request.batch?.recordedOn === a.deliveryId);
      expect(attempts.filter((a) => a.request.bodyHash !== undefined)).toEqual(holders);
      expect(attempts.every((a) => a.request.body === undefined)).toBe(true);
      for (const a of holders) expect(a.request.bodyBytes).toBe(Buffer.byteLength(requests[0]!.body));
      expect(attempts.every((a) => a.request.batch?.size === 1000 && a.status === 200)).toBe(true);
    });

    it("fails an item whose own template fails alone, and sends the rest", async () => {
      const before = sink.requests.filter((q) => q.url === "/contacts").length;
      const r = await app.publish([
        { type: "signup", customer: { id: "ok1", email: "ok1@example.com", profile: { name: "A" } } },
        { type: "signup", customer: { id: "bad", email: "bad@example.com" } },
        { type: "signup", customer: { id: "ok2", email: "ok2@example.com", profile: { name: "B" } } },
      ]);
      const [ok1, bad, ok2] = await settle(r.events.map((e) => e.deliveries[0]!.id));
      expect(ok1!.status).toBe("succeeded");
      expect(ok2!.status).toBe("succeeded");
      expect(bad!.status).toBe("failed");
      expect(bad!.reason).toStartWith("render: batch.item:");
      const sent = sink.requests.filter((q) => q.url === "/contacts").slice(before);
      expect(sent).toHaveLength(1);
      expect(JSON.parse(sent[0]!.body).contacts.map((c: { email: string }) => c.email)).toEqual([
        "ok1@example.com",
        "ok2@example.com",
      ]);
      // The item that failed alone takes the fail branch alone.
      await eventually(
        () => sink.requests.some((q) => q.url === "/item-failed" && q.body.includes('"bad"')),
        15_000,
        "webhook.failed for the bad item",
      );
      const raised = sink.requests.filter((q) => q.url === "/item-failed").map((q) => JSON.parse(q.body));
      expect(raised.filter((b) => b.webhook === "contacts")).toEqual([
        { customer: "bad", webhook: "contacts", reason: expect.stringMatching(/^render: batch\.item:/) },
      ]);
    });

    it("gives a batch of size 10 eight attempts, with one idempotency key for the batch", async () => {
      const r = await app.publish(
        Array.from({ length: 10 }, (_, i) => ({ type: "ping", customer: { id: `p${i}` } })),
      );
      const done = await settle(r.events.map((e) => e.deliveries[0]!.id));
      expect(
        done.every((d) => d.status === "failed" && d.reason === "gave up after 8 attempts; last: HTTP 500"),
      ).toBe(true);
      const sent = sink.requests.filter((q) => q.url === "/down");
      expect(sent).toHaveLength(8);
      expect(sent.every((q) => JSON.parse(q.body).length === 10)).toBe(true);
      expect(new Set(sent.map((q) => q.headers["idempotency-key"])).size).toBe(1);
      expect(sent[0]!.headers["idempotency-key"]).toStartWith("batch_");
    });
  });
}
