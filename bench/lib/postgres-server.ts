// The Postgres server the benchmarks run against: scratch databases (one per leg and run, so that no
// leg sees another's tables), and what the server spent — its CPU from /proc and its WAL.
import { readdirSync, readFileSync } from "node:fs";
import postgresJs from "postgres";

export type Sql = ReturnType<typeof postgresJs>;

/** The server's URL from TEST_DATABASE_URL or DATABASE_URL; undefined when neither is set. */
export const serverUrl = (): string | undefined => process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL;

/** A connection to the server's own database, for creating and dropping scratch databases. */
export const adminConnection = (url: string): Sql => postgresJs(url, { max: 1, onnotice: () => {} });

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/**
 * A database of its own for one leg: created empty, dropped (with any connections left) by `drop`.
 *
 * @example const db = await scratchDatabase(admin, server, "durable"); … ; await db.drop();
 */
export async function scratchDatabase(admin: Sql, server: string, label: string): Promise<ScratchDatabase> {
  const name = `${SCRATCH_PREFIX}${process.pid}_${label}_${Date.now()}`;
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const u = new URL(server);
  u.pathname = `/${name}`;
  return {
    name,
    url: u.toString(),
    drop: () => admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).then(() => {}),
  };
}

const SCRATCH_PREFIX = "hlbench_";

/**
 * Drops scratch databases that a bench killed before its `finally` left behind: those whose process
 * (its pid is in the name) is gone. Another bench running now keeps its own.
 */
export async function dropLeftovers(admin: Sql): Promise<void> {
  const rows = await admin.unsafe<{ datname: string }[]>(
    "SELECT datname FROM pg_database WHERE datname LIKE $1",
    [`${SCRATCH_PREFIX}%`],
  );
  for (const { datname } of rows) {
    const pid = Number(datname.slice(SCRATCH_PREFIX.length).split("_")[0]);
    if (pid === process.pid || alive(pid)) continue;
    await admin.unsafe(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether pg_stat_statements is loaded on the server (it needs shared_preload_libraries). */
export async function statementStatsLoaded(admin: Sql): Promise<boolean> {
  const [row] = await admin.unsafe<{ libs: string }[]>(
    "SELECT current_setting('shared_preload_libraries') AS libs",
  );
  return /\bpg_stat_statements\b/.test(row!.libs);
}

/** The server's current WAL position (compare two with `walBytesSince`). */
export async function walPosition(admin: Sql): Promise<string> {
  const [row] = await admin.unsafe<{ lsn: string }[]>("SELECT pg_current_wal_lsn()::text AS lsn");
  return row!.lsn;
}

/** WAL bytes written since `from`, server-wide (other databases' writes count too). */
export async function walBytesSince(admin: Sql, from: string): Promise<number> {
  const [row] = await admin.unsafe<{ n: string }[]>(
    "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::pg_lsn)::text AS n",
    [from],
  );
  return Number(row!.n);
}

/** CPU seconds (user + system) a process has used, from /proc (Linux); NaN elsewhere or once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds of every local Postgres process now, by pid. */
export function postgresCpu(): Map<number, number> {
  const cpu = new Map<number, number>();
  try {
    for (const d of readdirSync("/proc")) {
      if (!/^\d+$/.test(d)) continue;
      try {
        if (readFileSync(`/proc/${d}/comm`, "utf8").startsWith("postgres"))
          cpu.set(Number(d), cpuSeconds(Number(d)));
      } catch {}
    }
  } catch {}
  return cpu;
}

/**
 * The CPU seconds the server spent for one database between two snapshots: its backends and
 * autovacuum workers (those still there when asked) and the server's own processes (WAL writer,
 * checkpointer …), not other databases' — other people's tests, or an earlier leg's autovacuum.
 */
export async function serverCpuFor(
  admin: Sql,
  database: string,
  before: Map<number, number>,
  after: Map<number, number>,
): Promise<number> {
  const rows = await admin.unsafe<{ pid: number }[]>(
    "SELECT pid FROM pg_stat_activity WHERE datname = $1 OR (datname IS NULL AND backend_type <> 'client backend')",
    [database],
  );
  let total = 0;
  for (const { pid } of rows) {
    const end = after.get(pid);
    if (end === undefined || Number.isNaN(end)) continue;
    total += end - (before.get(pid) ?? 0);
  }
  return total;
}
