import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { ClaimedDelivery } from "../../../core/contracts/delivery.ts";
import { SqlStore } from "../../../core/store/sql-store.ts";
import { clearDeliveries, type Driver, delivery, migrated, result, statusOf, storeKinds } from "./fixture.ts";

// Sending at once: deliveries a process writes go to its own worker already leased, with no claim.
// The store's side: they are written in flight to the owner, counted as attempted, never claimable
// by another worker while the lease holds, and given back to everyone when it expires (the process
// died before recording them). Ordered streams and halted runs are never leased.
for (const kind of storeKinds) {
  describe(`deliveries written leased on ${kind.name}`, () => {
    let db: Driver;
    let store: SqlStore;
    beforeAll(async () => {
      db = await migrated(kind);
      store = new SqlStore(db);
    });
    afterAll(() => db.dispose());

    it("writes the offered ones in flight to the owner (not claimable), the rest pending", async () => {
      await clearDeliveries(db);
      const fast = delivery({ webhook: "lease-a" });
      const queued = delivery({ webhook: "lease-a" });
      const written = await store.enqueueLeased([fast, queued], {
        owner: "w-local",
        leaseMs: 60_000,
        ids: new Set([fast.id]),
      });
      expect(new Set(written.inserted)).toEqual(new Set([fast.id, queued.id]));
      expect(written.leased).toEqual([fast.id]);
      const [row] = await db.query<{ status: string; lease_owner: string; attempts: number; lease: boolean }>(
        "SELECT status, lease_owner, attempts, lease_until > now() AS lease FROM hookline_delivery_state WHERE id = $1",
        [fast.id],
      );
      expect(row).toEqual({ status: "in_flight", lease_owner: "w-local", attempts: 1, lease: true });
      // Another worker claims only the one left pending.
      const claimed = await store.claim("w-other", 10, 30_000);
      expect(claimed.map((c) => c.id)).toEqual([queued.id]);
      // The local worker records its attempt as if it had claimed it.
      const local: ClaimedDelivery = { ...fast, attempts: 1, leaseOwner: "w-local" };
      await store.complete([result(local, { status: "succeeded" })]);
      expect((await statusOf(db, fast.id)).status).toBe("succeeded");
      expect((await store.listAttempts(fast.id)).map((a) => a.number)).toEqual([1]);
    });

    it("gives a leased delivery back to every worker when its lease expires unrecorded", async () => {
      await clearDeliveries(db);
      const d = delivery({ webhook: "lease-b" });
      await store.enqueueLeased([d], { owner: "w-died", leaseMs: 1, ids: new Set([d.id]) });
      await new Promise((r) => setTimeout(r, 20));
      expect(await store.reclaimExpired()).toBe(1);
      const [again] = await store.claim("w-other", 10, 30_000);
      expect(again).toMatchObject({ id: d.id, leaseOwner: "w-other", attempts: 2 });
    });

    it("never leases a delivery of an ordered stream or of a halted run, nor one already written", async () => {
      await clearDeliveries(db);
      await db.query(
        "INSERT INTO hookline_halted_runs (webhook, run_id, reason) VALUES ('lease-c', 'run-halted', 'stop') ON CONFLICT DO NOTHING",
      );
      const ordered = delivery({ webhook: "lease-c", orderingKey: "k1" });
      const halted = delivery({ webhook: "lease-c", runId: "run-halted" });
      const first = delivery({ webhook: "lease-c" });
      await store.enqueue([first]);
      const again = delivery({ webhook: "lease-c", idempotencyKey: first.idempotencyKey });
      const written = await store.enqueueLeased([ordered, halted, again], {
        owner: "w-local",
        leaseMs: 60_000,
        ids: new Set([ordered.id, halted.id, again.id]),
      });
      expect(new Set(written.inserted)).toEqual(new Set([ordered.id, halted.id]));
      expect(written.leased).toEqual([]);
      expect((await statusOf(db, halted.id)).status).toBe("halted");
      // The stream's delivery is its head, pending, for whoever claims.
      expect((await statusOf(db, ordered.id)).status).toBe("pending");
    });
  });
}
