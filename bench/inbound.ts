// bench:inbound — activity-status callbacks durably stored per second (API key checked, eSputnik
// activities validated, each stored once in Postgres, answered 200 only after the commit) ÷ a bare
// hono echo endpoint's requests/s, same run, same load generator (autocannon in a child process, so
// the load does not share the server's event loop), both served by @hono/node-server on loopback.
// Run: npm run bench:inbound   (set TEST_DATABASE_URL or DATABASE_URL to include the Postgres server)
// BENCH_SECONDS per run (default 4), BENCH_ROUNDS (5; medians reported, the ratio is the median of
// each round's ratio to the echo run beside it), BENCH_CONNECTIONS (100),
// BENCH_ACTIVITIES per callback (1), BENCH_STORES (pglite,postgres).
// With the Postgres server, a minimal durable receiver (hono + postgres.js with group commit,
// bench/inbound/durable-receiver.ts) runs in the same rounds: `ratio_vs_durable_receiver` is
// hookline-on-Postgres stored/s ÷ its stored/s (median of the rounds' ratios). Each target also
// reports this process's CPU µs per answer (`*_cpu_us_per_callback`; the load runs in a child), and
// `cpu_ratio_vs_durable_receiver` is the receiver's CPU per callback ÷ hookline's.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import postgresJs from "postgres";
import { createHookline } from "../core/app.ts";
import type { SqlDriver } from "../core/contracts/store.ts";
import { Tokens } from "../core/tokens.ts";
import { inbound } from "../plugins/inbound/index.ts";
import { pgliteDriver } from "../plugins/pglite/index.ts";
import { postgresDriver } from "../plugins/postgres/index.ts";
import { durableReceiver } from "./inbound/durable-receiver.ts";
import { scratchDatabase } from "./lib/postgres-server.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 100);
const ACTIVITIES = Number(process.env.BENCH_ACTIVITIES ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const KEY = "bench-api-key-6c1d2e";
const AUTOCANNON = join(import.meta.dirname, "..", "..", "node_modules", "autocannon", "autocannon.js");

// autocannon puts a fresh id where "[<id>]" stands, so every callback carries new activities.
const BODY = JSON.stringify(
  Array.from({ length: ACTIVITIES }, (_, i) => ({
    iid: `[<id>]-${i}`,
    contactId: 295953704,
    email: "test@rambler.ru",
    activityStatus: i % 2 ? "READ" : "DELIVERED",
    mediaType: "email",
    broadcastId: 2833914,
    messageId: 976440,
    activityDateTime: "2018-03-01T13:31:52",
    viewMessageLink: "https://123.esclick.me/test",
  })),
);

interface Load {
  requests: number;
  ok: number;
  perSecond: number;
  p50: number;
  p99: number;
  errors: number;
  /** This process's CPU (user + system) per 2xx answer, µs: the servers run here, the load elsewhere. */
  cpuPerOk?: number;
}

/** Runs autocannon against `url` in a child process and reads its JSON summary. */
function load(url: string, seconds: number): Promise<Load> {
  const args = [AUTOCANNON, "-j", "-I", "-c", String(CONNECTIONS), "-d", String(seconds), "-m", "POST"];
  args.push("-H", "content-type=application/json", "-H", `x-api-key=${KEY}`, "-b", BODY, url);
  return new Promise((resolve, reject) =>
    execFile(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) => {
      if (error) return reject(error);
      const r = JSON.parse(stdout);
      resolve({
        requests: r.requests.total,
        ok: r["2xx"],
        perSecond: r["2xx"] / r.duration,
        p50: r.latency.p50,
        p99: r.latency.p99,
        errors: r.errors + r.timeouts + r.non2xx,
      });
    }),
  );
}

function listen(fetch: (req: Request, env?: unknown) => Response | Promise<Response>) {
  return new Promise<{ url: string; close(): Promise<void> }>((resolve) => {
    const server = serve({ fetch, hostname: "127.0.0.1", port: 0 }, (info: AddressInfo) =>
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      }),
    );
  });
}

