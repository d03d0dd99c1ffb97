// "The durable ceiling": the least a durable webhook sender must do per delivery, written in the bench
// — a job row written 1,000 per statement, claimed in batches (`FOR UPDATE SKIP LOCKED` walking a
// due index), POSTed, and its result recorded with an attempt row (status, duration), many results per
// statement. Claims skip the WAL flush (a lost claim is claimed again after its lease, as in hookline);
// enqueues and results wait for it. A lease-expiry index is kept, so that a timer could reclaim.
import postgresJs from "postgres";
import type { BenchLeg } from "./leg.ts";
import {
  type BenchEvent,
  benchEvents,
  ClaimLoop,
  ENQUEUE_CHUNK,
  type SendResult,
  sinkClient,
} from "./work.ts";

const SCHEMA = `
CREATE TABLE jobs (
  id bigserial PRIMARY KEY,
  payload jsonb NOT NULL,
  status smallint NOT NULL DEFAULT 0, -- 0 due, 1 leased, 2 sent, 3 failed
  run_at timestamptz NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  lease_until timestamptz,
  last_status integer
);
CREATE INDEX jobs_due ON jobs (run_at, id) WHERE status = 0;
CREATE INDEX jobs_leased ON jobs (lease_until) WHERE status = 1;
CREATE TABLE attempts (
  job_id bigint NOT NULL,
  number integer NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  status integer,
  duration_ms integer NOT NULL,
  PRIMARY KEY (job_id, number)
);`;

interface Job {
  id: string;
  attempts: number;
  payload: BenchEvent;
}

export const durableLoop: BenchLeg = {
  name: "durable_ceiling",
  durable: true,
  async prepare({ sink, database, deliveries, run }) {
    const sql = postgresJs(database!.url, { max: 2, onnotice: () => {} });
    const claims = postgresJs(database!.url, {
      max: 1,
      onnotice: () => {},
      connection: { synchronous_commit: "off" },
    });
    await sql.unsafe(SCHEMA);
    const client = sinkClient(sink.url);
    const loop = new ClaimLoop<Job, SendResult & { job: Job }>({
      claim: (n) =>
        claims<Job[]>`
          UPDATE jobs j SET status = 1, attempts = j.attempts + 1, lease_until = now() + interval '60 seconds'
            FROM (SELECT id FROM jobs WHERE status = 0 AND run_at <= now()
                   ORDER BY run_at, id LIMIT ${n} FOR UPDATE SKIP LOCKED) c
           WHERE j.id = c.id
          RETURNING j.id, j.attempts, j.payload`,
      work: async (job) => {
        try {
          return { job, ...(await client.send(job.payload)) };
        } catch {
          return { job, status: 0, ms: 0 };
        }
      },
      record: async (rs) => {
        await sql`
          WITH r AS (
            SELECT * FROM unnest(${rs.map((r) => r.job.id)}::bigint[], ${rs.map((r) => r.job.attempts)}::int[],
                                 ${rs.map((r) => r.status)}::int[], ${rs.map((r) => Math.round(r.ms))}::int[])
                     AS r(id, attempt, code, ms)
          ), done AS (
            UPDATE jobs j SET status = CASE WHEN r.code BETWEEN 200 AND 299 THEN 2 ELSE 3 END,
                              lease_until = NULL, last_status = r.code
              FROM r WHERE j.id = r.id
          )
          INSERT INTO attempts (job_id, number, status, duration_ms) SELECT id, attempt, code, ms FROM r`;
      },
    });
    return {
      async run() {
        loop.start();
        for (let i = 0; i < deliveries; i += ENQUEUE_CHUNK) {
          const events = benchEvents(i, Math.min(ENQUEUE_CHUNK, deliveries - i), run);
          await sql`INSERT INTO jobs (payload) SELECT value FROM jsonb_array_elements(${JSON.stringify(events)}::text::jsonb)`;
          loop.wake();
        }
        await loop.recordedAtLeast(deliveries);
        await loop.stop();
        return deliveries;
      },
      async verify() {
        const [row] = await sql<
          { sent: string }[]
        >`SELECT count(*) FILTER (WHERE status = 2) AS sent FROM jobs`;
        return Number(row!.sent) === deliveries ? undefined : `${row!.sent} of ${deliveries} sent`;
      },
      async close() {
        await client.close();
        await claims.end({ timeout: 5 });
        await sql.end({ timeout: 5 });
      },
    };
  },
};
