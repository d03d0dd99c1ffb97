import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { ObserverDispatch } from "../../../core/store/observers.ts";
import { SqlDeliveryQueue } from "../../../core/store/queue.ts";
import { SqlRunHealth } from "../../../core/store/run-health.ts";
import { clearDeliveries, type Driver, delivery, migrated, result, statusOf, storeKinds } from "./fixture.ts";

for (const kind of storeKinds) {
  describe(`run halts and webhook health on ${kind.name}`, () => {
    let db: Driver;
    let runs: SqlRunHealth;
    let queue: SqlDeliveryQueue;
    beforeAll(async () => {
      db = await migrated(kind);
      runs = new SqlRunHealth(db);
      queue = new SqlDeliveryQueue(db, runs, new ObserverDispatch());
    });
    afterAll(() => db.dispose());

    it("halts a run: its pending deliveries end halted with the reason, and later ones are written halted", async () => {
      const waiting = delivery({ runId: "r-halt" });
      const other = delivery({ runId: "r-other" });
      await queue.enqueue([waiting, other]);
      const ended = await db.transaction((tx) =>
        runs.haltRuns(tx, [{ webhook: "crm", run_id: "r-halt", reason: "410 Gone" }], true),
      );
      expect(ended).toEqual([
        expect.objectContaining({ id: waiting.id, status: "halted", reason: "run halted: 410 Gone" }),
      ]);
      expect((await statusOf(db, other.id)).status).toBe("pending");
      const late = delivery({ runId: "r-halt" });
      await queue.enqueue([late]);
      expect(await statusOf(db, late.id)).toEqual({ status: "halted", reason: "run halted: 410 Gone" });
    });

    it("aborts a run once its unrecoverable outcomes reach the threshold, and only then", async () => {
      await clearDeliveries(db);
      const ds = [1, 2, 3].map(() => delivery({ runId: "r-abort", webhook: "erp" }));
      await queue.enqueue(ds);
      const [a, b] = await queue.claim("w1", 2, 30_000);
      const failed = { status: "failed", reason: "400" } as const;
      expect(await queue.complete([result(a!, failed, 400)], { abortAfter: 2 })).toEqual([]);
      expect(await queue.complete([result(b!, failed, 400)], { abortAfter: 2 })).toEqual([
        { webhook: "erp", runId: "r-abort", reason: "aborted after 2 unrecoverable outcomes in this run" },
      ]);
      const rest = ds.find((d) => d.id !== a!.id && d.id !== b!.id)!;
      expect(await statusOf(db, rest.id)).toEqual({
        status: "aborted",
        reason: "aborted after 2 unrecoverable outcomes in this run",
      });
    });

    it("pauses a webhook failing past the period, lists it, and resumes it once", async () => {
      const failing = [{ webhook: "flaky", next: { status: "failed", reason: "500" } }];
      const step = () =>
        db.transaction((tx) => runs.trackHealth(tx, failing as Parameters<typeof runs.trackHealth>[1], 0));
      // The first failure starts the clock; a later one past the period (here 0 ms) pauses it.
      expect(await step()).toEqual([]);
      await new Promise((r) => setTimeout(r, 5));
      expect(await step()).toEqual([
        {
          webhook: "flaky",
          reason: expect.stringMatching(/^paused: failing continuously since /),
          paused: true,
        },
      ]);
      expect(await runs.pausedWebhooks()).toEqual([
        { webhook: "flaky", pausedAt: expect.any(String), reason: expect.stringContaining("paused:") },
      ]);
      expect(await runs.resumeWebhook("flaky")).toBe(true);
      expect(await runs.resumeWebhook("flaky")).toBe(false);
      expect(await runs.pausedWebhooks()).toEqual([]);
    });
  });
}
