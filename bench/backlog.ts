// bench:backlog — hookline's claim-and-deliver rate with 10k, 100k and 1M deliveries pending on the
// Postgres server, and with 1M pending among 1k ordered streams and a paused webhook; flat is the goal
// (`ratio_1m_10k`: the rate at 1M ÷ the rate at 10k). Each backlog gets a database of its own,
// hookline's migrations, and its deliveries seeded in one INSERT … SELECT generate_series into
// hookline's own table (then VACUUM ANALYZE and a CHECKPOINT, so that the windows see the claim, not
// the seed's aftermath). A window: a fresh `createHookline` worker (100 in flight, no auth, a ~60 B
// body) drains the backlog to the local sink in its own process; after 1,000 deliveries to warm up,
// the next BENCH_MEASURED (5,000) are timed, counted by the sink. Windows alternate between the
// backlogs for BENCH_ROUNDS (5) rounds; a backlog drained by 5 % is topped up; figures are medians.
// Run: npm run bench:backlog   (TEST_DATABASE_URL or DATABASE_URL names the Postgres server)
// Knobs: BENCH_BACKLOGS (10000,100000,1000000), BENCH_MEASURED, BENCH_ROUNDS, BENCH_ORDERED (1: also
// the ordered-and-paused variant at the largest backlog; 0: not).
//
// The seed writes the columns of core/store/migrations.ts (1–7: before the redesign of issue 13 and
// with its ordered streams' heads): a store that changes them again (a narrow state table …) changes
// `seed` below with it, so that the same backlog is measured before and after.
import { loadavg } from "node:os";
import { nodeTransportPlugin } from "../adapters/node/runtime.ts";
import { createHookline } from "../core/app.ts";
import type { SqlDriver } from "../core/contracts/store.ts";
import { Tokens } from "../core/tokens.ts";
import { eta } from "../plugins/eta/index.ts";
import { postgresDriver } from "../plugins/postgres/index.ts";
import { type Figures, median, meter } from "./lib/meter.ts";
import { countPostgresWire } from "./lib/pg-wire.ts";
import {
  adminConnection,
  dropLeftovers,
  type ScratchDatabase,
  scratchDatabase,
  serverUrl,
} from "./lib/postgres-server.ts";
import { startSink } from "./lib/sink.ts";

const server = serverUrl();
if (!server) {
  console.error("bench:backlog needs a Postgres server: set TEST_DATABASE_URL or DATABASE_URL");
  process.exit(2);
}
const SIZES = (process.env.BENCH_BACKLOGS ?? "10000,100000,1000000").split(",").map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const MEASURED = Number(process.env.BENCH_MEASURED ?? 5_000);
const WARM_UP = 1_000;
const ORDERED = process.env.BENCH_ORDERED !== "0";
const STREAMS = 1_000;
const IN_FLIGHT = 100;

const config = (url: string) => `
engine: { concurrency: ${IN_FLIGHT}, pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
webhooks:
  contact: { url: ${url}/hooks/contact, body: '{"n": <%= it.event.data.n %>, "email": <%= json(it.customer.email) %>}' }
  ordered:
    url: ${url}/hooks/ordered
    orderingKey: '<%= it.customer.id %>'
    body: '{"n": <%= it.event.data.n %>, "email": <%= json(it.customer.email) %>}'
  paused: { url: ${url}/hooks/paused, body: '{"n": <%= it.event.data.n %>}' }
`;

/**
 * Seeds due deliveries `from` … `to` as the outbox would have written them (pending, never attempted, in
 * seq order). Plain: all of webhook `contact`. Ordered: of every ten, five go to `ordered` over 1k
 * streams, one to `paused` (a paused webhook: its deliveries sit in the due index), four to `contact`.
 */
