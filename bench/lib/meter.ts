// What one timed window cost, per unit of work: wall time, CPU of this process, of the sink and of the
// Postgres server (for one database), statements and bytes sent to Postgres, and WAL written.
import type { WireCounts } from "./pg-wire.ts";
import {
  cpuSeconds,
  postgresCpu,
  type Sql,
  serverCpuFor,
  walBytesSince,
  walPosition,
} from "./postgres-server.ts";

export interface Figures {
  count: number;
  seconds: number;
  rate: number;
  /** CPU µs per unit: this process (its every thread, PGlite included), the sink, the Postgres server. */
  appCpuUs: number;
  sinkCpuUs: number;
  postgresCpuUs?: number;
  statements?: number;
  wireBytes?: number;
  walBytes?: number;
}

export interface MeterOptions {
  sinkPid: number;
  /** The Postgres server and the leg's database; without them only time and process CPU are measured. */
  server?: { admin: Sql; database: string; wire: { read(): WireCounts } };
}

/**
 * Starts a window; `stop(count)` ends it and gives the figures. Read what is cheap (time, own CPU, wire
 * counts) at the edges and ask the server (WAL, its backends' pids) just outside them.
 *
 * @example const m = await meter(o); await work(); const f = await m.stop(10_000);
 */
export async function meter(o: MeterOptions): Promise<{ stop(count: number): Promise<Figures> }> {
  const wal = o.server ? await walPosition(o.server.admin) : undefined;
  const pgBefore = o.server ? postgresCpu() : undefined;
  const wireBefore = o.server?.wire.read();
  const sinkBefore = cpuSeconds(o.sinkPid);
  const appBefore = process.cpuUsage();
  const t0 = performance.now();
  return {
    async stop(count) {
      const seconds = (performance.now() - t0) / 1000;
      const app = process.cpuUsage(appBefore);
      const sink = cpuSeconds(o.sinkPid) - sinkBefore;
      const wireAfter = o.server?.wire.read();
      const pgAfter = o.server ? postgresCpu() : undefined;
      const per = (x: number) => x / count;
      const figures: Figures = {
        count,
        seconds,
        rate: count / seconds,
        appCpuUs: per(app.user + app.system),
        sinkCpuUs: per(sink * 1e6),
      };
      if (o.server && wal && pgBefore && pgAfter && wireBefore && wireAfter) {
        figures.postgresCpuUs = per(
          (await serverCpuFor(o.server.admin, o.server.database, pgBefore, pgAfter)) * 1e6,
        );
        figures.walBytes = per(await walBytesSince(o.server.admin, wal));
        figures.statements = per(wireAfter.statements - wireBefore.statements);
        figures.wireBytes = per(wireAfter.bytes - wireBefore.bytes);
      }
      return figures;
    },
  };
}

/** The median of some numbers (the upper one of an even count). */
export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
