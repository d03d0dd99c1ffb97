import { afterAll, beforeAll, beforeEach, describe, expect, it } from "bun:test";
import type { ClaimedDelivery, DeliveryNext } from "../../../core/contracts/delivery.ts";
import { ObserverDispatch } from "../../../core/store/observers.ts";
import { SqlDeliveryQueue } from "../../../core/store/queue.ts";
import { SqlRunHealth } from "../../../core/store/run-health.ts";
import { SqlRunLog } from "../../../core/store/runs.ts";
import { clearDeliveries, type Driver, delivery, migrated, result, storeKinds } from "./fixture.ts";

for (const kind of storeKinds) {
  describe(`runs and their jobs on ${kind.name}`, () => {
    let db: Driver;
    let queue: SqlDeliveryQueue;
    let runs: SqlRunLog;
    beforeAll(async () => {
      db = await migrated(kind);
      const health = new SqlRunHealth(db);
      queue = new SqlDeliveryQueue(db, health, new ObserverDispatch());
      runs = new SqlRunLog(db, health);
    });
    afterAll(() => db.dispose());
    beforeEach(async () => {
      await clearDeliveries(db);
      await db.query("DELETE FROM hookline_run_tallies");
      await db.query("DELETE FROM hookline_runs");
      await db.query("DELETE FROM hookline_halted_runs");
    });

    /** Claims everything due and records `next(claimed)` for each, until nothing is due. */
    async function drain(next: (c: ClaimedDelivery, i: number) => DeliveryNext, abortAfter?: number) {
      let i = 0;
      for (;;) {
        const claimed = await queue.claim("w", 500, 30_000);
        if (claimed.length === 0) return;
        await queue.complete(
          claimed.map((c) => result(c, next(c, i++))),
          abortAfter ? { abortAfter } : {},
        );
      }
    }

    it("tallies agree with the deliveries whatever ends them: successes, failures, retries, halts and aborts", async () => {
      const webhooks = ["crm", "erp"];
      for (const run of ["run-a", "run-b"])
        await queue.enqueue(
          Array.from({ length: 40 }, (_, i) =>
            delivery({ runId: run, webhook: webhooks[i % 2]!, maxAttempts: 2 }),
          ),
        );
      const pick = (c: ClaimedDelivery, i: number): DeliveryNext => {
        const roll = (i * 7 + c.attempts * 3) % 10;
        if (roll < 4) return { status: "succeeded" };
        if (roll < 6) return { status: "pending", delayMs: 0, reason: "HTTP 503" };
        if (roll < 9) return { status: "failed", reason: "HTTP 500" };
        return { status: "halted", reason: "HTTP 400" };
      };
      await drain(pick, 6);
      for (const id of ["run-a", "run-b"]) {
        const actual = await db.query<{ webhook: string; status: string; n: number }>(
          "SELECT webhook, status, count(*)::int AS n FROM hookline_delivery_state WHERE run_id = $1 GROUP BY webhook, status",
          [id],
        );
        const run = (await runs.getRun(id))!;
        for (const w of run.webhooks) {
          const n = (s: string) => actual.find((a) => a.webhook === w.webhook && a.status === s)?.n ?? 0;
          expect(w.counts).toEqual({
            total: actual.filter((a) => a.webhook === w.webhook).reduce((t, a) => t + a.n, 0),
            succeeded: n("succeeded"),
            failed: n("failed"),
            halted: n("halted"),
            aborted: n("aborted"),
            skipped: n("skipped"),
            queued: 0,
          });
        }
        expect(run.counts.total).toBe(40);
        expect(run.state).toBe("finished");
      }
      // Something of each kind happened, or the comparison proved little.
      const seen = await db.query<{ status: string }>("SELECT DISTINCT status FROM hookline_delivery_state");
      expect(seen.map((s) => s.status).sort()).toEqual(["aborted", "failed", "halted", "succeeded"]);
    });

    it("a bulk retry moves any number of matching deliveries in pages, each once, with a fresh attempt budget", async () => {
      await queue.enqueue(Array.from({ length: 2_500 }, () => delivery({ maxAttempts: 1 })));
      await queue.enqueue(Array.from({ length: 30 }, () => delivery({ webhook: "erp", maxAttempts: 1 })));
      await drain(() => ({ status: "failed", reason: "HTTP 500" }));
      const ok = delivery({ maxAttempts: 1 });
      await queue.enqueue([ok]);
      await drain(() => ({ status: "succeeded" }));

      const started = await runs.startRetry({ statuses: ["failed"], webhook: "crm", attempts: 3 });
      expect(started).toMatchObject({ kind: "retry", state: "running", job: { state: "running" } });
      let made = 0;
      for (let turn = 0; turn < 20; turn++) {
        const n = await runs.runJobs("owner-1", 5_000);
        if (n === 0 && (await runs.getRun(started.id))?.job?.state === "done") break;
        made += n;
      }
      expect(made).toBe(2_500);
      const moved = await db.query<{ status: string; attempts: number; max_attempts: number; n: number }>(
        `SELECT status, attempts, max_attempts, count(*)::int AS n FROM hookline_delivery_state
          WHERE run_id = $1 GROUP BY status, attempts, max_attempts`,
        [started.id],
      );
      expect(moved).toEqual([{ status: "pending", attempts: 1, max_attempts: 4, n: 2_500 }]);
      const run = (await runs.getRun(started.id))!;
      expect(run.counts).toMatchObject({ total: 2_500, queued: 2_500 });
      expect(run.job?.state).toBe("done");
      // Not the other webhook's, not the one that succeeded.
      const [left] = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM hookline_delivery_state WHERE status = 'failed' AND webhook = 'erp'",
      );
      expect(left!.n).toBe(30);
      expect(
        (await db.query("SELECT status FROM hookline_delivery_state WHERE id = $1", [ok.id]))[0],
      ).toEqual({
        status: "succeeded",
      });
      // What it moved is claimable and goes out under the retry run.
      const claimed = await queue.claim("w", 5, 30_000);
      expect(claimed.every((c) => c.runId === started.id && c.attempts === 2)).toBe(true);
    });

    it("merges older tally rows into one per run, webhook and status, reading the same counts", async () => {
      for (let i = 0; i < 6; i++)
        await queue.enqueue([delivery({ runId: "run-m" }), delivery({ runId: "run-m" })]);
      await drain((_, i) =>
        i % 3 === 0 ? { status: "failed", reason: "HTTP 500" } : { status: "succeeded" },
      );
      const before = (await runs.getRun("run-m"))!;
      const rows = async () =>
        (
          await db.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM hookline_run_tallies WHERE run_id = 'run-m'",
          )
        )[0]!.n;
      expect(await rows()).toBeGreaterThan(6);
      // Nothing is old enough yet: the last minutes' rows give the rate and stay apart.
      expect(await runs.compactTallies(1_000)).toBe(0);
      await db.query(
        "UPDATE hookline_run_tallies SET at = at - interval '10 minutes' WHERE run_id = 'run-m'",
      );
      const merged = await runs.compactTallies(1_000);
      expect(merged).toBeGreaterThan(6);
      // created, succeeded, failed: one row each.
      expect(await rows()).toBe(3);
      expect((await runs.getRun("run-m"))!.counts).toEqual(before.counts);
      // A later merge adds to the merged rows.
      await queue.enqueue([delivery({ runId: "run-m" })]);
      await drain(() => ({ status: "succeeded" }));
      await db.query(
        "UPDATE hookline_run_tallies SET at = now() - interval '10 minutes' WHERE run_id = 'run-m' AND NOT merged",
      );
      await runs.compactTallies(1_000);
      expect(await rows()).toBe(3);
      expect((await runs.getRun("run-m"))!.counts).toMatchObject({
        total: before.counts.total + 1,
        succeeded: before.counts.succeeded + 1,
      });
    });

    it("a cancelled job moves nothing more, and what it moved ends halted", async () => {
      await queue.enqueue(Array.from({ length: 20 }, () => delivery({ maxAttempts: 1 })));
      await drain(() => ({ status: "failed", reason: "HTTP 500" }));
      const retry = await runs.startRetry({});
      await runs.runJobs("owner-1", 5_000);
      const cancelled = await runs.cancelRun(retry.id, "run cancelled: enough");
      expect(cancelled).toMatchObject({ state: "cancelled", counts: { total: 20, halted: 20, queued: 0 } });
      expect(await runs.cancelRun("no-such-run", "x")).toBeUndefined();
      const again = await runs.startRetry({});
      await runs.cancelRun(again.id, "run cancelled: before it began");
      expect(await runs.runJobs("owner-1", 1_000)).toBe(0);
      expect((await runs.getRun(again.id))?.counts.total).toBe(0);
    });
  });
}
