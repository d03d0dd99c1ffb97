// A CPU profile of hookline's outbound engine on the Postgres server, in µs per delivery: the same
// webhook, events and sink as bench:outbound's hookline leg (10,000 events published 1,000 per call
// while the worker renders, authorises, POSTs and records), the profiler on only for a second run in
// the same process (the first warms the code), so compilation stays out.
// Run: TEST_DATABASE_URL=… node scripts/run-node.mjs bench/outbound/profile.ts
// PROFILE_DELIVERIES (10000), PROFILE_TOP (30), PROFILE_OUT (a path to write the .cpuprofile to),
// PROFILE_HEAP=1 samples allocations instead of CPU (bytes per delivery, by function).
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { postgresDriver } from "../../plugins/postgres/index.ts";
import { type CpuProfile, type HeapNode, printHeap, printProfile } from "../lib/cpu-profile.ts";
import { adminConnection, scratchDatabase, serverUrl } from "../lib/postgres-server.ts";
import { startSink } from "../lib/sink.ts";
import { hooklineLeg } from "./hookline.ts";

const DELIVERIES = Number(process.env.PROFILE_DELIVERIES ?? 10_000);
const TOP = Number(process.env.PROFILE_TOP ?? 30);

const server = serverUrl();
if (!server) throw new Error("set TEST_DATABASE_URL to a Postgres server");
const admin = adminConnection(server);
const sink = await startSink();
const leg = hooklineLeg("hookline_postgres", {
  durable: true,
  open: async ({ database }) => postgresDriver({ url: database!.url, max: 10 }),
});

const HEAP = Boolean(process.env.PROFILE_HEAP);

async function once(label: string, profile?: Session): Promise<void> {
  const database = await scratchDatabase(admin, server!, `profile_${label}`);
  try {
    const prepared = await leg.prepare({
      sink,
      database,
      deliveries: DELIVERIES,
      run: `${label}-${Date.now()}`,
    });
    if (profile && HEAP)
      await profile.post("HeapProfiler.startSampling", {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    else if (profile) await profile.post("Profiler.start");
    const t0 = performance.now();
    await prepared.run();
    const seconds = (performance.now() - t0) / 1000;
    if (profile) {
      const taken = await profile.post(HEAP ? "HeapProfiler.stopSampling" : "Profiler.stop");
      const p = (taken as unknown as { profile: CpuProfile & { head: HeapNode } }).profile;
      if (process.env.PROFILE_OUT) writeFileSync(process.env.PROFILE_OUT, JSON.stringify(p));
      console.log(`deliveries_per_s: ${Math.round(DELIVERIES / seconds)}`);
      if (HEAP) printHeap(p.head, DELIVERIES, "delivery", TOP);
      else printProfile(p, DELIVERIES, "delivery", TOP);
    }
    await prepared.close();
  } finally {
    await database.drop();
  }
}

const session = new Session();
session.connect();
if (HEAP) await session.post("HeapProfiler.enable");
else {
  await session.post("Profiler.enable");
  await session.post("Profiler.setSamplingInterval", { interval: 100 });
}
await once("warm");
await once("profiled", session);
session.disconnect();
sink.stop();
await admin.end();
