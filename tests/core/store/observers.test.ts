import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { DeliveryOutcome } from "../../../core/contracts/delivery.ts";
import type { DeliveryObserver, ObserverContext } from "../../../core/contracts/extension.ts";
import type { LogLevel } from "../../../core/contracts/logger.ts";
import { ObserverDispatch } from "../../../core/store/observers.ts";
import { SqlDeliveryQueue } from "../../../core/store/queue.ts";
import { SqlRunHealth } from "../../../core/store/run-health.ts";
import { type Driver, delivery, migrated, result, storeKinds } from "./fixture.ts";

for (const kind of storeKinds) {
  describe(`observer dispatch on ${kind.name}`, () => {
    let db: Driver;
    let observers: ObserverDispatch;
    let queue: SqlDeliveryQueue;
    const logged: Array<{ level: LogLevel; message: string }> = [];
    const context: Omit<ObserverContext, "afterCommit"> = {
      webhook: () => undefined,
      publish: async () => {},
      logger: { log: (level, message) => void logged.push({ level, message }) },
    };
    beforeAll(async () => {
      db = await migrated(kind);
      await db.query("CREATE TABLE seen (delivery text, status text)");
      observers = new ObserverDispatch();
      queue = new SqlDeliveryQueue(db, new SqlRunHealth(db), observers);
    });
    afterAll(() => db.dispose());

    it("is inactive until observers are registered", () => {
      expect(new ObserverDispatch().active).toBe(false);
    });

    it("writes what an observer writes with the outcome; a failing one is undone alone and logged", async () => {
      const afterCommit: string[] = [];
      const recorder: DeliveryObserver = {
        name: "recorder",
        async observe(tx, outcomes: readonly DeliveryOutcome[], ctx) {
          for (const o of outcomes)
            await tx.query("INSERT INTO seen VALUES ($1, $2)", [o.delivery.id, o.status]);
          ctx.afterCommit(() => afterCommit.push("recorder"));
          ctx.afterCommit(() => {
            throw new Error("wake-up failed");
          });
        },
      };
      const broken: DeliveryObserver = {
        name: "broken",
        async observe(tx, _outcomes, ctx) {
          await tx.query("INSERT INTO seen VALUES ('broken', 'x')");
          ctx.afterCommit(() => afterCommit.push("broken"));
          throw new Error("boom");
        },
      };
      const picky: DeliveryObserver = {
        name: "picky",
        accepts: (o) => o.status === "failed",
        observe: async () => {
          throw new Error("should not be called: no failed outcome");
        },
      };
      observers.observe([recorder, broken, picky], context);
      expect(observers.active).toBe(true);
      const d = delivery();
      await queue.enqueue([d]);
      const [claimed] = await queue.claim("w1", 1, 30_000);
      await queue.complete([result(claimed!, { status: "succeeded" })]);
      expect(await db.query("SELECT delivery, status FROM seen")).toEqual([
        { delivery: d.id, status: "succeeded" },
      ]);
      expect(afterCommit).toEqual(["recorder"]);
      expect(logged.map((l) => l.message)).toEqual([
        "a delivery observer failed; its writes for these outcomes are undone",
        "an observer's after-commit step failed",
      ]);
    });
  });
}
