import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { inbound } from "../../../../plugins/inbound/index.ts";
import { schedule } from "../../../../plugins/schedule/index.ts";
import { eventually, testApp } from "../../../support/app.ts";
import { storeKinds } from "../../../support/db.ts";
import { type Sink, startSink } from "../../../support/http-sink.ts";
import { writeProfiles } from "../../../support/segments.ts";

for (const kind of storeKinds) {
  describe(`a schedule trigger naming a segment on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<typeof kind.open>>;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;
    let t = Date.parse("2026-03-02T08:59:50Z");

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink();
      app = await testApp(
        `engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
segments:
  gold: { filter: { property: tier, equals: gold } }
webhooks:
  offer: { url: "${sink.url}/offer", body: '{"id": <%= json(it.customer.id) %>, "send": <%= json(it.event.data.send) %>}' }
triggers:
  - { kind: schedule, name: morning, cron: "0 9 * * *", segment: gold, webhooks: [offer] }
`,
        driver,
        { plugins: [inbound(), schedule({ now: () => t, checkEvery: 20 })] },
      );
      await writeProfiles(
        driver,
        Array.from({ length: 500 }, (_, i) => ({
          id: `c${i}`,
          properties: { tier: i % 5 === 0 ? "gold" : "silver" },
        })),
      );
      await app.start();
    });
    afterAll(async () => {
      await app.stop(500);
      await sink.close();
      await driver.dispose();
    });

    it("each tick sends to the segment's members, the tick's run being the send's", async () => {
      t = Date.parse("2026-03-02T09:00:00Z");
      const runId = "schedule.morning.2026-03-02T09:00:00.000Z";
      const run = await eventually(
        async () => {
          const r = await app.store.getRun(runId);
          return r?.state === "finished" && r.counts.succeeded === 100 ? r : undefined;
        },
        60_000,
        "the tick's send to finish",
      );
      expect(run).toMatchObject({ kind: "segment", counts: { total: 100, succeeded: 100 } });
      const bodies = sink.requests.map((q) => JSON.parse(q.body) as { id: string; send: string });
      expect(bodies.map((b) => b.id).sort()).toEqual(
        Array.from({ length: 100 }, (_, i) => `c${i * 5}`).sort(),
      );
      expect(new Set(bodies.map((b) => b.send))).toEqual(new Set([runId]));
    });
  });
}
