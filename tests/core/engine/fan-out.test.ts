import { afterAll, beforeAll, beforeEach, describe, expect, it } from "bun:test";
import type { FanOutJob } from "../../../core/contracts/fan-out.ts";
import { FAN_OUT_PAGE, SqlFanOut } from "../../../core/store/fan-out.ts";
import { ObserverDispatch } from "../../../core/store/observers.ts";
import { SqlDeliveryQueue } from "../../../core/store/queue.ts";
import { SqlRunHealth } from "../../../core/store/run-health.ts";
import { SqlRunLog } from "../../../core/store/runs.ts";
import { type Driver, migrated, storeKinds } from "../store/fixture.ts";

const MEMBERS = 10_000;

// Members from any SELECT of (id, customer): here made up by generate_series, so the core's fan-out
// is tested without the plugin that keeps profiles. Ids sort as text ("m00001" … "m10000").
const job = (over: Partial<FanOutJob> = {}): FanOutJob => ({
  runId: "send_s1",
  sendId: "s1",
  segment: "everyone",
  members: {
    sql: `SELECT 'm' || lpad(g::text, 5, '0') AS id, jsonb_build_object('id', 'm' || lpad(g::text, 5, '0'), 'n', g) AS customer
            FROM generate_series(1, $1::int) g`,
    params: [String(MEMBERS)],
  },
  webhooks: [{ webhook: "crm", maxAttempts: 4, delayMs: 0, policy: null, params: { list: "main" } }],
  at: "2026-12-07T10:00:00.000Z",
  traceparent: "00-0123456789abcdef0123456789abcdef-0123456789abcdef-01",
  ...over,
});

