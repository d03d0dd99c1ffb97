import { afterAll, beforeAll, beforeEach, describe, expect, it } from "bun:test";
import type { SqlDriver } from "../../../core/contracts/sql.ts";
import { ObserverDispatch } from "../../../core/store/observers.ts";
import { SqlPolicyStore } from "../../../core/store/policies.ts";
import { SqlDeliveryQueue } from "../../../core/store/queue.ts";
import { SqlRunHealth } from "../../../core/store/run-health.ts";
import { postgresDriver } from "../../../plugins/postgres/index.ts";
import { TEST_DATABASE_URL } from "../../support/db.ts";
import { clearDeliveries, type Driver, delivery, migrated, result, storeKinds } from "./fixture.ts";

const queueOver = (db: SqlDriver) => new SqlDeliveryQueue(db, new SqlRunHealth(db), new ObserverDispatch());

/** How many of a policy's deliveries are leased right now, read from the table. */
async function inFlight(db: SqlDriver, policy: string): Promise<number> {
  const [row] = await db.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM hookline_delivery_state WHERE policy = $1 AND status = 'in_flight'",
    [policy],
  );
  return row!.n;
}

for (const kind of storeKinds) {
  describe(`claims under throughput policies on ${kind.name}`, () => {
    let db: Driver;
    let queue: SqlDeliveryQueue;
    let policies: SqlPolicyStore;
    beforeAll(async () => {
      db = await migrated(kind);
      queue = queueOver(db);
      policies = new SqlPolicyStore(db);
    });
    afterAll(() => db.dispose());
    beforeEach(async () => {
      await clearDeliveries(db);
      await db.query("DELETE FROM hookline_policy_slots");
    });

    it("leases no more of a policy's deliveries than it has slots free, and leaves the rest pending, untouched", async () => {
      await policies.setPolicy({ name: "two", concurrency: 2 });
      const held = [1, 2, 3, 4].map(() => delivery({ webhook: "slow", policy: "two" }));
      const free = delivery({ webhook: "other" });
      for (const d of [...held, free]) await queue.enqueue([d]);
      const first = await queue.claim("w1", 10, 30_000);
      expect(first.map((c) => c.id).sort()).toEqual([held[0]!.id, held[1]!.id, free.id].sort());
      const rest = await db.query<{ status: string; attempts: number }>(
        "SELECT status, attempts FROM hookline_delivery_state WHERE id = ANY($1::uuid[]) ORDER BY seq",
        [[held[2]!.id, held[3]!.id]],
      );
      expect(rest).toEqual([
        { status: "pending", attempts: 0 },
        { status: "pending", attempts: 0 },
      ]);
      expect((await policies.listPolicies()).find((p) => p.name === "two")?.inUse).toBe(2);
      // Full: a second claim takes nothing; an outcome gives its slot back to the next one.
      expect(await queue.claim("w2", 10, 30_000)).toEqual([]);
      await queue.complete([result(first.find((c) => c.id === held[0]!.id)!, { status: "succeeded" })]);
      expect((await queue.claim("w2", 10, 30_000)).map((c) => c.id)).toEqual([held[2]!.id]);
    });

    it("leases nothing of a policy that is not defined", async () => {
      const ghost = delivery({ policy: "ghost" });
      await queue.enqueue([ghost]);
      expect(await queue.claim("w1", 10, 30_000)).toEqual([]);
      expect(await db.query("SELECT status FROM hookline_delivery_state WHERE id = $1", [ghost.id])).toEqual([
        { status: "pending" },
      ]);
    });

    it("gives a slot whose lease expired to the next claim", async () => {
      await policies.setPolicy({ name: "one", concurrency: 1 });
      const [a, b] = [delivery({ policy: "one" }), delivery({ policy: "one" })];
      await queue.enqueue([a!]);
      await queue.enqueue([b!]);
      expect((await queue.claim("w1", 10, 50)).map((c) => c.id)).toEqual([a!.id]);
      expect(await queue.claim("w2", 10, 30_000)).toEqual([]);
      await new Promise((r) => setTimeout(r, 80));
      expect((await queue.claim("w2", 10, 30_000)).map((c) => c.id)).toEqual([b!.id]);
      expect((await policies.listPolicies()).find((p) => p.name === "one")?.inUse).toBe(1);
    });

    it("keeps the slot of a delivery's new holder when a late result of its old lease comes in", async () => {
      await policies.setPolicy({ name: "solo", concurrency: 1 });
      const d = delivery({ policy: "solo" });
      await queue.enqueue([d]);
      const [old] = await queue.claim("w-old", 10, 50);
      await new Promise((r) => setTimeout(r, 80));
      expect(await queue.reclaimExpired()).toBe(1);
      const [now] = await queue.claim("w-new", 10, 30_000);
      expect(now).toMatchObject({ id: d.id, leaseOwner: "w-new" });
      // The old worker's result comes in late: its lease is gone, so it neither records nor frees.
      await queue.complete([result(old!, { status: "succeeded" })]);
      expect((await policies.listPolicies()).find((p) => p.name === "solo")?.inUse).toBe(1);
      const other = delivery({ policy: "solo" });
      await queue.enqueue([other]);
      expect(await queue.claim("w-third", 10, 30_000)).toEqual([]);
    });

    it("charges a rated policy's bucket in the claim: no more leased than whole tokens", async () => {
      await policies.setPolicy({ name: "rated", concurrency: 10, rate: 2 });
      // A new bucket fills at 2 per second up to 2.
      await new Promise((r) => setTimeout(r, 1_100));
      for (let i = 0; i < 5; i++) await queue.enqueue([delivery({ policy: "rated" })]);
      expect(await queue.claim("w1", 10, 30_000)).toHaveLength(2);
      expect(await queue.claim("w1", 10, 30_000)).toEqual([]);
    });

    it("reaches the others' deliveries at once behind any backlog of a full policy's, which it does not read", async () => {
      await policies.setPolicy({ name: "busy", concurrency: 1 });
      await queue.enqueue([delivery({ webhook: "partner", policy: "busy" })]);
      expect(await queue.claim("w1", 2, 30_000)).toHaveLength(1);
      await queue.enqueue(
        Array.from({ length: 300 }, () => delivery({ webhook: "partner", policy: "busy" })),
      );
      const behind = delivery({ webhook: "other" });
      const rated = delivery({ webhook: "third", policy: "roomy" });
      await policies.setPolicy({ name: "roomy", concurrency: 5 });
      await queue.enqueue([behind, rated]);
      const claimed = await queue.claim("w1", 2, 30_000);
      expect(claimed.map((c) => c.id).sort()).toEqual([behind.id, rated.id].sort());
      // The full policy's backlog was not touched: no lock, no write.
      const [row] = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM hookline_delivery_state WHERE policy = 'busy' AND status = 'pending' AND attempts = 0",
      );
      expect(row!.n).toBe(300);
    });

    it("holds the limit with claims of several stores at once, and every delivery goes out once", async () => {
      await policies.setPolicy({ name: "five", concurrency: 5 });
      const all = Array.from({ length: 40 }, () => delivery({ policy: "five" }));
      await queue.enqueue(all);
      // On the server each store has its own connections; PGlite has one connection, shared.
      const server = kind.name === "postgres" && TEST_DATABASE_URL ? await sameDatabase(db) : undefined;
      const queues = [queue, queueOver(server?.a ?? db), queueOver(server?.b ?? db)];
      const sent = new Set<string>();
      try {
        for (let round = 0; round < 40 && sent.size < all.length; round++) {
          const claimed = (await Promise.all(queues.map((q, i) => q.claim(`w${i}`, 10, 30_000)))).flat();
          expect(await inFlight(db, "five")).toBeLessThanOrEqual(5);
          for (const c of claimed) {
            expect(sent.has(c.id)).toBe(false);
            sent.add(c.id);
          }
          await queue.complete(claimed.map((c) => result(c, { status: "succeeded" })));
        }
      } finally {
        await server?.close();
      }
      expect(sent.size).toBe(all.length);
    });
  });
}

/** Two more drivers on the database `db` is on (the test's own Postgres database). */
async function sameDatabase(db: SqlDriver) {
  const [{ name }] = (await db.query<{ name: string }>("SELECT current_database() AS name")) as [
    { name: string },
  ];
  const url = new URL(TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  const a = postgresDriver({ url: url.toString(), max: 3 });
  const b = postgresDriver({ url: url.toString(), max: 3 });
  return { a, b, close: () => Promise.all([a.close(), b.close()]) };
}
