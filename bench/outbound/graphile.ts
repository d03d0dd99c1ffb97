// graphile-worker doing the same work per job: a task that renders the body and POSTs it to the sink,
// its runner in this process with 100 jobs at once. Its fastest documented settings for many short
// jobs are on: a local queue (jobs fetched and locked 500 at a time by the pool, not one per worker)
// and batched completion (`completeJobBatchDelay: 0`: completions that arrive together are one
// statement). A completed job is deleted; there is no attempt log. Jobs are added with `addJobs`,
// 1,000 per call (one statement); the runner hears of them by LISTEN/NOTIFY.
import { Logger, makeWorkerUtils, run } from "graphile-worker";
import pg from "pg";
import type { BenchLeg } from "./leg.ts";
import { type BenchEvent, benchEvents, ENQUEUE_CHUNK, IN_FLIGHT, sinkClient } from "./work.ts";

const silent = new Logger(() => () => {});

export const graphileWorker: BenchLeg = {
  name: "graphile_worker",
  durable: true,
  async prepare({ sink, database, deliveries, run: runId }) {
    const pgPool = new pg.Pool({ connectionString: database!.url, max: 10 });
    // Dropping the leg's database ends any connection left (57P01): not an error of the run.
    const onError = (e: Error & { code?: string }) => e.code !== "57P01" && console.error("pg:", e.message);
    pgPool.on("error", onError);
    pgPool.on("connect", (client) => client.on("error", onError));
    const utils = await makeWorkerUtils({ pgPool, logger: silent });
    await utils.migrate();
    const client = sinkClient(sink.url);
    let done = 0;
    let allDone: () => void = () => {};
    const finished = new Promise<void>((r) => {
      allDone = r;
    });
    return {
      async run() {
        const runner = await run({
          pgPool,
          logger: silent,
          concurrency: IN_FLIGHT,
          noHandleSignals: true,
          pollInterval: 1000,
          preset: {
            worker: {
              localQueue: { size: Number(process.env.BENCH_GRAPHILE_LOCAL_QUEUE ?? 500) },
              completeJobBatchDelay: Number(process.env.BENCH_GRAPHILE_COMPLETE_DELAY ?? 0),
            },
          },
          taskList: {
            post: async (payload) => {
              const r = await client.send(payload as BenchEvent);
              if (r.status < 200 || r.status > 299) throw new Error(`sink answered ${r.status}`);
              if (++done === deliveries) allDone();
            },
          },
        });
        for (let i = 0; i < deliveries; i += ENQUEUE_CHUNK) {
          const events = benchEvents(i, Math.min(ENQUEUE_CHUNK, deliveries - i), runId);
          await utils.addJobs(events.map((payload) => ({ identifier: "post", payload })));
        }
        await finished;
        // Stopping flushes the completions still waiting to be batched: they are part of the work.
        await runner.stop();
        return deliveries;
      },
      async verify() {
        const { rows } = await pgPool.query("SELECT count(*)::int AS n FROM graphile_worker.jobs");
        return rows[0].n === 0 && done === deliveries
          ? undefined
          : `${rows[0].n} jobs left, ${done} of ${deliveries} sent`;
      },
      async close() {
        await client.close();
        await utils.release();
        await pgPool.end();
      },
    };
  },
};
