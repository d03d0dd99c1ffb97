import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { SqlDeliveryLog } from "../../../core/store/delivery-log.ts";
import { ObserverDispatch } from "../../../core/store/observers.ts";
import { SqlDeliveryQueue } from "../../../core/store/queue.ts";
import { SqlRunHealth } from "../../../core/store/run-health.ts";
import { type Driver, delivery, migrated, result, storeKinds } from "./fixture.ts";

for (const kind of storeKinds) {
  describe(`the delivery log on its own on ${kind.name}`, () => {
    let db: Driver;
    let log: SqlDeliveryLog;
    let queue: SqlDeliveryQueue;
    beforeAll(async () => {
      db = await migrated(kind);
      log = new SqlDeliveryLog(db);
      queue = new SqlDeliveryQueue(db, new SqlRunHealth(db), new ObserverDispatch());
    });
    afterAll(() => db.dispose());

    it("finds nothing for an id that is not a UUID, rather than failing", async () => {
      expect(await log.getDelivery("not-a-uuid")).toBeUndefined();
      expect(await log.listAttempts("not-a-uuid")).toEqual([]);
      expect(await log.retryDelivery("not-a-uuid", 1)).toBeUndefined();
    });

    it("lists a webhook's deliveries newest first, a page at a time", async () => {
      const ds = [1, 2, 3].map((n) => delivery({ webhook: "paged", eventId: `e${n}` }));
      for (const d of ds) await queue.enqueue([d]);
      const page = await log.listDeliveries({ webhook: "paged", limit: 2 });
      expect(page.map((d) => d.eventId)).toEqual(["e3", "e2"]);
      const next = await log.listDeliveries({ webhook: "paged", before: page[1]!.id });
      expect(next.map((d) => d.eventId)).toEqual(["e1"]);
      expect(next[0]).toMatchObject({
        status: "pending",
        attempts: 0,
        maxAttempts: 3,
        context: ds[0]!.context,
      });
      expect(await log.listDeliveries({ webhook: "paged", status: "failed" })).toEqual([]);
    });

    it("shows a delivery's attempts, and retries a failed one as a run of its own", async () => {
      const d = delivery({ webhook: "retry", runId: "r-old" });
      await queue.enqueue([d]);
      const [claimed] = await queue.claimBatch("w1", "retry", 1, 30_000);
      await queue.complete([result(claimed!, { status: "failed", reason: "400" }, 400)]);
      expect(await log.listAttempts(d.id)).toEqual([
        expect.objectContaining({ deliveryId: d.id, number: 1, status: 400, outcome: "failed" }),
      ]);
      expect((await log.getDelivery(d.id))!.status).toBe("failed");
      const retried = await log.retryDelivery(d.id, 2);
      expect(retried).toMatchObject({ id: d.id, status: "pending", maxAttempts: 3 });
      expect(retried!.runId).toStartWith("retry_");
      expect(await log.retryDelivery(d.id, 2)).toBeUndefined();
    });
  });
}
