import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import {
  activityCallbacks,
  enqueueActivities,
  sweepDelivered,
} from "../../../plugins/activity-callbacks/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

const DAY = 86_400_000;
const activity = (n: number) => ({
  contactId: 1000 + n,
  activityStatus: "DELIVERED",
  messageInstanceId: 5000 + n,
  activityDateTime: "2024-03-01T12:00:00",
});

for (const kind of storeKinds) {
  describe(`activity callbacks retention on ${kind.name}`, () => {
    let driver: Driver;
    let sink: Sink;

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink((r) => ({ status: r.method === "POST" && r.url === "/hooks/down" ? 503 : 200 }));
    });
    afterAll(async () => {
      await sink.close();
      await driver.dispose();
    });

    const count = async (sql: string) =>
      Number((await driver.query<{ n: unknown }>(`SELECT count(*) AS n FROM ${sql}`))[0]!.n);

    it("deletes delivered batches older than the retention with their activities and attempts; newer and undelivered ones stay", async () => {
      const yaml = `
engine: { allowNetworks: ["127.0.0.1/32"] }
subscribers:
  up: { url: "${sink.url}/hooks/up", batchSize: 2 }
  down: { url: "${sink.url}/hooks/down", batchSize: 2, retry: { base: 1h } }
`;
      const app = await testApp(yaml, driver, { plugins: [activityCallbacks({ pollInterval: 20 })] });
      await app.start({ workers: false });
      await enqueueActivities(
        app,
        Array.from({ length: 6 }, (_, n) => activity(n)),
      );
      await eventually(
        async () => (await count("hookline_callback_batches WHERE status = 'delivered'")) === 3,
        10_000,
        "three batches delivered to `up`",
      );
      // `down` refused its head batch: it waits an hour with two more activities queued behind it.
      await eventually(
        async () =>
          (await count(
            "hookline_callback_attempts a JOIN hookline_callback_batches b ON b.id = a.batch_id WHERE b.subscriber = 'down'",
          )) === 1,
        10_000,
        "down's refused attempt",
      );
      await app.stop(1_000);
      const batches = await driver.query<{ id: string }>(
        "SELECT id::text AS id FROM hookline_callback_batches WHERE subscriber = 'up' ORDER BY seq",
      );
      const [old1, old2, fresh] = batches.map((b) => b.id);
      await driver.query(
        `UPDATE hookline_callback_batches SET delivered_at = now() - interval '8 days', created_at = now() - interval '8 days'
          WHERE id::text IN ($1, $2)`,
        [old1, old2],
      );
      // Age alone deletes nothing that was not delivered.
      await driver.query(
        "UPDATE hookline_callback_batches SET created_at = now() - interval '30 days' WHERE subscriber = 'down'",
      );
      await driver.query("UPDATE hookline_callback_queue SET queued_at = now() - interval '30 days'");

      // A chunk of one row: the sweep goes on statement after statement until none is left.
      expect(await sweepDelivered(driver, 7 * DAY, 1)).toEqual({ batches: 2, activities: 4 });
      const left = await driver.query<{ id: string; status: string; subscriber: string }>(
        "SELECT id::text AS id, status, subscriber FROM hookline_callback_batches ORDER BY seq",
      );
      expect(left.map((b) => [b.subscriber, b.status])).toEqual([
        ["down", "pending"],
        ["up", "delivered"],
      ]);
      expect(left.find((b) => b.subscriber === "up")!.id).toBe(fresh!);
      expect(await count(`hookline_callback_queue WHERE batch_id::text IN ('${old1}', '${old2}')`)).toBe(0);
      expect(await count(`hookline_callback_attempts WHERE batch_id::text IN ('${old1}', '${old2}')`)).toBe(
        0,
      );
      expect(await count(`hookline_callback_queue WHERE batch_id::text = '${fresh}'`)).toBe(2);
      // `down`: its pending batch (2) and the activities queued behind it (4), untouched.
      expect(await count("hookline_callback_queue WHERE subscriber = 'down'")).toBe(6);
      expect(await count("hookline_callback_queue WHERE subscriber = 'down' AND batch_id IS NULL")).toBe(4);

      // The sender's service sweeps at start with the plugin's retention.
      await driver.query(
        "UPDATE hookline_callback_batches SET delivered_at = now() - interval '2 days' WHERE status = 'delivered'",
      );
      const sweeping = await testApp(yaml, driver, {
        plugins: [activityCallbacks({ pollInterval: 60_000, retention: DAY })],
      });
      try {
        await sweeping.start({ workers: false });
        await eventually(
          async () => (await count("hookline_callback_batches WHERE status = 'delivered'")) === 0,
          10_000,
          "the sweep at start",
        );
        expect(await count("hookline_callback_queue WHERE subscriber = 'up'")).toBe(0);
        expect(await count("hookline_callback_queue WHERE subscriber = 'down'")).toBe(6);
      } finally {
        await sweeping.stop(1_000);
      }
    });
  });
}
