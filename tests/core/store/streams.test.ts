import { afterAll, beforeAll, beforeEach, describe, expect, it } from "bun:test";
import { SqlStore } from "../../../core/store/sql-store.ts";
import { clearDeliveries, type Driver, delivery, migrated, result, statusOf, storeKinds } from "./fixture.ts";

const statuses = async (db: Driver, ids: string[]) =>
  Promise.all(ids.map(async (id) => (await statusOf(db, id)).status));

for (const kind of storeKinds) {
  describe(`ordered streams and paused webhooks in the queue on ${kind.name}`, () => {
    let db: Driver;
    let store: SqlStore;
    beforeAll(async () => {
      db = await migrated(kind);
      store = new SqlStore(db);
    });
    afterAll(() => db.dispose());
    beforeEach(async () => {
      await clearDeliveries(db);
      await db.query("DELETE FROM hookline_webhook_health");
      await db.query("DELETE FROM hookline_halted_runs");
    });

    const keyed = (key: string, over = {}) => delivery({ webhook: "sub", orderingKey: key, ...over });

    it("keeps one head per stream: the rest wait, and the next goes when the head succeeds", async () => {
      const [a1, a2, a3] = [keyed("a"), keyed("a"), keyed("a")];
      const b1 = keyed("b");
      await store.enqueue([a1!, a2!, b1]);
      await store.enqueue([a3!]);
      expect(await statuses(db, [a1!.id, a2!.id, a3!.id, b1.id])).toEqual([
        "pending",
        "waiting",
        "waiting",
        "pending",
      ]);
      const claimed = await store.claim("w1", 10, 30_000);
      expect(claimed.map((c) => c.id).sort()).toEqual([a1!.id, b1.id].sort());
      await store.complete(claimed.map((c) => result(c, { status: "succeeded" })));
      expect(await statuses(db, [a2!.id, a3!.id])).toEqual(["pending", "waiting"]);
      const [next] = await store.claim("w1", 10, 30_000);
      expect(next!.id).toBe(a2!.id);
    });

    it("keeps a retried head at the head: what is behind it waits out its delay too", async () => {
      const [h, n] = [keyed("r"), keyed("r")];
      await store.enqueue([h!, n!]);
      const [c] = await store.claim("w1", 10, 30_000);
      await store.complete([result(c!, { status: "pending", delayMs: 60_000, reason: "503" }, 503)]);
      expect(await statuses(db, [h!.id, n!.id])).toEqual(["pending", "waiting"]);
      expect(await store.claim("w1", 10, 30_000)).toEqual([]);
    });

    it("moves a stream on when its head's run is halted, and past the halted run's waiting deliveries", async () => {
      const [h, w] = [keyed("h", { runId: "r1" }), keyed("h", { runId: "r1" })];
      const later = keyed("h", { runId: "r2" });
      const other = delivery({ webhook: "sub", runId: "r1" });
      await store.enqueue([h!, w!, later, other]);
      const claimed = await store.claim("w1", 10, 30_000);
      const head = claimed.find((c) => c.id === h!.id)!;
      await store.complete([result(head, { status: "halted", reason: "410 Gone" }, 410)]);
      expect(await statuses(db, [h!.id, w!.id, later.id, other.id])).toEqual([
        "halted",
        "halted",
        "pending",
        "in_flight",
      ]);
    });

    it("gives a released head back as the head, and a manual retry of an ended one goes behind the head", async () => {
      const [h, n] = [keyed("l"), keyed("l")];
      await store.enqueue([h!, n!]);
      const [c] = await store.claim("w1", 10, 30_000);
      await store.release("w1", [c!.id]);
      expect(await statuses(db, [h!.id, n!.id])).toEqual(["pending", "waiting"]);
      const [again] = await store.claim("w1", 10, 30_000);
      await store.complete([result(again!, { status: "failed", reason: "400" }, 400)]);
      expect(await statuses(db, [h!.id, n!.id])).toEqual(["failed", "pending"]);
      const retried = await store.retryDelivery(h!.id, 1);
      expect(retried?.status).toBe("waiting");
      const [second] = await store.claim("w1", 10, 30_000);
      expect(second!.id).toBe(n!.id);
      await store.complete([result(second!, { status: "succeeded" })]);
      expect(await statuses(db, [h!.id])).toEqual(["pending"]);
    });

    it("tops up a batch from its heads' own streams in order, never from a stream whose head is elsewhere", async () => {
      const [x1, x2, x3] = [keyed("x"), keyed("x"), keyed("x")];
      const [y1, y2] = [keyed("y"), keyed("y")];
      await store.enqueue([x1!, x2!, x3!, y1!, y2!]);
      const claimed = await store.claim("w1", 10, 30_000);
      expect(claimed.map((c) => c.id).sort()).toEqual([x1!.id, y1!.id].sort());
      // Only x's head is in this batch: y's waiting deliveries stay behind y's head.
      const batch = await store.claimBatch("w1", "sub", 10, 30_000, [x1!.id]);
      expect(batch.map((b) => b.id)).toEqual([x2!.id, x3!.id]);
      expect(await statuses(db, [y2!.id])).toEqual(["waiting"]);
    });

    it("sets aside a paused webhook's deliveries when a claim meets them, and makes them due on resume", async () => {
      const [p1, p2] = [delivery({ webhook: "paused-one" }), delivery({ webhook: "paused-one" })];
      const open = delivery({ webhook: "open-one" });
      await store.enqueue([p1, p2, open]);
      await db.query(
        "INSERT INTO hookline_webhook_health (webhook, failing_since, paused_at, reason) VALUES ('paused-one', now(), now(), 'paused: test')",
      );
      const claimed = await store.claim("w1", 10, 30_000);
      expect(claimed.map((c) => c.id)).toEqual([open.id]);
      expect(await statuses(db, [p1.id, p2.id])).toEqual(["paused", "paused"]);
      expect(await store.claim("w1", 10, 30_000)).toEqual([]);
      expect(await store.resumeWebhook("paused-one")).toBe(true);
      const after = await store.claim("w1", 10, 30_000);
      expect(after.map((c) => c.id).sort()).toEqual([p1.id, p2.id].sort());
    });

    it("gives expired leases back on reclaim, not in a claim, an ordered stream's behind nothing", async () => {
      const plain = delivery();
      const [h, n] = [keyed("e"), keyed("e")];
      await store.enqueue([plain, h!, n!]);
      expect((await store.claim("dead", 10, 1)).length).toBe(2);
      await new Promise((r) => setTimeout(r, 20));
      expect(await store.claim("w1", 10, 30_000)).toEqual([]);
      expect(await store.reclaimExpired()).toBe(2);
      expect(await statuses(db, [plain.id, h!.id, n!.id])).toEqual(["pending", "pending", "waiting"]);
      const again = await store.claim("w1", 10, 30_000);
      expect(again.map((c) => c.id).sort()).toEqual([plain.id, h!.id].sort());
      expect(again.every((c) => c.attempts === 2)).toBe(true);
    });

    it("never leaves a stream without a head under concurrent enqueues and outcomes", async () => {
      const keys = ["k1", "k2", "k3"];
      const work = Array.from({ length: 6 }, async (_, w) => {
        for (let round = 0; round < 8; round++) {
          await store.enqueue(keys.map((k) => keyed(k)));
          const claimed = await store.claim(`w${w}`, 3, 30_000);
          await store.complete(claimed.map((c) => result(c, { status: "succeeded" })));
        }
      });
      await Promise.all(work);
      const broken = await db.query<{ ordering_key: string; heads: number; waiting: number }>(
        `SELECT ordering_key, count(*) FILTER (WHERE status IN ('pending', 'in_flight', 'paused'))::int AS heads,
                count(*) FILTER (WHERE status = 'waiting')::int AS waiting
           FROM hookline_delivery_state WHERE webhook = 'sub' GROUP BY ordering_key
         HAVING count(*) FILTER (WHERE status IN ('pending', 'in_flight', 'paused')) <> 1
            AND count(*) FILTER (WHERE status = 'waiting') > 0
             OR count(*) FILTER (WHERE status IN ('pending', 'in_flight', 'paused')) > 1`,
      );
      expect(broken).toEqual([]);
    });
  });
}