for (const kind of storeKinds) {
  describe(`segment sends (fan-out jobs) on ${kind.name}`, () => {
    let db: Driver;
    let runs: SqlRunLog;
    let fanOut: SqlFanOut;
    let queue: SqlDeliveryQueue;
    beforeAll(async () => {
      db = await migrated(kind);
      const health = new SqlRunHealth(db);
      runs = new SqlRunLog(db, health);
      fanOut = new SqlFanOut(db);
      queue = new SqlDeliveryQueue(db, health, new ObserverDispatch());
    });
    afterAll(() => db.dispose());
    beforeEach(async () => {
      await db.query("DELETE FROM hookline_delivery_state");
      await db.query("DELETE FROM hookline_deliveries");
      await db.query("DELETE FROM hookline_run_tallies");
      await db.query("DELETE FROM hookline_runs");
      await db.query("DELETE FROM hookline_halted_runs");
    });

    /** Works the jobs as `owner` until the run's job is done. */
    async function finish(owner: string, runId: string) {
      for (let turn = 0; turn < 100; turn++) {
        await runs.runJobs(owner, 5_000);
        if ((await runs.getRun(runId))?.job?.state !== "running") return;
      }
      throw new Error("the send did not finish");
    }

    const perMember = () =>
      db.query<{ customer_id: string; n: number }>(
        "SELECT customer_id, count(*)::int AS n FROM hookline_deliveries GROUP BY customer_id",
      );

    it("writes one delivery per member, in pages, with the context templates read and the run's progress", async () => {
      expect(await fanOut.startFanOut(job())).toEqual({ created: true });
      const started = (await runs.getRun("send_s1"))!;
      expect(started).toMatchObject({
        kind: "segment",
        state: "running",
        job: { state: "running", send: { sendId: "s1", segment: "everyone", webhooks: ["crm"] } },
      });
      await finish("owner-1", "send_s1");

      const rows = await perMember();
      expect(rows).toHaveLength(MEMBERS);
      expect(rows.every((r) => r.n === 1)).toBe(true);
      const run = (await runs.getRun("send_s1"))!;
      expect(run.counts).toMatchObject({ total: MEMBERS, queued: MEMBERS });
      expect(run.job?.state).toBe("done");

      const [one] = await db.query<{
        idempotency_key: string;
        event_id: string;
        event_type: string;
        context: string;
        max_attempts: number;
        traceparent: string;
      }>(
        `SELECT idempotency_key, event_id, event_type, context::text AS context, max_attempts, traceparent
           FROM hookline_deliveries WHERE customer_id = 'm00042'`,
      );
      expect(one).toMatchObject({
        idempotency_key: "s1:m00042:crm",
        event_id: "s1:m00042",
        event_type: "segment",
        max_attempts: 4,
        traceparent: job().traceparent,
      });
      expect(JSON.parse(one!.context)).toEqual({
        event: {
          id: "s1:m00042",
          type: "segment",
          timestamp: "2026-12-07T10:00:00.000Z",
          data: { segment: "everyone", send: "s1" },
        },
        customer: { id: "m00042", n: 42 },
        params: { list: "main" },
      });
      // A send's consent objectives travel in the context, as a publish's do.
      await fanOut.startFanOut(job({ runId: "send_c", sendId: "c", consent: ["email", "sms"] }));
      await finish("owner-1", "send_c");
      const [withConsent] = await db.query<{ consent: string }>(
        "SELECT (context->'consent')::text AS consent FROM hookline_deliveries WHERE event_id = 'c:m00042'",
      );
      expect(JSON.parse(withConsent!.consent)).toEqual([["email", "sms"]]);
      await db.query("DELETE FROM hookline_delivery_state WHERE run_id = 'send_c'");
      await db.query("DELETE FROM hookline_deliveries WHERE run_id = 'send_c'");
      // Marked bulk: a send's deliveries are claimed after due deliveries of events.
      const bulk = await db.query<{ bulk: boolean; n: number }>(
        "SELECT bulk, count(*)::int AS n FROM hookline_delivery_state GROUP BY bulk",
      );
      expect(bulk).toEqual([{ bulk: true, n: MEMBERS }]);
      // What it wrote is claimable like any delivery, under the send's run.
      const claimed = await queue.claim("w", 5, 30_000);
      expect(claimed).toHaveLength(5);
      expect(claimed.every((c) => c.runId === "send_s1" && c.webhook === "crm")).toBe(true);
    });

    it("a send whose job's lease was lost midway is resumed by another process without duplicates", async () => {
      await fanOut.startFanOut(
        job({ webhooks: [job().webhooks[0]!, { ...job().webhooks[0]!, webhook: "erp" }] }),
      );
      // Owner 1 works a few pages, then dies: its lease runs out.
      for (let i = 0; i < 50; i++) {
        await runs.runJobs("owner-1", 20);
        const [n] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM hookline_deliveries");
        if (n!.n > 0) break;
      }
      const [mid] = await db.query<{ n: number; cursor: string }>(
        "SELECT (SELECT count(*)::int FROM hookline_deliveries) AS n, job->>'cursor' AS cursor FROM hookline_runs",
      );
      expect(mid!.n).toBeGreaterThan(0);
      expect(mid!.n).toBeLessThan(2 * MEMBERS);
      expect(mid!.n % (2 * FAN_OUT_PAGE)).toBe(0);
      await db.query("UPDATE hookline_runs SET job_lease_until = now() - interval '1 second'");
      // A page written again (a crash after its writes, before the cursor's: rewound on purpose here)
      // writes nothing twice: each member's key is the send's id, the member and the webhook.
      await db.query(`UPDATE hookline_runs SET job = jsonb_set(job, '{cursor}', '""')`);
      await finish("owner-2", "send_s1");

      const rows = await db.query<{ customer_id: string; webhook: string; n: number }>(
        "SELECT customer_id, webhook, count(*)::int AS n FROM hookline_deliveries GROUP BY 1, 2",
      );
      expect(rows).toHaveLength(2 * MEMBERS);
      expect(rows.every((r) => r.n === 1)).toBe(true);
      const run = (await runs.getRun("send_s1"))!;
      // The tally counts what was written, once: the re-written pages added nothing.
      expect(run.counts.total).toBe(2 * MEMBERS);
      expect(run.webhooks.map((w) => [w.webhook, w.counts.total])).toEqual([
        ["crm", MEMBERS],
        ["erp", MEMBERS],
      ]);
      // Owner 1 back from the dead finds the job taken and done: it writes nothing.
      expect(await runs.runJobs("owner-1", 200)).toBe(0);
    });

    it("the same send started again writes nothing new", async () => {
      await fanOut.startFanOut(job());
      await finish("owner-1", "send_s1");
      expect(await fanOut.startFanOut(job())).toEqual({ created: false });
      // Another run with the same send id (a new run id) finds every key taken.
      expect(await fanOut.startFanOut(job({ runId: "send_s1_again" }))).toEqual({ created: true });
      await finish("owner-1", "send_s1_again");
      const [n] = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM hookline_deliveries");
      expect(n!.n).toBe(MEMBERS);
      expect((await runs.getRun("send_s1_again"))!.counts.total).toBe(0);
    });

    it("writes a halted run's deliveries halted, none of a disabled webhook's, and a long member id's key hashed", async () => {
      const long = "x".repeat(5_000);
      await db.query(
        "INSERT INTO hookline_halted_runs (webhook, run_id, reason) VALUES ('crm', 'send_s1', 'HTTP 410')",
      );
      await db.query(
        "INSERT INTO hookline_webhook_health (webhook, disabled_at, disabled_reason) VALUES ('erp', now(), 'off')",
      );
      await fanOut.startFanOut(
        job({
          members: { sql: "SELECT $1::text AS id, '{}'::jsonb AS customer", params: [long] },
          webhooks: [job().webhooks[0]!, { ...job().webhooks[0]!, webhook: "erp" }],
        }),
      );
      await finish("owner-1", "send_s1");
      const rows = await db.query<{ webhook: string; status: string; key: string }>(
        `SELECT c.webhook, s.status, c.idempotency_key AS key FROM hookline_deliveries c
           JOIN hookline_delivery_state s ON s.id = c.id`,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ webhook: "crm", status: "halted" });
      expect(rows[0]!.key).toMatch(/^s1:sha256:[0-9a-f]{64}:crm$/);
      expect((await runs.getRun("send_s1"))!.counts).toMatchObject({ total: 1, halted: 1, queued: 0 });
    });
  });
}
