// bench:outbound — end-to-end deliveries/s (event in, render, Basic auth, POST to a local sink, attempt
// recorded in Postgres) ÷ raw POSTs/s to the same sink with a bare keep-alive client, same run.
// Run: npm run bench:outbound   (set TEST_DATABASE_URL or DATABASE_URL to include the Postgres server)
import { type ChildProcess, fork } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgresJs from "postgres";
import { Agent, request } from "undici/index.js";
import { nodeTransportPlugin } from "../adapters/node/runtime.ts";
import { createHookline } from "../core/app.ts";
import type { SqlDriver } from "../core/contracts/store.ts";
import { Tokens } from "../core/tokens.ts";
import { basic } from "../plugins/basic/index.ts";
import { eta } from "../plugins/eta/index.ts";
import { pgliteDriver } from "../plugins/pglite/index.ts";
import { postgresDriver } from "../plugins/postgres/index.ts";

const IN_FLIGHT = 100;
const DELIVERIES = Number(process.env.BENCH_DELIVERIES ?? 10_000);
const CEILING_MS = 2_000;
const BODY = JSON.stringify({
  email: "ada.lovelace@example.com",
  first: "Ada",
  last: "Lovelace",
  list: "newsletter",
  source: "landing-page",
  country: "GB",
  items: Array.from({ length: 6 }, (_, i) => ({ sku: `SKU-${1000 + i}`, qty: i + 1, price: 19.99 })),
});

async function startSink(): Promise<{ child: ChildProcess; url: string; pid: number }> {
  const child = fork(join(import.meta.dirname, "..", "..", "bench", "sink-process.mjs"), [], {
    stdio: "inherit",
  });
  const port = await new Promise<number>((resolve) => child.once("message", (m: any) => resolve(m.port)));
  return { child, url: `http://127.0.0.1:${port}`, pid: child.pid! };
}

/** Raw POSTs/s with undici.request over a keep-alive agent, IN_FLIGHT at once, for `ms`. */
async function ceiling(url: string, ms: number): Promise<{ rate: number; count: number }> {
  const agent = new Agent({ connections: IN_FLIGHT, pipelining: 1 });
  let done = 0;
  const end = performance.now() + ms;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < end) {
        const r = await request(`${url}/hooks/contacts`, {
          method: "POST",
          body: BODY,
          headers: { "content-type": "application/json", authorization: "Basic Ym9iOnNlY3JldA==" },
          dispatcher: agent,
        });
        await r.body.text();
        done++;
      }
    }),
  );
  const rate = done / ((performance.now() - t0) / 1000);
  await agent.close();
  return { rate, count: done };
}

const config = (url: string) => `
engine:
  concurrency: ${IN_FLIGHT}
  pollInterval: 20ms
  allowNetworks: ["127.0.0.1/32"]
integrations:
  sink:
    kind: basic
    endpointPrefix: ${url}/hooks
    username: bob
    password: secret
webhooks:
  contact:
    url: ${url}/hooks/contacts
    integration: sink
    params: { list: newsletter }
    body: |
      {"email": <%= json(it.customer.email) %>, "first": <%= json(it.customer.first) %>, "last": <%= json(it.customer.last) %>,
       "list": <%= json(it.params.list) %>, "source": <%= json(it.event.data.source) %>, "country": <%= json(it.customer.country) %>,
       "event": <%= json(it.event.id) %>, "at": <%= json(it.event.timestamp) %>,
       "items": [<% it.event.data.items.forEach((item, i) => { %><%= i ? "," : "" %>{"sku": <%= json(item.sku) %>, "qty": <%= item.qty %>, "price": <%= item.price %>}<% }) %>]}
triggers:
  - { kind: event, events: [signup], webhooks: [contact] }
`;

