// bench:outbound — end-to-end deliveries/s of hookline beside, in the same run on the same machine,
// with the same local keep-alive sink in its own process, 10,000 deliveries enqueued 1,000 per
// statement and 100 in flight:
//   raw_post          a bare undici keep-alive client POSTing to the sink (no queue): the ceiling
//   durable_ceiling   a minimal claim → POST → result + attempt loop written here (bench/outbound/durable-loop.ts)
//   graphile_worker   graphile-worker, a task that POSTs (bench/outbound/graphile.ts)
//   pgboss            pg-boss, a fetch/complete loop (bench/outbound/pgboss.ts)
//   hookline_postgres hookline on the Postgres server, metrics off and no OpenTelemetry SDK;
//   hookline_postgres_otel the same with metrics on (GET /metrics' meter) and a trace SDK registered
//                     (a span per attempt): the cost per delivery of metrics and traces is the
//                     difference; hookline_pglite on PGlite, reported apart
// Each durable leg gets a database of its own; the legs alternate, in a rotated order each round, and
// each figure is the median over the rounds. Per leg: deliveries/s, CPU µs per delivery (this process
// from process.cpuUsage, the sink and the Postgres server from /proc), statements and bytes sent to
// Postgres per delivery (counted on the wire, see bench/lib/pg-wire.ts), WAL bytes per delivery.
// Run: npm run bench:outbound   (TEST_DATABASE_URL or DATABASE_URL names the Postgres server)
// Knobs: BENCH_DELIVERIES (10000), BENCH_ROUNDS (8), BENCH_CEILING_MS (2000), BENCH_LEGS (all, comma
// separated names), BENCH_STORES (pglite,postgres: which hookline stores run).
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pgliteDriver } from "../plugins/pglite/index.ts";
import { postgresDriver } from "../plugins/postgres/index.ts";
import { type Figures, median, meter } from "./lib/meter.ts";
import { countPostgresWire } from "./lib/pg-wire.ts";
import {
  adminConnection,
  dropLeftovers,
  scratchDatabase,
  serverUrl,
  statementStatsLoaded,
} from "./lib/postgres-server.ts";
import { startSink } from "./lib/sink.ts";
import { durableLoop } from "./outbound/durable-loop.ts";
import { graphileWorker } from "./outbound/graphile.ts";
import { hooklineLeg, publishRates } from "./outbound/hookline.ts";
import type { BenchLeg } from "./outbound/leg.ts";
import { otelCost } from "./outbound/otel-cost.ts";
import { pgBoss } from "./outbound/pgboss.ts";
import { rawPost } from "./outbound/raw-post.ts";
import { IN_FLIGHT } from "./outbound/work.ts";

const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const CEILING_MS = Number(process.env.BENCH_CEILING_MS ?? 2_000);
const stores = (process.env.BENCH_STORES ?? "pglite,postgres").split(",");
const server = serverUrl();