/** The ceiling: a bare hono app that answers each POST with its body. */
async function echo(): Promise<Target> {
  const http = new Hono();
  http.post("/echo", async (c) => c.body(await c.req.text(), 200, { "content-type": "application/json" }));
  const s = await listen(http.fetch);
  return { url: `${s.url}/echo`, close: s.close, stored: async () => 0 };
}

const config = `
inbound:
  endpoints:
    esputnik: { kind: activity-status, auth: { kind: apiKey, keys: [${KEY}] } }
`;

interface Target {
  url: string;
  close(): Promise<void>;
  /** Activities in the store (0 for the echo). */
  stored(): Promise<number>;
}

/** hookline's receiver on one store, served like the echo. */
async function hookline(driver: SqlDriver): Promise<Target> {
  const app = await createHookline({
    config: { text: config, file: "bench.yaml" },
    plugins: [
      inbound(),
      {
        name: "bench-store",
        register: (c) => c.register(Tokens.SqlDriver, { useValue: { ...driver, close: async () => {} } }),
      },
    ],
  });
  const s = await listen(app.http.fetch);
  return {
    url: `${s.url}/in/esputnik`,
    close: async () => {
      await s.close();
      await app.stop(1_000);
    },
    stored: async () =>
      Number((await driver.query<{ n: unknown }>("SELECT count(*) AS n FROM hookline_activities"))[0]!.n),
  };
}

