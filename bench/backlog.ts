// bench:backlog — hookline's claim-and-deliver rate with 10k, 100k and 1M deliveries pending on the
// Postgres server, and with 1M pending among 1k ordered streams and a paused webhook; flat is the goal
// (`ratio_1m_10k`: the rate at 1M ÷ the rate at 10k). For each backlog: a database of its own,
// hookline's migrations, the backlog seeded in one INSERT … SELECT generate_series into hookline's own
// table (then VACUUM ANALYZE and a CHECKPOINT, so that the window sees the claim, not the seed's
// aftermath), then one `createHookline` worker (100 in flight, no auth, a ~60 B body) drains it to
// the local sink in its own process. The rate is over a fixed number of deliveries (BENCH_MEASURED,
// 5,000) after a warm-up of 1,000, counted by the sink.
// Run: npm run bench:backlog   (TEST_DATABASE_URL or DATABASE_URL names the Postgres server)
// Knobs: BENCH_BACKLOGS (10000,100000,1000000), BENCH_MEASURED (5000), BENCH_ORDERED (1: run the
// ordered-and-paused variant at the largest backlog).
//
// The seed writes the columns of core/store/migrations.ts as of the store before its redesign (issue
// 13): a store that changes them (a narrow state table, ordered streams' heads kept apart …) changes
// `seed` below with it, so that the same backlog is measured before and after.
import { loadavg } from "node:os";
import { nodeTransportPlugin } from "../adapters/node/runtime.ts";
import { createHookline, type Hookline } from "../core/app.ts";
import { Tokens } from "../core/tokens.ts";
import { eta } from "../plugins/eta/index.ts";
import { postgresDriver } from "../plugins/postgres/index.ts";
import { type Figures, meter } from "./lib/meter.ts";
import { countPostgresWire } from "./lib/pg-wire.ts";
import {
  adminConnection,
  dropLeftovers,
  type Sql,
  scratchDatabase,
  serverUrl,
} from "./lib/postgres-server.ts";
import { type Sink, startSink } from "./lib/sink.ts";

const server = serverUrl();
if (!server) {
  console.error("bench:backlog needs a Postgres server: set TEST_DATABASE_URL or DATABASE_URL");
  process.exit(2);
}
const BACKLOGS = (process.env.BENCH_BACKLOGS ?? "10000,100000,1000000").split(",").map(Number);
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
 * Seeds `n` due deliveries as the outbox would have written them (pending, never attempted, in seq
 * order). Plain: all of webhook `contact`. Ordered: of every ten, five go to `ordered` over 1k streams
 * (500 each), one to `paused` (a paused webhook: its deliveries wait in the due index), four to
 * `contact`.
 */
async function seed(sql: Sql, n: number, ordered: boolean): Promise<void> {
  const webhook = ordered
    ? "CASE WHEN g % 10 < 5 THEN 'ordered' WHEN g % 10 = 5 THEN 'paused' ELSE 'contact' END"
    : "'contact'";
  const orderingKey = ordered ? `CASE WHEN g % 10 < 5 THEN 'c-' || ((g / 10) % ${STREAMS}) END` : "NULL";
  const customer = ordered
    ? `CASE WHEN g % 10 < 5 THEN 'c-' || ((g / 10) % ${STREAMS}) ELSE 'c-' || g END`
    : "'c-' || g";
  await sql.unsafe(`
    INSERT INTO hookline_deliveries (id, webhook, idempotency_key, run_id, event_id, event_type, customer_id, context,
                                     status, max_attempts, next_at, ordering_key)
    SELECT gen_random_uuid(), w.webhook, 'evt-' || g || ':' || w.webhook, 'run_seed', 'evt-' || g, 'signup', w.customer,
           jsonb_build_object(
             'event', jsonb_build_object('id', 'evt-' || g, 'type', 'signup', 'data', jsonb_build_object('n', g),
                                         'timestamp', to_char(now() at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
             'customer', jsonb_build_object('id', w.customer, 'email', 'user' || g || '@example.com'),
             'params', '{}'::jsonb),
           'pending', 10, now() - interval '1 minute', w.ordering_key
      FROM generate_series(1, ${n}) g
      CROSS JOIN LATERAL (SELECT ${webhook} AS webhook, ${orderingKey} AS ordering_key, ${customer} AS customer) w`);
  if (ordered)
    await sql.unsafe(
      "INSERT INTO hookline_webhook_health (webhook, failing_since, paused_at, reason) VALUES ('paused', now(), now(), 'bench: paused')",
    );
  await sql.unsafe("VACUUM ANALYZE hookline_deliveries");
  await sql.unsafe("CHECKPOINT");
}

