import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { SqlStore } from "../../../core/store/sql-store.ts";
import { type Driver, delivery, result, storeKinds } from "./fixture.ts";

for (const kind of storeKinds) {
  describe(`the composed SQL store on ${kind.name}`, () => {
    let db: Driver;
    let store: SqlStore;
    beforeAll(async () => {
      db = await kind.open();
      store = new SqlStore(db, [
        { plugin: "probe", migrations: [{ version: 1, name: "probe", sql: "CREATE TABLE probe (id int)" }] },
      ]);
      await store.migrate();
    });
    afterAll(() => db.dispose());

    it("migrates the core's steps, then each plugin's, once each", async () => {
      await store.migrate();
      const ids = (
        await db.query<{ id: string }>("SELECT id FROM hookline_migrations ORDER BY applied_at, id")
      ).map((r) => r.id);
      expect(ids.filter((id) => id.startsWith("core:")).length).toBeGreaterThan(0);
      expect(ids.at(-1)).toBe("probe:1");
      expect(new Set(ids).size).toBe(ids.length);
    });

    it("exposes each job over the one connection, and answers the whole Store surface by delegation", async () => {
      expect(store.sql).toBe(db);
      expect(store.driverName).toBe(kind.name);
      const d = delivery();
      await store.enqueue([d]);
      const [claimed] = await store.queue.claim("w1", 1, 30_000);
      await store.complete([result(claimed!, { status: "succeeded" })]);
      expect((await store.log.getDelivery(d.id))!.status).toBe("succeeded");
      expect(await store.listAttempts(d.id)).toHaveLength(1);
      await store.policies.setPolicy({ name: "p", concurrency: 1 });
      expect((await store.listPolicies()).map((p) => p.name)).toEqual(["p"]);
      expect(await store.runs.pausedWebhooks()).toEqual([]);
      expect(store.observers.active).toBe(false);
    });
  });
}