/** One measured run; for hookline, checks that every callback answered 200 left its activities stored. */
async function measure(t: Target): Promise<Load> {
  const before = await t.stored();
  const cpu = process.cpuUsage();
  const r = await load(t.url, SECONDS);
  const used = process.cpuUsage(cpu);
  r.cpuPerOk = (used.user + used.system) / Math.max(1, r.ok);
  const after = await t.stored();
  // Requests still in flight when the load stops may be stored without their answer being counted.
  if (before + after > 0 && after - before < r.ok * ACTIVITIES)
    throw new Error(
      `answered 200 to ${r.ok} callbacks (${r.ok * ACTIVITIES} activities) but stored ${after - before}`,
    );
  return r;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const line = (k: string, v: string | number) => console.log(`${k}: ${v}`);

/** The minimal durable receiver on a scratch database of its own, served like the others. */
async function receiver(database: string): Promise<Target> {
  const r = await durableReceiver(database, KEY);
  const s = await listen(r.fetch);
  return {
    url: `${s.url}/in/esputnik`,
    close: async () => {
      await s.close();
      await r.close();
    },
    stored: r.stored,
  };
}

const RECEIVER = "durable_receiver";
// `peer`: measured in the rounds but not one of hookline's stores (not in `ratio`).
const targets: Array<{ name: string; target: Target; peer?: boolean; dispose?: () => Promise<void> }> = [
  { name: "echo", target: await echo() },
];
const stores = (process.env.BENCH_STORES ?? "pglite,postgres").split(",");
if (stores.includes("pglite")) {
  const dir = mkdtempSync(join(tmpdir(), "hookline-bench-in-"));
  const pglite = await pgliteDriver({ dataDir: dir });
  targets.push({
    name: "pglite",
    target: await hookline(pglite),
    dispose: async () => {
      await pglite.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
const server = stores.includes("postgres")
  ? (process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL)
  : undefined;
if (server) {
  const name = `hookline_bench_in_${Date.now()}`;
  const admin = postgresJs(server, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const u = new URL(server);
  u.pathname = `/${name}`;
  const pg = postgresDriver({ url: u.toString(), max: 10 });
  targets.push({
    name: "postgres",
    target: await hookline(pg),
    dispose: async () => {
      await pg.close();
      await admin.unsafe(`DROP DATABASE ${name} WITH (FORCE)`);
    },
  });
  const db = await scratchDatabase(admin, server, "in_receiver");
  targets.push({
    name: RECEIVER,
    peer: true,
    target: await receiver(db.url),
    dispose: async () => {
      await db.drop();
      await admin.end();
    },
  });
}

try {
  for (const t of targets) await load(t.target.url, 2); // warm-up
  // Rounds alternate the targets, so that load from elsewhere on the machine falls on all of them.
  const results = new Map<string, Load[]>(targets.map((t) => [t.name, []]));
  for (let round = 0; round < ROUNDS; round++)
    for (const t of targets) results.get(t.name)!.push(await measure(t.target));
  const pick = (name: string) => {
    const runs = results.get(name)!;
    const m = median(runs.map((r) => r.perSecond));
    return { ...runs.find((r) => r.perSecond === m)!, perSecond: m };
  };
  const ceiling = pick("echo");
  // CPU per answer varies less than rates with the machine's other load (the median of the rounds).
  const cpuPer = (name: string) => median(results.get(name)!.map((r) => r.cpuPerOk ?? 0)).toFixed(1);
  const perRound = (name: string) =>
    results
      .get(name)!
      .map((r) => r.perSecond.toFixed(0))
      .join(" ");
  line("rounds", ROUNDS);
  line("seconds_per_run", SECONDS);
  line("connections", CONNECTIONS);
  line("activities_per_callback", ACTIVITIES);
  line("echo_requests_per_s", ceiling.perSecond.toFixed(0));
  line("echo_requests_per_s_by_round", perRound("echo"));
  line("echo_p99_ms", ceiling.p99);
  line("echo_cpu_us_per_request", cpuPer("echo"));
  const ratios: number[] = [];
  for (const t of targets.slice(1).filter((t) => !t.peer)) {
    const r = pick(t.name);
    // Each round's ratio sets a run against the echo run beside it (the machine's load changes).
    const ratio = median(
      results.get(t.name)!.map((x, i) => x.perSecond / results.get("echo")![i]!.perSecond),
    );
    line(`${t.name}_callbacks_stored_per_s`, r.perSecond.toFixed(0));
    line(`${t.name}_callbacks_stored_per_s_by_round`, perRound(t.name));
    line(`${t.name}_activities_stored_per_s`, (r.perSecond * ACTIVITIES).toFixed(0));
    line(`${t.name}_p50_ms`, r.p50);
    line(`${t.name}_p99_ms`, r.p99);
    line(`${t.name}_cpu_us_per_callback`, cpuPer(t.name));
    line(
      `${t.name}_non_200`,
      results.get(t.name)!.reduce((a, x) => a + x.errors, 0),
    );
    line(`ratio_${t.name}`, ratio.toFixed(2));
    ratios.push(ratio);
  }
  if (results.has(RECEIVER)) {
    const r = pick(RECEIVER);
    const byRound = (name: string, other: string) =>
      median(results.get(name)!.map((x, i) => x.perSecond / results.get(other)![i]!.perSecond));
    line(`${RECEIVER}_stored_per_s`, r.perSecond.toFixed(0));
    line(`${RECEIVER}_stored_per_s_by_round`, perRound(RECEIVER));
    line(`${RECEIVER}_p50_ms`, r.p50);
    line(`${RECEIVER}_p99_ms`, r.p99);
    line(`${RECEIVER}_cpu_us_per_callback`, cpuPer(RECEIVER));
    line(
      `${RECEIVER}_non_200`,
      results.get(RECEIVER)!.reduce((a, x) => a + x.errors, 0),
    );
    line(`${RECEIVER}_ratio_vs_echo`, byRound(RECEIVER, "echo").toFixed(2));
    // Each round's ratio sets hookline's Postgres run against the receiver's run beside it.
    line("ratio_vs_durable_receiver", byRound("postgres", RECEIVER).toFixed(2));
    // The same comparison in this process's CPU per answer (receiver ÷ hookline: 1.00 is as light).
    line(
      "cpu_ratio_vs_durable_receiver",
      median(
        results
          .get(RECEIVER)!
          .map((x, i) => (x.cpuPerOk ?? 0) / (results.get("postgres")![i]!.cpuPerOk ?? 1)),
      ).toFixed(2),
    );
  }
  if (!server) line("postgres", "not measured (set TEST_DATABASE_URL or DATABASE_URL)");
  // The headline is the weaker store: both are what users run.
  line("ratio", Math.min(...ratios).toFixed(2));
} finally {
  for (const t of targets) {
    await t.target.close();
    await t.dispose?.();
  }
}
