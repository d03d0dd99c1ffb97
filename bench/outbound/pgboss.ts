// pg-boss doing the same work per job. Its fastest idiomatic way here is a fetch/complete loop: fetch
// (`batchSize`: as many as there are free slots) → POST each → complete the ids in batches. `work()`
// with a batch waits at least `pollingIntervalSeconds` (0.5 s) between fetches and sends ~200/s. The
// loop is the same one the durable ceiling uses (bench/outbound/work.ts), woken by this process's
// inserts; jobs are inserted with `insert`, 1,000 per call (one statement). Supervision (maintenance)
// and cron scheduling are off so that no background statement lands in the window; a completed job
// stays in its table (state `completed`), which is pg-boss's record of it.
import PgBoss from "pg-boss";
import type { BenchLeg } from "./leg.ts";
import {
  type BenchEvent,
  benchEvents,
  ClaimLoop,
  ENQUEUE_CHUNK,
  type SendResult,
  sinkClient,
} from "./work.ts";

const QUEUE = "post";

export const pgBoss: BenchLeg = {
  name: "pgboss",
  durable: true,
  async prepare({ sink, database, deliveries, run }) {
    const boss = new PgBoss({ connectionString: database!.url, max: 10, supervise: false, schedule: false });
    // Dropping the leg's database ends any connection left (57P01): not an error of the run.
    boss.on(
      "error",
      (e: Error & { code?: string }) => e.code !== "57P01" && console.error("pg-boss:", e.message),
    );
    await boss.start();
    await boss.createQueue(QUEUE);
    const client = sinkClient(sink.url);
    const loop = new ClaimLoop<PgBoss.Job<BenchEvent>, SendResult & { id: string }>({
      claim: (n) => boss.fetch<BenchEvent>(QUEUE, { batchSize: n }),
      work: async (job) => {
        try {
          return { id: job.id, ...(await client.send(job.data)) };
        } catch {
          return { id: job.id, status: 0, ms: 0 };
        }
      },
      record: async (rs) => {
        const ok = rs.filter((r) => r.status >= 200 && r.status <= 299).map((r) => r.id);
        const failed = rs.filter((r) => r.status < 200 || r.status > 299).map((r) => r.id);
        if (ok.length > 0) await boss.complete(QUEUE, ok);
        if (failed.length > 0) await boss.fail(QUEUE, failed);
      },
    });
    return {
      async run() {
        loop.start();
        for (let i = 0; i < deliveries; i += ENQUEUE_CHUNK) {
          const events = benchEvents(i, Math.min(ENQUEUE_CHUNK, deliveries - i), run);
          await boss.insert(events.map((data) => ({ name: QUEUE, data })));
          loop.wake();
        }
        await loop.recordedAtLeast(deliveries);
        await loop.stop();
        return deliveries;
      },
      async verify() {
        const size = await boss.getQueueSize(QUEUE, { before: "completed" });
        return size === 0 && loop.recorded === deliveries ? undefined : `${size} jobs not completed`;
      },
      async close() {
        await client.close();
        await boss.stop({ graceful: false, wait: true });
      },
    };
  },
};