async function seed(url: string, from: number, to: number, ordered: boolean): Promise<void> {
  const first = from === 1;
  const sql = adminConnection(url);
  const webhook = ordered
    ? "CASE WHEN g % 10 < 5 THEN 'ordered' WHEN g % 10 = 5 THEN 'paused' ELSE 'contact' END"
    : "'contact'";
  const stream = `'c-' || ((g / 10) % ${STREAMS})`;
  const orderingKey = ordered ? `CASE WHEN g % 10 < 5 THEN ${stream} END` : "NULL";
  const customer = ordered ? `CASE WHEN g % 10 < 5 THEN ${stream} ELSE 'c-' || g END` : "'c-' || g";
  try {
    // From migration 10 on (issue 13) a delivery is its content and a narrow state row.
    const [narrow] = await sql.unsafe("SELECT 1 FROM hookline_migrations WHERE id = 'core:10'");
    const due = "now() - interval '1 minute'";
    await sql.unsafe(`
      INSERT INTO hookline_deliveries (id, webhook, idempotency_key, run_id, event_id, event_type, customer_id, context,
                                       max_attempts, ordering_key${narrow ? "" : ", status, next_at"})
      SELECT gen_random_uuid(), w.webhook, 'evt-' || g || ':' || w.webhook, 'run_seed', 'evt-' || g, 'signup', w.customer,
             jsonb_build_object(
               'event', jsonb_build_object('id', 'evt-' || g, 'type', 'signup', 'data', jsonb_build_object('n', g),
                                           'timestamp', to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
               'customer', jsonb_build_object('id', w.customer, 'email', 'user' || g || '@example.com'),
               'params', '{}'::jsonb),
             10, w.ordering_key${narrow ? "" : `, 'pending', ${due}`}
        FROM generate_series(${from}, ${to}) g
        CROSS JOIN LATERAL (SELECT ${webhook} AS webhook, ${orderingKey} AS ordering_key, ${customer} AS customer) w`);
    if (narrow)
      await sql.unsafe(`
        INSERT INTO hookline_delivery_state (id, seq, webhook, run_id, ordering_key, max_attempts, next_at)
        SELECT id, seq, webhook, run_id, ordering_key, max_attempts, ${due} FROM hookline_deliveries
         WHERE seq > (SELECT coalesce(max(seq), 0) FROM hookline_delivery_state) ORDER BY seq`);
    const states = narrow ? "hookline_delivery_state" : "hookline_deliveries";
    if (ordered && first)
      await sql.unsafe(
        "INSERT INTO hookline_webhook_health (webhook, failing_since, paused_at, reason) VALUES ('paused', now(), now(), 'bench: paused')",
      );
    // From migration 7 on (issue 13) only an ordered stream's head is pending; those behind it wait. The
    // same statement the migrator runs after migrations (NORMALIZE_STREAMS, core/store/streams.ts).
    const [streams] = await sql.unsafe("SELECT 1 FROM hookline_migrations WHERE id = 'core:7'");
    if (ordered && streams)
      await sql.unsafe(`UPDATE ${states} d SET status = 'waiting'
        WHERE d.ordering_key IS NOT NULL AND d.status = 'pending'
          AND EXISTS (SELECT 1 FROM ${states} e
                       WHERE e.webhook = d.webhook AND e.ordering_key = d.ordering_key
                         AND e.status IN ('pending', 'in_flight', 'paused') AND (e.seq < d.seq OR e.status <> 'pending'))`);
    // The first seed is vacuumed and checkpointed so that no window pays for it; a top-up is left to
    // autovacuum, as a running system's would be (a checkpoint before every window would charge each
    // window a full-page image for every page it first touches).
    if (!first) return;
    await sql.unsafe("VACUUM ANALYZE hookline_deliveries");
    if (narrow) await sql.unsafe("VACUUM ANALYZE hookline_delivery_state");
    await sql.unsafe("CHECKPOINT");
  } finally {
    await sql.end();
  }
}

const hookline = (driver: SqlDriver, url: string) =>
  createHookline({
    config: { text: config(url), file: "backlog.yaml" },
    plugins: [
      eta(),
      nodeTransportPlugin(),
      {
        name: "bench-store",
        register: (c) => c.register(Tokens.SqlDriver, { useValue: { ...driver, close: async () => {} } }),
      },
    ],
  });

interface Backlog {
  name: string;
  size: number;
  ordered: boolean;
  database: ScratchDatabase;
  /** The last `g` seeded, and deliveries drained since the backlog was last topped up. */
  seeded: number;
  drained: number;
  report: boolean;
}

/**
 * One window: a fresh app (its own connections) starts draining the backlog; after WARM_UP deliveries
 * the next MEASURED are timed; then it stops. Returns the figures and how many it sent in all.
 */
async function drain(b: Backlog): Promise<{ figures: Figures; sent: number }> {
  const driver = postgresDriver({ url: b.database.url, max: 10 });
  try {
    const app = await hookline(driver, sink.url);
    const start = await sink.count();
    await app.start();
    await sink.reach(start + WARM_UP);
    const m = await meter({ sinkPid: sink.pid, server: { admin, database: b.database.name, wire } });
    const c0 = await sink.count();
    await sink.reach(c0 + MEASURED);
    const figures = await m.stop((await sink.count()) - c0);
    await app.stop(10_000);
    return { figures, sent: (await sink.count()) - start };
  } finally {
    await driver.close();
  }
}

