import { afterAll, describe, expect, it } from "bun:test";
import { SqlMigrator } from "../../../core/store/migrator.ts";
import { activityCallbacks } from "../../../plugins/activity-callbacks/index.ts";
import { callbackMigrations } from "../../../plugins/activity-callbacks/migrations.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { startSink } from "../../support/http-sink.ts";

const activity = (n: number) => ({
  contactId: 1000 + n,
  activityStatus: "DELIVERED",
  messageInstanceId: 5000 + n,
  activityDateTime: "2024-03-01T12:00:00",
});

for (const kind of storeKinds) {
  describe(`activity callbacks' migration 3 on ${kind.name}`, () => {
    const cleanup: Array<() => Promise<void>> = [];
    afterAll(async () => {
      for (const c of cleanup.reverse()) await c();
    });

    it("moves activities still queued in the old queue into deliveries of the subscriber's webhook, in order, and sends them", async () => {
      const db = await kind.open();
      const sink = await startSink(() => ({ status: 200 }));
      cleanup.push(async () => {
        await sink.close();
        await db.dispose();
      });
      // The store as the old sender left it: one batch delivered, one pending (retrying), two unbatched.
      const before = { ...callbackMigrations, migrations: callbackMigrations.migrations.slice(0, 2) };
      await new SqlMigrator(db, [before]).migrate();
      await db.query(
        `INSERT INTO hookline_subscribers (name, url, batch_size, timeout_ms, retry_base_ms, retry_cap_ms, source)
         VALUES ('acme', '${sink.url}/hooks/acme', 10, 5000, 50, 1000, 'config')`,
      );
      const ids = ["11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"];
      await db.query(
        `INSERT INTO hookline_callback_batches (id, subscriber, size, status, attempts, delivered_at)
         VALUES ($1, 'acme', 2, 'delivered', 1, now()), ($2, 'acme', 2, 'pending', 3, NULL)`,
        ids,
      );
      for (let n = 0; n < 6; n++)
        await db.query(
          "INSERT INTO hookline_callback_queue (subscriber, dedupe_key, activity, batch_id) VALUES ('acme', $1, $2::text::jsonb, $3::uuid)",
          [`key-${n}`, JSON.stringify(activity(n)), n < 2 ? ids[0] : n < 4 ? ids[1] : null],
        );

      await new SqlMigrator(db, [callbackMigrations]).migrate();
      const moved = await db.query<{ data: string; ordering_key: string; status: string }>(
        `SELECT (c.context->'event'->'data')::text AS data, s.ordering_key, s.status
           FROM hookline_deliveries c JOIN hookline_delivery_state s ON s.id = c.id
          WHERE c.webhook = 'subscriber.acme' ORDER BY c.seq`,
      );
      // The delivered batch's activities are history: not sent again. The rest, in queue order.
      expect(moved.map((m) => JSON.parse(m.data).contactId)).toEqual([1002, 1003, 1004, 1005]);
      expect(moved.every((m) => m.ordering_key === "acme")).toBe(true);
      // One stream: its first is the head, the rest wait behind it.
      expect(moved.map((m) => m.status)).toEqual(["pending", "waiting", "waiting", "waiting"]);
      const [old] = await db.query<{ n: unknown }>(
        "SELECT count(*) AS n FROM information_schema.tables WHERE table_name LIKE 'hookline_callback_%'",
      );
      expect(Number(old!.n)).toBe(0);

      const app = await testApp(
        `
engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
subscribers:
  acme: { url: "${sink.url}/hooks/acme", batchSize: 10, retry: { base: 50ms, cap: 1s } }
`,
        db,
        { plugins: [activityCallbacks({ pollInterval: 20 })] },
      );
      cleanup.push(() => app.stop(1_000));
      await app.start();
      const posted = await eventually(
        () => sink.requests.find((r) => r.method === "POST"),
        10_000,
        "the moved activities",
      );
      expect(JSON.parse(posted.body)).toEqual([2, 3, 4, 5].map(activity));
    });
  });
}