/** End-to-end deliveries/s on one store: publish DELIVERIES events in chunks while workers send them. */
async function endToEnd(
  url: string,
  driver: SqlDriver,
): Promise<{ rate: number; publishRate: number; count: number }> {
  const app = await createHookline({
    config: { text: config(url), file: "bench.yaml" },
    // The bench owns the driver (it counts rows after the app stops); the app must not close it.
    plugins: [
      eta(),
      basic(),
      nodeTransportPlugin(),
      {
        name: "bench-store",
        register: (c) => c.register(Tokens.SqlDriver, { useValue: { ...driver, close: async () => {} } }),
      },
    ],
  });
  const items = Array.from({ length: 6 }, (_, i) => ({ sku: `SKU-${1000 + i}`, qty: i + 1, price: 19.99 }));
  const t0 = performance.now();
  await app.start();
  for (let i = 0; i < DELIVERIES; i += 1000) {
    await app.publish(
      Array.from({ length: Math.min(1000, DELIVERIES - i) }, (_, j) => ({
        type: "signup",
        customer: {
          id: `c-${i + j}`,
          email: `user${i + j}@example.com`,
          first: "Ada",
          last: "Lovelace",
          country: "GB",
        },
        data: { source: "landing-page", items },
      })),
    );
  }
  const published = performance.now();
  for (;;) {
    const [row] = await driver.query<{ n: string | number }>(
      "SELECT count(*) AS n FROM hookline_deliveries WHERE status = 'succeeded'",
    );
    if (Number(row!.n) >= DELIVERIES) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const elapsed = (performance.now() - t0) / 1000;
  await app.stop(5_000);
  return {
    rate: DELIVERIES / elapsed,
    publishRate: DELIVERIES / ((published - t0) / 1000),
    count: DELIVERIES,
  };
}

/** CPU seconds (user + system) a process has used, from /proc (Linux); NaN elsewhere. */
function cpuSeconds(pid: number | "self"): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 10 ms
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds of every local Postgres server process (the server's share of the work). */
function postgresCpuSeconds(): number {
  let total = 0;
  try {
    for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
      try {
        if (readFileSync(`/proc/${pid}/comm`, "utf8").trim().startsWith("postgres"))
          total += cpuSeconds(Number(pid));
      } catch {}
    }
  } catch {
    return Number.NaN;
  }
  return total;
}

/** Runs `fn` and reports the CPU microseconds each process spent per unit of work. */
async function accounted<T extends { count: number }>(sinkPid: number, fn: () => Promise<T>) {
  const before = { self: cpuSeconds("self"), sink: cpuSeconds(sinkPid), pg: postgresCpuSeconds() };
  const result = await fn();
  const per = (a: number, b: number) => (((a - b) * 1e6) / result.count).toFixed(0);
  return {
    result,
    cpu: {
      node: per(cpuSeconds("self"), before.self),
      sink: per(cpuSeconds(sinkPid), before.sink),
      postgres: per(postgresCpuSeconds(), before.pg),
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const sink = await startSink();
try {
  // BENCH_CEILING_MS=0 skips the ceiling (to profile hookline alone); the ratios are then meaningless.
  const ceilingMs = Number(process.env.BENCH_CEILING_MS ?? CEILING_MS);
  if (ceilingMs > 0) await ceiling(sink.url, 500); // warm-up
  const runs: Array<Awaited<ReturnType<typeof accounted<{ rate: number; count: number }>>>> = [];
  for (let i = 0; i < (ceilingMs > 0 ? 3 : 0); i++)
    runs.push(await accounted(sink.pid, () => ceiling(sink.url, ceilingMs)));
  const ceil = ceilingMs > 0 ? median(runs.map((r) => r.result.rate)) : Number.NaN;
  const ceilCpu = runs.find((r) => r.result.rate === ceil)?.cpu;
  console.log(`deliveries: ${DELIVERIES}`);
  console.log(`in_flight: ${IN_FLIGHT}`);
  console.log(`ceiling_raw_posts_per_s: ${ceil.toFixed(0)}`);
  if (ceilCpu) console.log(`ceiling_cpu_us_per_post: client ${ceilCpu.node}, sink ${ceilCpu.sink}`);

  const stores = (process.env.BENCH_STORES ?? "pglite,postgres").split(",");
  const ratios: number[] = [];
  if (stores.includes("pglite")) {
    const dir = mkdtempSync(join(tmpdir(), "hookline-bench-"));
    const pglite = await pgliteDriver({ dataDir: dir });
    const { result: p, cpu } = await accounted(sink.pid, () => endToEnd(sink.url, pglite));
    await pglite.close();
    rmSync(dir, { recursive: true, force: true });
    console.log(`pglite_deliveries_per_s: ${p.rate.toFixed(0)}`);
    console.log(`pglite_publish_events_per_s: ${p.publishRate.toFixed(0)}`);
    console.log(`pglite_cpu_us_per_delivery: hookline ${cpu.node} (PGlite in process), sink ${cpu.sink}`);
    console.log(`ratio_pglite: ${(p.rate / ceil).toFixed(2)}`);
    ratios.push(p.rate / ceil);
  }

  const server = stores.includes("postgres")
    ? (process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL)
    : undefined;
  if (server) {
    const name = `hookline_bench_${Date.now()}`;
    const admin = postgresJs(server, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE ${name}`);
    const u = new URL(server);
    u.pathname = `/${name}`;
    const pg = postgresDriver({ url: u.toString(), max: 10 });
    const { result: s, cpu } = await accounted(sink.pid, () => endToEnd(sink.url, pg));
    await pg.close();
    await admin.unsafe(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
    console.log(`postgres_deliveries_per_s: ${s.rate.toFixed(0)}`);
    console.log(`postgres_publish_events_per_s: ${s.publishRate.toFixed(0)}`);
    console.log(
      `postgres_cpu_us_per_delivery: hookline ${cpu.node}, postgres server ${cpu.postgres}, sink ${cpu.sink}`,
    );
    console.log(`ratio_postgres: ${(s.rate / ceil).toFixed(2)}`);
    ratios.push(s.rate / ceil);
  } else {
    console.log("postgres: not measured (set TEST_DATABASE_URL or DATABASE_URL)");
  }
  // The headline is the weaker store: both are what users run.
  console.log(`ratio: ${Math.min(...ratios).toFixed(2)}`);
} finally {
  sink.child.kill();
}
