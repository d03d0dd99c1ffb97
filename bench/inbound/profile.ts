// A CPU profile of hookline's activity-status receiver on the Postgres server, in µs per stored
// callback: the same endpoint, body and load as bench:inbound (autocannon in a child process), the
// profiler on only while the load runs (after a warm-up), so start-up and compilation stay out.
// Run: TEST_DATABASE_URL=… node scripts/run-node.mjs bench/inbound/profile.ts
// PROFILE_SECONDS (default 8), PROFILE_TOP (30), PROFILE_OUT (a path to write the .cpuprofile to),
// PROFILE_TARGET=receiver profiles the minimal durable receiver (durable-receiver.ts) instead;
// PROFILE_HEAP=1 samples allocations instead of CPU (bytes per callback, by function).
import { execFile } from "node:child_process";
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createHookline } from "../../core/app.ts";
import { Tokens } from "../../core/tokens.ts";
import { inbound } from "../../plugins/inbound/index.ts";
import { postgresDriver } from "../../plugins/postgres/index.ts";
import { type CpuProfile, type HeapNode, printHeap, printProfile } from "../lib/cpu-profile.ts";
import {
  adminConnection,
  postgresCpu,
  scratchDatabase,
  serverCpuFor,
  serverUrl,
  walBytesSince,
  walPosition,
} from "../lib/postgres-server.ts";
import { durableReceiver } from "./durable-receiver.ts";

const SECONDS = Number(process.env.PROFILE_SECONDS ?? 8);
const TOP = Number(process.env.PROFILE_TOP ?? 30);
const KEY = "bench-api-key-6c1d2e";
// The bundle runs from bench/.out/.
const AUTOCANNON = new URL("../../node_modules/autocannon/autocannon.js", import.meta.url).pathname;
const BODY = JSON.stringify([
  {
    iid: "[<id>]-0",
    contactId: 295953704,
    email: "test@rambler.ru",
    activityStatus: "DELIVERED",
    mediaType: "email",
    broadcastId: 2833914,
    messageId: 976440,
    activityDateTime: "2018-03-01T13:31:52",
    viewMessageLink: "https://123.esclick.me/test",
  },
]);

function load(url: string, seconds: number): Promise<number> {
  const args = [AUTOCANNON, "-j", "-I", "-c", "100", "-d", String(seconds), "-m", "POST"];
  args.push("-H", "content-type=application/json", "-H", `x-api-key=${KEY}`, "-b", BODY, url);
  return new Promise((resolve, reject) =>
    execFile(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) =>
      error ? reject(error) : resolve(JSON.parse(stdout)["2xx"]),
    ),
  );
}

const server = serverUrl();
if (!server) throw new Error("set TEST_DATABASE_URL or DATABASE_URL");
const admin = adminConnection(server);
const db = await scratchDatabase(admin, server, "in_profile");
const pool = postgresDriver({ url: db.url, max: 10 });
// Statements counted, to tell per-statement costs (a small group commit) from per-callback ones.
let statements = 0;
const driver = {
  ...pool,
  query: <T>(text: string, params?: unknown[]) => {
    statements++;
    return pool.query<T>(text, params);
  },
};
const receiver = process.env.PROFILE_TARGET === "receiver" ? await durableReceiver(db.url, KEY) : undefined;
const app = await createHookline({
  config: {
    text: `inbound:\n  endpoints:\n    esputnik: { kind: activity-status, auth: { kind: apiKey, keys: [${KEY}] } }\n`,
    file: "profile.yaml",
  },
  plugins: [
    inbound(
      process.env.PROFILE_CONCURRENCY
        ? { groupCommit: { concurrency: Number(process.env.PROFILE_CONCURRENCY) } }
        : {},
    ),
    { name: "bench-store", register: (c) => c.register(Tokens.SqlDriver, { useValue: driver }) },
  ],
});
const { url, close } = await new Promise<{ url: string; close(): Promise<void> }>((resolve) => {
  const s = serve(
    { fetch: receiver?.fetch ?? app.http.fetch, hostname: "127.0.0.1", port: 0 },
    (info: AddressInfo) =>
      resolve({
        url: `http://127.0.0.1:${info.port}/in/esputnik`,
        close: () => new Promise<void>((done) => s.close(() => done())),
      }),
  );
});
try {
  await load(url, 3); // warm-up: the code is optimised before the profile starts
  const session = new Session();
  session.connect();
  if (process.env.PROFILE_HEAP) {
    // What is allocated, per callback: what the garbage collector then spends its time on.
    await session.post("HeapProfiler.enable");
    await session.post("HeapProfiler.startSampling", {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    const callbacks = await load(url, SECONDS);
    const { profile } = (await session.post("HeapProfiler.stopSampling")) as unknown as {
      profile: { head: HeapNode };
    };
    session.disconnect();
    if (process.env.PROFILE_OUT) writeFileSync(process.env.PROFILE_OUT, JSON.stringify(profile));
    printHeap(profile.head, callbacks, "callback", TOP);
  } else {
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 250 });
    const cpu = process.cpuUsage();
    const [pgBefore, wal] = [postgresCpu(), await walPosition(admin)];
    statements = 0;
    // PROFILE_SAMPLING=0: the figures without the profiler's own cost.
    const sampling = process.env.PROFILE_SAMPLING !== "0";
    if (sampling) await session.post("Profiler.start");
    const callbacks = await load(url, SECONDS);
    const { profile } = sampling
      ? ((await session.post("Profiler.stop")) as unknown as { profile: CpuProfile })
      : { profile: { nodes: [], samples: [], timeDeltas: [] } };
    const used = process.cpuUsage(cpu);
    const pg = await serverCpuFor(admin, db.name, pgBefore, postgresCpu());
    const walBytes = await walBytesSince(admin, wal);
    session.disconnect();
    console.log(`process_cpu_us_per_callback: ${((used.user + used.system) / callbacks).toFixed(1)}`);
    console.log(`postgres_cpu_us_per_callback: ${((pg * 1e6) / callbacks).toFixed(1)}`);
    console.log(`wal_bytes_per_callback: ${(walBytes / callbacks).toFixed(0)}`);
    console.log(`callbacks_per_s: ${(callbacks / SECONDS).toFixed(0)}`);
    if (!receiver) console.log(`callbacks_per_statement: ${(callbacks / statements).toFixed(1)}`);
    if (process.env.PROFILE_OUT) writeFileSync(process.env.PROFILE_OUT, JSON.stringify(profile));
    printProfile(profile, callbacks, "callback", TOP);
  }
} finally {
  await close();
  await app.stop(1_000);
  await receiver?.close();
  await pool.close();
  await db.drop();
  await admin.end();
}
