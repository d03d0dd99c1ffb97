import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { SqlPolicyStore } from "../../../core/store/policies.ts";
import { type Driver, migrated, storeKinds } from "./fixture.ts";

for (const kind of storeKinds) {
  describe(`throughput policies on their own on ${kind.name}`, () => {
    let db: Driver;
    let policies: SqlPolicyStore;
    beforeAll(async () => {
      db = await migrated(kind);
      policies = new SqlPolicyStore(db);
    });
    afterAll(() => db.dispose());

    it("grants as many slots as the concurrency leaves free, and gives expired ones back", async () => {
      await policies.setPolicy({ name: "two", concurrency: 2 });
      const holders = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
      expect(await policies.acquireSlots("two", "w1", holders, 50)).toEqual(holders.slice(0, 2));
      expect(await policies.listPolicies()).toEqual([{ name: "two", concurrency: 2, inUse: 2 }]);
      await new Promise((r) => setTimeout(r, 80));
      expect(await policies.acquireSlots("two", "w1", [holders[2]!], 30_000)).toEqual([holders[2]]);
      expect(await policies.acquireSlots("none", "w1", holders, 30_000)).toEqual([]);
    });

    it("keeps a policy set through the API over the config's, and a stored rate a writer leaves out", async () => {
      await policies.setPolicy({ name: "api", concurrency: 7, rate: 3 });
      await policies.syncPolicies([
        { name: "api", concurrency: 1, rate: null },
        { name: "cfg", concurrency: 4, rate: 2 },
      ]);
      await policies.syncPolicies([{ name: "cfg", concurrency: 5 }]);
      const byName = new Map((await policies.listPolicies()).map((p) => [p.name, p]));
      expect(byName.get("api")).toEqual({ name: "api", concurrency: 7, rate: 3, inUse: 0 });
      expect(byName.get("cfg")).toEqual({ name: "cfg", concurrency: 5, rate: 2, inUse: 0 });
    });

    it("deletes a policy, saying whether there was one", async () => {
      await policies.setPolicy({ name: "gone", concurrency: 1 });
      expect(await policies.deletePolicy("gone")).toBe(true);
      expect(await policies.deletePolicy("gone")).toBe(false);
    });
  });
}
