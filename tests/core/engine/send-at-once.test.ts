import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { ClaimedDelivery } from "../../../core/contracts/delivery.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

// Sending at once: what a process publishes goes to its own worker's free slots written already
// leased to it, so no claim ever returns it; ordered streams and throughput policies go through claims
// (their heads and slots are settled there), and `sendAtOnce: false` sends everything through claims.
const yaml = (sink: string, sendAtOnce: boolean) => `
engine:
  pollInterval: 20ms
  sendAtOnce: ${sendAtOnce}
  allowNetworks: ["127.0.0.1/32"]
policies:
  narrow: { concurrency: 2 }
webhooks:
  plain:
    url: ${sink}/plain
    body: '{"id": <%= json(it.customer.id) %>}'
  ordered:
    url: ${sink}/ordered
    orderingKey: '<%= it.customer.id %>'
    body: '{"id": <%= json(it.customer.id) %>}'
  limited:
    url: ${sink}/limited
    policy: narrow
    body: '{"id": <%= json(it.customer.id) %>}'
triggers:
  - { kind: event, events: [plain], webhooks: [plain] }
  - { kind: event, events: [ordered], webhooks: [ordered] }
  - { kind: event, events: [limited], webhooks: [limited] }
`;

for (const kind of storeKinds) {
  describe(`send at once on ${kind.name}`, () => {
    let sink: Sink;
    const drivers: Array<Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>> = [];
    beforeAll(async () => {
      sink = await startSink();
    });
    afterAll(async () => {
      await sink.close();
      for (const d of drivers) await d.dispose();
    });

    /** An app whose claims are watched: the ids every claim returned. */
    async function watched(sendAtOnce: boolean) {
      const driver = await kind.open();
      drivers.push(driver);
      const app = await testApp(yaml(sink.url, sendAtOnce), driver);
      const claimedIds = new Set<string>();
      const claim = app.store.claim.bind(app.store);
      app.store.claim = async (owner: string, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> => {
        const got = await claim(owner, limit, leaseMs);
        for (const d of got) claimedIds.add(d.id);
        return got;
      };
      await app.start();
      return { app, claimedIds };
    }

    const publishAndSettle = async (
      app: Awaited<ReturnType<typeof watched>>["app"],
      type: string,
      n: number,
    ) => {
      const r = await app.publish(
        Array.from({ length: n }, (_, i) => ({
          type,
          customer: { id: `${type}-${i}-${crypto.randomUUID()}` },
        })),
      );
      const ids = r.events.flatMap((e) => e.deliveries.map((d) => d.id));
      await eventually(
        async () =>
          (await Promise.all(ids.map((id) => app.store.getDelivery(id)))).every(
            (d) => d?.status === "succeeded",
          ),
        15_000,
        `${n} ${type} deliveries sent`,
      );
      return ids;
    };

    it("sends what it publishes without a claim, one attempt each, recorded like any other", async () => {
      const { app, claimedIds } = await watched(true);
      try {
        const before = sink.requests.filter((q) => q.url === "/plain").length;
        const ids = await publishAndSettle(app, "plain", 5);
        expect(ids.filter((id) => claimedIds.has(id))).toEqual([]);
        expect(sink.requests.filter((q) => q.url === "/plain").length).toBe(before + 5);
        for (const id of ids) expect((await app.store.listAttempts(id)).map((a) => a.status)).toEqual([200]);
      } finally {
        await app.stop();
      }
    });

    it("leaves ordered streams and throughput policies to claims", async () => {
      const { app, claimedIds } = await watched(true);
      try {
        const ordered = await publishAndSettle(app, "ordered", 3);
        const limited = await publishAndSettle(app, "limited", 3);
        expect([...ordered, ...limited].every((id) => claimedIds.has(id))).toBe(true);
      } finally {
        await app.stop();
      }
    });

    it("with sendAtOnce: false, sends everything through claims", async () => {
      const { app, claimedIds } = await watched(false);
      try {
        const ids = await publishAndSettle(app, "plain", 5);
        expect(ids.every((id) => claimedIds.has(id))).toBe(true);
      } finally {
        await app.stop();
      }
    });
  });
}