const hooklinePostgres = hooklineLeg("hookline_postgres", {
  durable: true,
  open: async ({ database }) => postgresDriver({ url: database!.url, max: 10 }),
});
const hooklinePostgresOtel = hooklineLeg("hookline_postgres_otel", {
  durable: true,
  telemetry: true,
  open: async ({ database }) => postgresDriver({ url: database!.url, max: 10 }),
});
const hooklinePglite = hooklineLeg("hookline_pglite", {
  durable: false,
  open: async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookline-bench-"));
    const driver = await pgliteDriver({ dataDir: dir });
    return {
      ...driver,
      close: async () => {
        await driver.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  },
});

let legs: BenchLeg[] = [rawPost(CEILING_MS)];
if (server) legs.push(durableLoop, graphileWorker, pgBoss);
if (server && stores.includes("postgres")) legs.push(hooklinePostgres, hooklinePostgresOtel);
if (process.env.BENCH_LEGS) {
  const wanted = process.env.BENCH_LEGS.split(",");
  legs = legs.filter((l) => wanted.includes(l.name));
}

const sink = await startSink();
const admin = server ? adminConnection(server) : undefined;
const wire = countPostgresWire(server ? Number(new URL(server).port || 5432) : 5432);
const results = new Map<string, Figures[]>();
const problems: string[] = [];

async function measure(leg: BenchLeg, round: number): Promise<void> {
  const database = leg.durable && admin ? await scratchDatabase(admin, server!, leg.name) : undefined;
  try {
    const prepared = await leg.prepare({ sink, database, deliveries: DELIVERIES, run: `r${round}` });
    try {
      const m = await meter({
        sinkPid: sink.pid,
        server: database && admin ? { admin, database: database.name, wire } : undefined,
      });
      const count = await prepared.run();
      const figures = await m.stop(count);
      const problem = await prepared.verify?.();
      if (problem) problems.push(`${leg.name} round ${round}: ${problem}`);
      results.set(leg.name, [...(results.get(leg.name) ?? []), figures]);
    } finally {
      await prepared.close();
    }
  } finally {
    await database?.drop();
  }
}

const mid = (name: string, pick: (f: Figures) => number | undefined): number => {
  const xs = (results.get(name) ?? []).map(pick).filter((x): x is number => x !== undefined);
  return xs.length > 0 ? median(xs) : Number.NaN;
};
const rate = (name: string) => mid(name, (f) => f.rate);

function report(name: string, unit: string): void {
  if (!results.has(name)) return;
  const runs = results.get(name)!;
  console.log(`${name}_${unit}_per_s: ${rate(name).toFixed(0)}`);
  console.log(`${name}_runs: ${runs.map((f) => f.rate.toFixed(0)).join(" ")}`);
  const cpu = [`app ${mid(name, (f) => f.appCpuUs).toFixed(0)}`];
  if (runs[0]!.postgresCpuUs !== undefined)
    cpu.push(`postgres ${mid(name, (f) => f.postgresCpuUs).toFixed(0)}`);
  cpu.push(`sink ${mid(name, (f) => f.sinkCpuUs).toFixed(0)}`);
  console.log(`${name}_cpu_us_per_${unit === "posts" ? "post" : "delivery"}: ${cpu.join(", ")}`);
  if (runs[0]!.statements === undefined) return;
  console.log(`${name}_statements_per_delivery: ${mid(name, (f) => f.statements).toFixed(3)}`);
  console.log(`${name}_bytes_to_postgres_per_delivery: ${mid(name, (f) => f.wireBytes).toFixed(0)}`);
  console.log(`${name}_wal_bytes_per_delivery: ${mid(name, (f) => f.walBytes).toFixed(0)}`);
}

const started = performance.now();
const loadBefore = loadavg()[0]!;
try {
  if (admin) await dropLeftovers(admin);
  const warm = await rawPost(500).prepare({ sink, deliveries: 0, run: "warm" });
  await warm.run();
  await warm.close();
  for (let round = 0; round < ROUNDS; round++)
    for (let i = 0; i < legs.length; i++) await measure(legs[(i + round) % legs.length]!, round);
  if (stores.includes("pglite") && (!process.env.BENCH_LEGS || process.env.BENCH_LEGS.includes("pglite")))
    await measure(hooklinePglite, 0);

  console.log(`deliveries: ${DELIVERIES}`);
  console.log(`in_flight: ${IN_FLIGHT}`);
  console.log(`rounds: ${ROUNDS} (legs alternating; medians)`);
  if (admin)
    console.log(
      `statements_counted: on the wire${(await statementStatsLoaded(admin)) ? "" : " (pg_stat_statements is not loaded on this server)"}`,
    );
  report("raw_post", "posts");
  report("durable_ceiling", "deliveries");
  report("graphile_worker", "deliveries");
  report("pgboss", "deliveries");
  report("hookline_postgres", "deliveries");
  if (publishRates.hookline_postgres)
    console.log(
      `hookline_postgres_publish_events_per_s: ${median(publishRates.hookline_postgres).toFixed(0)}`,
    );
  report("hookline_postgres_otel", "deliveries");
  if (publishRates.hookline_postgres_otel)
    console.log(
      `hookline_postgres_otel_publish_events_per_s: ${median(publishRates.hookline_postgres_otel).toFixed(0)}`,
    );
  // What metrics and traces cost: this process's CPU per delivery, with them on less with them off.
  const otelCpu =
    mid("hookline_postgres_otel", (f) => f.appCpuUs) - mid("hookline_postgres", (f) => f.appCpuUs);
  if (Number.isFinite(otelCpu)) console.log(`otel_cost_app_cpu_us_per_delivery: ${otelCpu.toFixed(1)}`);
  if (legs.includes(hooklinePostgresOtel)) {
    // The same cost without the machine's noise: the engine's telemetry calls per delivery, timed alone.
    const calls = await otelCost();
    console.log(
      `otel_calls_us_per_delivery: on ${calls.on.toFixed(2)}, off ${calls.off.toFixed(2)} (span, counters, histogram)`,
    );
  }
  report("hookline_pglite", "deliveries");
  if (publishRates.hookline_pglite)
    console.log(`hookline_pglite_publish_events_per_s: ${median(publishRates.hookline_pglite).toFixed(0)}`);
  if (!server) console.log("postgres: not measured (set TEST_DATABASE_URL or DATABASE_URL)");
  const hook = rate("hookline_postgres");
  const ratio = (label: string, a: number, b: number) => {
    if (Number.isFinite(a) && Number.isFinite(b)) console.log(`${label}: ${(a / b).toFixed(2)}`);
  };
  ratio("ratio_pglite", rate("hookline_pglite"), rate("raw_post"));
  ratio("ratio_durable_ceiling", rate("durable_ceiling"), rate("raw_post"));
  ratio("ratio_vs_graphile", hook, rate("graphile_worker"));
  ratio("ratio_vs_pgboss", hook, rate("pgboss"));
  ratio("ratio_vs_durable_ceiling", hook, rate("durable_ceiling"));
  ratio("ratio_otel_vs_plain", rate("hookline_postgres_otel"), hook);
  // The headline: hookline on the Postgres server ÷ raw POSTs.
  ratio("ratio", hook, rate("raw_post"));
  console.log(`bench_seconds: ${((performance.now() - started) / 1000).toFixed(0)}`);
  // Other work on the machine (tests, builds) moves every figure: the 1-minute load says how much.
  console.log(`load_average_1m: ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`);
  for (const p of problems) console.error(`problem: ${p}`);
  if (problems.length > 0) process.exitCode = 1;
} finally {
  sink.stop();
  await admin?.end();
}
