// One system under test in bench:outbound. `prepare` does everything that is not timed (a database,
// migrations, a pool, workers made); `run` is the timed window: enqueue every delivery 1,000 per
// statement while the workers send and record them, and return once all are recorded.
import type { ScratchDatabase } from "../lib/postgres-server.ts";
import type { Sink } from "../lib/sink.ts";

export interface LegContext {
  sink: Sink;
  /** The leg's own database on the Postgres server (absent for legs that need none). */
  database?: ScratchDatabase;
  deliveries: number;
  /** Distinguishes this run's events (ids, idempotency keys). */
  run: string;
}

export interface PreparedLeg {
  /** Timed: returns how many deliveries were done. */
  run(): Promise<number>;
  /** After the window: undefined when every delivery was sent once and recorded, else what is wrong. */
  verify?(): Promise<string | undefined>;
  close(): Promise<void>;
}

export interface BenchLeg {
  name: string;
  /** Whether it keeps its queue in Postgres (and so needs a scratch database there). */
  durable?: boolean;
  prepare(context: LegContext): Promise<PreparedLeg>;
}
