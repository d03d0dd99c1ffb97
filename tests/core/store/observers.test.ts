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
      expect(logged.map((l) => l.message)).toEqual(["observer.failed", "observer.after_commit_failed"]);
    });

    it("records outcomes no observer accepts in one statement, and ones an observer accepts inside a transaction with it", async () => {
      const transactions: number[] = [];
      const counting = {
        ...db,
        transaction: <T>(fn: (tx: typeof db) => Promise<T>) => {
          transactions.push(1);
          return db.transaction(fn as never) as Promise<T>;
        },
      } as typeof db;
      const seen: string[] = [];
      const picky = new ObserverDispatch();
      picky.observe(
        [
          {
            name: "failures-only",
            accepts: (o) => o.status === "failed",
            async observe(_tx, outcomes) {
              for (const o of outcomes) seen.push(o.delivery.id);
            },
          },
        ],
        context,
      );
      const q = new SqlDeliveryQueue(counting, new SqlRunHealth(counting), picky);
      const [ok, bad] = [delivery({ webhook: "picky" }), delivery({ webhook: "picky" })];
      await q.enqueue([ok, bad]);
      const claimed = await q.claim("w1", 10, 30_000);
      const byId = new Map(claimed.map((c) => [c.id, c]));
      await q.complete([result(byId.get(ok.id)!, { status: "succeeded" })]);
      expect(transactions.length).toBe(0);
      await q.complete([result(byId.get(bad.id)!, { status: "failed", reason: "400" }, 400)]);
      expect(transactions.length).toBe(1);
      expect(seen).toEqual([bad.id]);
      const statuses = await db.query<{ id: string; status: string }>(
        "SELECT id::text AS id, status FROM hookline_delivery_state WHERE webhook = 'picky' ORDER BY status",
      );
      expect(statuses).toEqual([
        { id: bad.id, status: "failed" },
        { id: ok.id, status: "succeeded" },
      ]);
    });
  });
}