async function drain(
  app: Hookline,
  sink: Sink,
  measure: () => Promise<{ stop(n: number): Promise<Figures> }>,
) {
  const start = await sink.count();
  await app.start();
  await sink.reach(start + WARM_UP);
  const m = await measure();
  const c0 = await sink.count();
  await sink.reach(c0 + MEASURED);
  const figures = await m.stop((await sink.count()) - c0);
  await app.stop(10_000);
  return figures;
}

const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}m` : `${n / 1_000}k`);

const sink = await startSink();
const admin = adminConnection(server);
const wire = countPostgresWire(Number(new URL(server).port || 5432));
const rates = new Map<string, number>();
const started = performance.now();
const loadBefore = loadavg()[0]!;
try {
  await dropLeftovers(admin);
  // A first, unreported drain warms this process up (JIT, connections), so the first backlog measured
  // is not the slowest for that reason alone.
  const runs = [{ n: WARM_UP + MEASURED, ordered: false, report: false }];
  runs.push(...BACKLOGS.map((n) => ({ n, ordered: false, report: true })));
  if (ORDERED) runs.push({ n: Math.max(...BACKLOGS), ordered: true, report: true });
  for (const { n, ordered, report } of runs) {
    const name = `${label(n)}${ordered ? "_ordered_paused" : ""}`;
    const database = await scratchDatabase(admin, server, `backlog_${name}`);
    const driver = postgresDriver({ url: database.url, max: 10 });
    try {
      const app = await createHookline({
        config: { text: config(sink.url), file: "backlog.yaml" },
        plugins: [
          eta(),
          nodeTransportPlugin(),
          {
            name: "bench-store",
            register: (c) => c.register(Tokens.SqlDriver, { useValue: { ...driver, close: async () => {} } }),
          },
        ],
      });
      const t0 = performance.now();
      const sql = adminConnection(database.url);
      await seed(sql, n, ordered);
      await sql.end();
      const seedSeconds = (performance.now() - t0) / 1000;
      const f = await drain(app, sink, () =>
        meter({ sinkPid: sink.pid, server: { admin, database: database.name, wire } }),
      );
      if (!report) continue;
      rates.set(name, f.rate);
      console.log(`rate_${name}: ${f.rate.toFixed(0)}`);
      console.log(
        `cpu_us_per_delivery_${name}: app ${f.appCpuUs.toFixed(0)}, postgres ${f.postgresCpuUs!.toFixed(0)}, sink ${f.sinkCpuUs.toFixed(0)}`,
      );
      console.log(`statements_per_delivery_${name}: ${f.statements!.toFixed(3)}`);
      console.log(`seed_seconds_${name}: ${seedSeconds.toFixed(1)}`);
    } finally {
      await driver.close();
      await database.drop();
    }
  }
  console.log(`measured_deliveries: ${MEASURED} (after ${WARM_UP} to warm up)`);
  const small = rates.get(label(Math.min(...BACKLOGS)));
  const big = rates.get(label(1_000_000));
  if (small && big) {
    console.log(`ratio_1m_10k: ${(big / small).toFixed(2)}`);
    const ordered = rates.get(`${label(1_000_000)}_ordered_paused`);
    if (ordered) console.log(`ratio_1m_ordered_paused_10k: ${(ordered / small).toFixed(2)}`);
    // The convention: every bench prints `ratio:`; here it is the headline, 1M ÷ 10k.
    console.log(`ratio: ${(big / small).toFixed(2)}`);
  }
  console.log(`bench_seconds: ${((performance.now() - started) / 1000).toFixed(0)}`);
  console.log(`load_average_1m: ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after`);
} finally {
  sink.stop();
  await admin.end();
}
