import { afterAll, beforeAll, beforeEach, describe, expect, it } from "bun:test";
import type { ClaimedDelivery, DeliveryNext } from "../../../core/contracts/delivery.ts";
import { countDeliveries, SqlDeliveryLog } from "../../../core/store/delivery-log.ts";
import { readOutcomes } from "../../../core/store/gauges.ts";
import { ObserverDispatch } from "../../../core/store/observers.ts";
import { SqlDeliveryQueue } from "../../../core/store/queue.ts";
import { SqlRunHealth } from "../../../core/store/run-health.ts";
import { SqlRunLog } from "../../../core/store/runs.ts";
import { clearDeliveries, type Driver, delivery, migrated, result, storeKinds } from "../store/fixture.ts";

// What the console's Deliveries and Overview pages read from the store: the list's customer and
// time filters, the bulk retry's count and customer filter, and outcomes counted exactly by window.
for (const kind of storeKinds) {
  describe(`the console's deliveries and outcomes, in the store on ${kind.name}`, () => {
    let db: Driver;
    let queue: SqlDeliveryQueue;
    let log: SqlDeliveryLog;
    let runs: SqlRunLog;
    beforeAll(async () => {
      db = await migrated(kind);
      const health = new SqlRunHealth(db);
      queue = new SqlDeliveryQueue(db, health, new ObserverDispatch());
      log = new SqlDeliveryLog(db);
      runs = new SqlRunLog(db, health);
    });
    afterAll(() => db.dispose());
    beforeEach(async () => {
      await clearDeliveries(db);
      await db.query("DELETE FROM hookline_run_tallies");
      await db.query("DELETE FROM hookline_outcome_minutes");
    });

    async function drain(next: (c: ClaimedDelivery) => DeliveryNext) {
      for (;;) {
        const claimed = await queue.claim("w", 500, 30_000);
        if (claimed.length === 0) return;
        await queue.complete(claimed.map((c) => result(c, next(c))));
      }
    }
    /** Moves deliveries' creation back in time (the list's time filters read `created_at`). */
    const createdAgo = (ids: string[], hours: number) =>
      db.query(
        `UPDATE hookline_deliveries SET created_at = now() - $2 * interval '1 hour'
          WHERE id IN (SELECT value::uuid FROM jsonb_array_elements_text($1::text::jsonb))`,
        [JSON.stringify(ids), hours],
      );

    it("lists a customer's deliveries, and those created in a time range, newest first, a page at a time", async () => {
      const old = Array.from({ length: 3 }, (_, i) => delivery({ customerId: "c-old", eventId: `old${i}` }));
      const recent = Array.from({ length: 3 }, (_, i) =>
        delivery({ customerId: `c-${i}`, eventId: `new${i}` }),
      );
      await queue.enqueue(old);
      await queue.enqueue(recent);
      await createdAgo(
        old.map((d) => d.id),
        30,
      );
      expect((await log.listDeliveries({ customer: "c-old" })).map((d) => d.eventId)).toEqual([
        "old2",
        "old1",
        "old0",
      ]);
      expect((await log.listDeliveries({ customer: "c-1" })).map((d) => d.eventId)).toEqual(["new1"]);
      expect(await log.listDeliveries({ customer: "nobody" })).toEqual([]);

      const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
      const dayAgo = new Date(Date.now() - 86_400_000).toISOString();
      const lastHour = await log.listDeliveries({ since: hourAgo, limit: 2 });
      expect(lastHour.map((d) => d.eventId)).toEqual(["new2", "new1"]);
      const next = await log.listDeliveries({ since: hourAgo, before: lastHour[1]!.id });
      expect(next.map((d) => d.eventId)).toEqual(["new0"]);
      expect((await log.listDeliveries({ until: dayAgo })).map((d) => d.eventId)).toEqual([
        "old2",
        "old1",
        "old0",
      ]);
      expect(await log.listDeliveries({ customer: "c-old", since: dayAgo })).toEqual([]);
    });

    it("keeps and finds a customer whose id is longer than an index row may be, apart from one sharing its start", async () => {
      const long = "x".repeat(10_000);
      await queue.enqueue([
        delivery({ customerId: `${long}-a`, eventId: "long-a" }),
        delivery({ customerId: `${long}-b`, eventId: "long-b" }),
      ]);
      expect((await log.listDeliveries({ customer: `${long}-b` })).map((d) => d.eventId)).toEqual(["long-b"]);
      expect(await log.listDeliveries({ customer: long })).toEqual([]);
    });

    it("counts what a filter selects, up to a cap, and a bulk retry of a customer's failures moves only those", async () => {
      await queue.enqueue(
        Array.from({ length: 6 }, (_, i) => delivery({ customerId: i < 4 ? "c-fail" : "c-other" })),
      );
      await drain(() => ({ status: "failed", reason: "HTTP 422" }));
      expect(await countDeliveries(db, { status: "failed", customer: "c-fail" }, 100)).toBe(4);
      expect(await countDeliveries(db, { status: "failed" }, 5)).toBe(5);
      expect(await countDeliveries(db, { status: "succeeded" }, 100)).toBe(0);

      const retry = await runs.startRetry({ statuses: ["failed"], customer: "c-fail" });
      await runs.runJobs("owner", 5_000);
      const moved = await log.listDeliveries({ run: retry.id });
      expect(moved.length).toBe(4);
      expect(moved.every((d) => d.customerId === "c-fail" && d.status === "pending")).toBe(true);
      expect((await log.listDeliveries({ customer: "c-other", status: "failed" })).length).toBe(2);
    });

    it("counts outcomes of the last hour and the last day exactly, before and after the tallies are merged", async () => {
      await queue.enqueue(Array.from({ length: 1_500 }, () => delivery()));
      let i = 0;
      await drain(() => (i++ % 3 === 0 ? { status: "failed", reason: "HTTP 500" } : { status: "succeeded" }));
      const fresh = await readOutcomes(db);
      expect(fresh.hour).toEqual({ succeeded: 1_000, failed: 500, halted: 0, aborted: 0, skipped: 0 });
      expect(fresh.day).toEqual(fresh.hour);

      // Two hours on, merged: no longer in the last hour, still in the last day.
      await db.query("UPDATE hookline_run_tallies SET at = at - interval '2 hours'");
      expect(await runs.compactTallies(100_000)).toBeGreaterThan(0);
      expect(
        (
          await db.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM hookline_run_tallies WHERE NOT merged",
          )
        )[0]!.n,
      ).toBe(0);
      // More outcomes now, not merged yet: both windows see them.
      await queue.enqueue(Array.from({ length: 7 }, () => delivery()));
      await drain(() => ({ status: "halted", reason: "HTTP 400" }));
      const later = await readOutcomes(db);
      expect(later.hour).toEqual({ succeeded: 0, failed: 0, halted: 7, aborted: 0, skipped: 0 });
      expect(later.day).toEqual({ succeeded: 1_000, failed: 500, halted: 7, aborted: 0, skipped: 0 });

      // Past a day: out of both windows.
      await db.query("UPDATE hookline_outcome_minutes SET minute = minute - interval '1 day'");
      expect((await readOutcomes(db)).day).toEqual({
        succeeded: 0,
        failed: 0,
        halted: 7,
        aborted: 0,
        skipped: 0,
      });
    });
  });
}
