import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { StoreUnavailableError } from "../../../core/errors.ts";
import { SqlDeliveryLog } from "../../../core/store/delivery-log.ts";
import { ObserverDispatch } from "../../../core/store/observers.ts";
import { SqlDeliveryQueue } from "../../../core/store/queue.ts";
import { SqlRunHealth } from "../../../core/store/run-health.ts";
import {
  clearDeliveries,
  type Driver,
  delivery,
  downDriver,
  migrated,
  result,
  statusOf,
  storeKinds,
} from "./fixture.ts";

const queueOver = (db: Driver | typeof downDriver) =>
  new SqlDeliveryQueue(db, new SqlRunHealth(db), new ObserverDispatch());

for (const kind of storeKinds) {
  describe(`the delivery queue on its own on ${kind.name}`, () => {
    let db: Driver;
    let queue: SqlDeliveryQueue;
    beforeAll(async () => {
      db = await migrated(kind);
      queue = queueOver(db);
    });
    afterAll(() => db.dispose());

    it("skips a delivery whose idempotency key is known, returning only the ids inserted", async () => {
      const first = delivery({ webhook: "dup" });
      expect(await queue.enqueue([first])).toEqual([first.id]);
      expect(
        await queue.enqueue([delivery({ webhook: "dup", idempotencyKey: first.idempotencyKey })]),
      ).toEqual([]);
      expect(await queue.enqueue([])).toEqual([]);
    });

    it("leases a due delivery once: a second claim gets nothing while the lease holds", async () => {
      await clearDeliveries(db);
      const d = delivery();
      await queue.enqueue([d]);
      const [claimed] = await queue.claim("w1", 10, 30_000);
      expect(claimed).toMatchObject({ id: d.id, attempts: 1, leaseOwner: "w1", context: d.context });
      expect(await queue.claim("w2", 10, 30_000)).toEqual([]);
      expect(await queue.claim("w2", 0, 30_000)).toEqual([]);
    });

    it("keeps the traceparent a delivery was published with, for its claims and its log", async () => {
      await clearDeliveries(db);
      const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
      const [traced, plain] = [delivery({ traceparent }), delivery()];
      await queue.enqueue([traced, plain]);
      const claimed = await queue.claim("w1", 10, 30_000);
      expect(claimed.find((c) => c.id === traced.id)?.traceparent).toBe(traceparent);
      expect(claimed.find((c) => c.id === plain.id)).not.toHaveProperty("traceparent");
      expect((await new SqlDeliveryLog(db).getDelivery(traced.id))?.traceparent).toBe(traceparent);
    });

    it("records a success with its attempt, and a retry back in the queue with its delay", async () => {
      await clearDeliveries(db);
      const ok = delivery({ runId: "r-ok" });
      const again = delivery({ runId: "r-again" });
      await queue.enqueue([ok, again]);
      const claimed = await queue.claim("w1", 10, 30_000);
      const byId = new Map(claimed.map((c) => [c.id, c]));
      expect(
        await queue.complete([
          result(byId.get(ok.id)!, { status: "succeeded" }),
          result(byId.get(again.id)!, { status: "pending", delayMs: 60_000, reason: "503" }, 503),
        ]),
      ).toEqual([]);
      expect(await statusOf(db, ok.id)).toEqual({ status: "succeeded", reason: null });
      expect(await statusOf(db, again.id)).toEqual({ status: "pending", reason: "503" });
      const [attempt] = await db.query<{ number: number; status: number }>(
        "SELECT number, status FROM hookline_attempts WHERE delivery_id = $1",
        [ok.id],
      );
      expect(attempt).toEqual({ number: 1, status: 200 });
      // The retry waits its minute: nothing is due now, and the next wake-up is about a minute away.
      expect(await queue.claim("w1", 10, 30_000)).toEqual([]);
      const due = Date.parse((await queue.nextDueAt())!) - Date.now();
      expect(due).toBeGreaterThan(50_000);
      expect(due).toBeLessThan(70_000);
    });

    it("applies no result from a lease it does not hold", async () => {
      await clearDeliveries(db);
      const d = delivery();
      await queue.enqueue([d]);
      const [claimed] = await queue.claim("w1", 1, 30_000);
      await queue.complete([{ ...result(claimed!, { status: "succeeded" }), leaseOwner: "someone-else" }]);
      expect((await statusOf(db, d.id)).status).toBe("in_flight");
    });

    it("gives a lease back without counting the attempt", async () => {
      await clearDeliveries(db);
      const d = delivery();
      await queue.enqueue([d]);
      await queue.claim("w1", 1, 30_000);
      await queue.release("w2", [d.id]);
      expect((await statusOf(db, d.id)).status).toBe("in_flight");
      await queue.release("w1", [d.id]);
      const [again] = await queue.claim("w1", 1, 30_000);
      expect(again).toMatchObject({ id: d.id, attempts: 1 });
    });

    it("tops up a batch with one webhook's deliveries, fresh ones still lingering included", async () => {
      await clearDeliveries(db);
      const lingering = delivery({ webhook: "batch", delayMs: 60_000 });
      await queue.enqueue([lingering, delivery({ webhook: "other" })]);
      const batch = await queue.claimBatch("w1", "batch", 10, 30_000);
      expect(batch.map((b) => b.id)).toEqual([lingering.id]);
    });
  });
}

describe("the delivery queue when the store is down", () => {
  it("fails with StoreUnavailableError naming the driver and what it was doing", async () => {
    const queue = queueOver(downDriver);
    const err = await queue.claim("w1", 1, 1_000).catch((e) => e);
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(err.message).toBe("store (down) failed to claim deliveries: connection refused");
    expect(err.cause).toBeInstanceOf(Error);
  });
});
