import { afterAll, beforeAll, beforeEach, describe, expect, it } from "bun:test";
import type { ClaimedDelivery } from "../../../core/contracts/delivery.ts";
import type { SqlDriver } from "../../../core/contracts/sql.ts";
import { ObserverDispatch } from "../../../core/store/observers.ts";
import { SqlPolicyStore } from "../../../core/store/policies.ts";
import { SqlDeliveryQueue } from "../../../core/store/queue.ts";
import { SqlRunHealth } from "../../../core/store/run-health.ts";
import { SqlRunLog } from "../../../core/store/runs.ts";
import { clearDeliveries, type Driver, delivery, migrated, result, storeKinds } from "./fixture.ts";

const queueOver = (db: SqlDriver) => new SqlDeliveryQueue(db, new SqlRunHealth(db), new ObserverDispatch());

/** Makes deliveries due `seconds` ago (a claim takes the earliest due first within each class). */
const dueAgo = (db: SqlDriver, ids: string[], seconds: number) =>
  db.query(
    "UPDATE hookline_delivery_state SET next_at = now() - $2 * interval '1 second' WHERE id = ANY($1::uuid[])",
    [ids, seconds],
  );

for (const kind of storeKinds) {
  describe(`priority: events' deliveries before bulk runs' on ${kind.name}`, () => {
    let db: Driver;
    let queue: SqlDeliveryQueue;
    beforeAll(async () => {
      db = await migrated(kind);
      queue = queueOver(db);
    });
    afterAll(() => db.dispose());
    beforeEach(async () => {
      await clearDeliveries(db);
      await db.query("DELETE FROM hookline_policy_slots");
    });

    it("claims an event's deliveries before a bulk run queued in front of them, and the bulk ones after", async () => {
      const bulk = Array.from({ length: 300 }, (_, i) =>
        delivery({ webhook: "newsletter", eventId: `b${i}`, bulk: true }),
      );
      await queue.enqueue(bulk);
      await dueAgo(
        db,
        bulk.map((d) => d.id),
        10,
      );
      const events = Array.from({ length: 5 }, (_, i) => delivery({ webhook: "welcome", eventId: `e${i}` }));
      await queue.enqueue(events);
      const first = await queue.claim("w", 5, 30_000);
      expect(first.map((c) => c.eventId).sort()).toEqual(["e0", "e1", "e2", "e3", "e4"]);
      // With the events gone, the bulk run goes on in due order.
      const next = await queue.claim("w", 3, 30_000);
      expect(next.map((c) => c.eventId)).toEqual(["b0", "b1", "b2"]);
    });

    it("fills a claim with bulk deliveries when fewer events are due", async () => {
      const bulk = Array.from({ length: 20 }, (_, i) => delivery({ eventId: `b${i}`, bulk: true }));
      await queue.enqueue(bulk);
      await queue.enqueue([delivery({ eventId: "e0" })]);
      const claimed = await queue.claim("w", 10, 30_000);
      expect(claimed).toHaveLength(10);
      expect(claimed.map((c) => c.eventId)).toContain("e0");
    });

    it("does not starve a bulk run: a bulk delivery due longer than bulkMaxWait goes before later events", async () => {
      const old = delivery({ eventId: "b-old", bulk: true });
      const recent = delivery({ eventId: "b-recent", bulk: true });
      await queue.enqueue([old, recent]);
      await dueAgo(db, [old.id], 45);
      await dueAgo(db, [recent.id], 5);
      const events = Array.from({ length: 3 }, (_, i) => delivery({ eventId: `e${i}` }));
      await queue.enqueue(events);
      await dueAgo(
        db,
        events.map((d) => d.id),
        1,
      );
      const claimed = await queue.claim("w", 2, 30_000, 30_000);
      expect(claimed.map((c) => c.eventId)).toEqual(["b-old", "e0"]);
      // A shorter bulkMaxWait ages the other one too.
      const rest = await queue.claim("w", 2, 30_000, 2_000);
      expect(rest.map((c) => c.eventId)).toEqual(["b-recent", "e1"]);
    });

    it("keeps the rule inside a throughput policy shared by both: its free slots go to events first", async () => {
      await new SqlPolicyStore(db).setPolicy({ name: "crm-api", concurrency: 2 });
      const bulk = Array.from({ length: 10 }, (_, i) =>
        delivery({ webhook: "crm-sync", policy: "crm-api", eventId: `b${i}`, bulk: true }),
      );
      await queue.enqueue(bulk);
      await dueAgo(
        db,
        bulk.map((d) => d.id),
        10,
      );
      const events = [0, 1].map((i) =>
        delivery({ webhook: "crm-event", policy: "crm-api", eventId: `e${i}` }),
      );
      await queue.enqueue(events);
      const claimed = await queue.claim("w", 10, 30_000);
      expect(claimed.map((c) => c.eventId).sort()).toEqual(["e0", "e1"]);
      await queue.complete(claimed.map((c) => result(c, { status: "succeeded" })));
      const after = await queue.claim("w", 10, 30_000);
      expect(after.map((c) => c.eventId)).toEqual(["b0", "b1"]);
    });

    it("marks what a bulk retry moves as bulk: an event published later still goes first", async () => {
      const failed = Array.from({ length: 4 }, (_, i) => delivery({ eventId: `f${i}`, maxAttempts: 1 }));
      await queue.enqueue(failed);
      const claimed: ClaimedDelivery[] = await queue.claim("w", 10, 30_000);
      await queue.complete(claimed.map((c) => result(c, { status: "failed", reason: "HTTP 500" }, 500)));
      const runs = new SqlRunLog(db, new SqlRunHealth(db));
      const retry = await runs.startRetry({ statuses: ["failed"] });
      while ((await runs.runJobs("jobs", 1_000)) > 0);
      const [moved] = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM hookline_delivery_state WHERE run_id = $1 AND bulk AND status = 'pending'",
        [retry.id],
      );
      expect(moved!.n).toBe(4);
      await queue.enqueue([delivery({ eventId: "e-new" })]);
      const next = await queue.claim("w", 1, 30_000);
      expect(next.map((c) => c.eventId)).toEqual(["e-new"]);
    });
  });
}
