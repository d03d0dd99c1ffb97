import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

// An ordering key is rendered from customer data (an id, an email): whatever it renders to, the
// delivery is written and its stream kept in order — a key Postgres could not index or store must
// not turn the publish (or the inbound callback that caused it) into a 500.
for (const kind of storeKinds) {
  describe(`ordering keys rendered from customer data on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<typeof kind.open>>;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink();
      app = await testApp(
        `
engine: { pollInterval: 20ms, concurrency: 4, allowNetworks: ["127.0.0.1/32"] }
webhooks:
  sync:
    url: ${sink.url}/sync
    orderingKey: "<%= it.customer.id %>"
    body: '{"n": <%= it.event.data.n %>}'
triggers: [{ kind: event, events: [change], webhooks: [sync] }]
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

    // Random hex does not compress: 10,000 characters are past what a btree index row can hold.
    const longKey = (prefix = "") => {
      const bytes = crypto.getRandomValues(new Uint8Array(5_000));
      return prefix + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    };

    it("writes and sends, in order, the deliveries of a key 10,000 characters long", async () => {
      const id = longKey();
      const before = sink.requests.length;
      for (let n = 0; n < 5; n++) await app.publish({ type: "change", customer: { id }, data: { n } });
      await eventually(() => sink.requests.length >= before + 5, 20_000, "five delivered");
      const sent = sink.requests.slice(before).map((r) => JSON.parse(r.body).n);
      expect(sent).toEqual([0, 1, 2, 3, 4]);
    });

    it("keeps one stream per key: two long keys that share a prefix are two streams", async () => {
      const shared = longKey();
      const [a, b] = [`${shared}a`, `${shared}b`];
      await app.publish({ type: "change", customer: { id: a }, data: { n: 1 } });
      await app.publish({ type: "change", customer: { id: b }, data: { n: 2 } });
      const keys = await driver.query<{ ordering_key: string }>(
        "SELECT DISTINCT ordering_key FROM hookline_deliveries WHERE ordering_key LIKE 'sha256:%'",
      );
      // The first test's key, then these two: each long key is its own stream.
      expect(new Set(keys.map((k) => k.ordering_key)).size).toBe(3);
    });
  });
}