/** Tops a backlog back up to its size once a window has drained 5 % of it (only the small ones). */
async function topUp(b: Backlog): Promise<void> {
  if (b.drained < b.size * 0.05) return;
  await seed(b.database.url, b.seeded + 1, b.seeded + b.drained, b.ordered);
  b.seeded += b.drained;
  b.drained = 0;
}

if (Math.min(...SIZES) < 1.5 * (WARM_UP + MEASURED)) {
  console.error(
    `bench:backlog: every backlog must hold at least 1.5 × ${WARM_UP + MEASURED} deliveries (a window's worth)`,
  );
  process.exit(2);
}

const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}m` : `${n / 1_000}k`);

const sink = await startSink();
const admin = adminConnection(server);
const wire = countPostgresWire(Number(new URL(server).port || 5432));
const results = new Map<string, Figures[]>();
const backlogs: Backlog[] = [];
const started = performance.now();
const loadBefore = loadavg()[0]!;
try {
  await dropLeftovers(admin);
  // The first backlog, unreported, warms this process up (JIT, connections).
  const plan = [{ size: 3 * (WARM_UP + MEASURED), ordered: false, report: false }];
  plan.push(...SIZES.map((size) => ({ size, ordered: false, report: true })));
  if (ORDERED) plan.push({ size: Math.max(...SIZES), ordered: true, report: true });
  for (const p of plan) {
    const name = `${label(p.size)}${p.ordered ? "_ordered_paused" : ""}`;
    const database = await scratchDatabase(admin, server, `backlog_${name}`);
    backlogs.push({ ...p, name, database, seeded: p.size, drained: 0 });
    const driver = postgresDriver({ url: database.url, max: 2 });
    await (await hookline(driver, sink.url)).stop(0); // migrations
    await driver.close();
    const t0 = performance.now();
    await seed(database.url, 1, p.size, p.ordered);
    console.log(`seed_seconds_${name}: ${((performance.now() - t0) / 1000).toFixed(1)}`);
  }
  // Windows alternate between the backlogs, round after round; each figure is the median.
  for (let round = 0; round < (ROUNDS > 0 ? ROUNDS : 1); round++) {
    for (const b of backlogs) {
      if (!b.report && round > 0) continue;
      const { figures, sent } = await drain(b);
      b.drained += sent;
      await topUp(b);
      if (b.report) results.set(b.name, [...(results.get(b.name) ?? []), figures]);
    }
  }
  const mid = (name: string, pick: (f: Figures) => number) => median((results.get(name) ?? []).map(pick));
  for (const b of backlogs.filter((b) => b.report)) {
    console.log(`rate_${b.name}: ${mid(b.name, (f) => f.rate).toFixed(0)}`);
    console.log(
      `runs_${b.name}: ${results
        .get(b.name)!
        .map((f) => f.rate.toFixed(0))
        .join(" ")}`,
    );
    console.log(
      `cpu_us_per_delivery_${b.name}: app ${mid(b.name, (f) => f.appCpuUs).toFixed(0)}, postgres ${mid(b.name, (f) => f.postgresCpuUs!).toFixed(0)}, sink ${mid(b.name, (f) => f.sinkCpuUs).toFixed(0)}`,
    );
    console.log(`statements_per_delivery_${b.name}: ${mid(b.name, (f) => f.statements!).toFixed(3)}`);
    console.log(`wal_bytes_per_delivery_${b.name}: ${mid(b.name, (f) => f.walBytes!).toFixed(0)}`);
  }
  console.log(`measured_deliveries: ${MEASURED} per window, after ${WARM_UP} to warm up; rounds: ${ROUNDS}`);
  const rate = (name: string) => (results.has(name) ? mid(name, (f) => f.rate) : undefined);
  const small = rate(label(Math.min(...SIZES)));
  const big = rate(label(1_000_000));
  if (small && big) {
    console.log(`ratio_1m_10k: ${(big / small).toFixed(2)}`);
    const ordered = rate(`${label(1_000_000)}_ordered_paused`);
    if (ordered) console.log(`ratio_1m_ordered_paused_10k: ${(ordered / small).toFixed(2)}`);
    // The convention: every bench prints `ratio:`; here it is the headline, 1M ÷ 10k.
    console.log(`ratio: ${(big / small).toFixed(2)}`);
  }
  console.log(`bench_seconds: ${((performance.now() - started) / 1000).toFixed(0)}`);
  console.log(`load_average_1m: ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`);
} finally {
  sink.stop();
  for (const b of backlogs) await b.database.drop();
  await admin.end();
}
