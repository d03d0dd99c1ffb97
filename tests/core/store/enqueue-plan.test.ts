import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { outboxInsert } from "../../../core/store/enqueue.ts";
import { clearDeliveries, type Driver, delivery, migrated, storeKinds } from "./fixture.ts";

// The outbox insert writes a publish call's deliveries (up to thousands) in one statement. Its cost
// must grow with the rows, not with their square: once a disabled-webhook check made the planner
// expect a single row and join the rows to their content rows in a nested loop, a publish of 1,000
// deliveries compared 999,000 pairs and took 2.5 times as long. EXPLAIN ANALYZE shows every plan
// node's rows thrown away by a join filter; none may throw away more than the rows written.
type PlanNode = { "Node Type": string; "Rows Removed by Join Filter"?: number; Plans?: PlanNode[] };

function* nodes(n: PlanNode): Generator<PlanNode> {
  yield n;
  for (const child of n.Plans ?? []) yield* nodes(child);
}

for (const kind of storeKinds) {
  describe(`the outbox insert's plan on ${kind.name}`, () => {
    let db: Driver;
    beforeAll(async () => {
      db = await migrated(kind);
      // A disabled webhook, so the check has something to read.
      await db.query(
        "INSERT INTO hookline_webhook_health (webhook, disabled_at) VALUES ('plan-off', now()) ON CONFLICT (webhook) DO UPDATE SET disabled_at = now()",
      );
    });
    afterAll(() => db.dispose());

    it("writes 1,000 deliveries without comparing each row with every other", async () => {
      await clearDeliveries(db);
      const rows = Array.from({ length: 1000 }, (_, i) =>
        delivery({ webhook: i % 10 === 0 ? "plan-off" : "plan-on", runId: "run-plan" }),
      );
      const { sql, params } = outboxInsert(rows);
      const [out] = await db.query<Record<string, unknown>>(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
      const raw = Object.values(out!)[0];
      const plan = (typeof raw === "string" ? JSON.parse(raw) : raw) as Array<{ Plan: PlanNode }>;
      const all = [...nodes(plan[0]!.Plan)];
      const removed = Math.max(0, ...all.map((n) => n["Rows Removed by Join Filter"] ?? 0));
      expect(removed).toBeLessThanOrEqual(rows.length);
      // It did write them (the disabled webhook's tenth left out), so the plan above is the real one.
      const [n] = await db.query<{ n: unknown }>(
        "SELECT count(*) AS n FROM hookline_delivery_state WHERE run_id = 'run-plan'",
      );
      expect(Number(n!.n)).toBe(900);
    });
  });
}
