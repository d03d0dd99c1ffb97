import { afterAll, describe, expect, it } from "bun:test";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeTransportPlugin } from "../../../adapters/node/runtime.ts";
import { createHookline } from "../../../core/app.ts";
import { defaultPlugins } from "../../../plugins/defaults.ts";
import { eventually } from "../../support/app.ts";
import { freshDatabase, TEST_DATABASE_URL } from "../../support/db.ts";
import { startSink } from "../../support/http-sink.ts";

const TOTAL = 1_000;
const root = join(import.meta.dir, "..", "..", "..");

const config = (sinkUrl: string) => `
engine:
  concurrency: 20
  pollInterval: 20ms
  lease: 1500ms
  retry: { delays: [50ms], jitter: 0 }
  allowNetworks: ["127.0.0.1/32"]
webhooks:
  tick:
    url: ${sinkUrl}/ticks
    body: '{"n": <%= it.event.data.n %>}'
triggers:
  - { kind: event, events: [tick], webhooks: [tick] }
`;

function worker(env: Record<string, string>): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, [join(root, "tests/support/worker-process.ts")], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d) => String(d).includes("ready") && resolve());
    child.on("exit", (code) => code !== 0 && reject(new Error(`worker exited early (${code})`)));
  });
  return { child, ready };
}

const exited = (c: ChildProcess) =>
  new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once("exit", r)));

/** Kills a worker with SIGKILL mid-run, starts another, and checks that nothing was lost. */
async function crashScenario(
  storeEnv: Record<string, string>,
  publish: (sinkUrl: string) => Promise<void>,
  readStore: () => Promise<{ keys: Map<string, string>; statuses: string[] }>,
) {
  const sink = await startSink(() => ({ status: 200, delayMs: 5 }));
  try {
    await publish(sink.url);
    const first = worker({ ...storeEnv, HOOKLINE_CONFIG: config(sink.url), WORKER_ID: "first" });
    await first.ready;
    await eventually(() => sink.requests.length >= 300, 60_000, "the first worker to send 300");
    first.child.kill("SIGKILL");
    await exited(first.child);
    const sentBeforeCrash = sink.requests.length;
    expect(sentBeforeCrash).toBeLessThan(TOTAL);

    // The second worker takes over the dead one's leases when they expire, and leaves when all is done.
    const second = worker({
      ...storeEnv,
      HOOKLINE_CONFIG: config(sink.url),
      WORKER_ID: "second",
      PUBLISH_COUNT: "0",
      EXIT_WHEN_IDLE: "1",
    });
    const done = exited(second.child);
    await Promise.race([
      done,
      new Promise((_, reject) =>
        setTimeout(() => reject(new Error("second worker did not finish in 90 s")), 90_000),
      ),
    ]);

    // Every event reached the sink; a repeat carries the key of its own delivery.
    const keyOfN = new Map<number, Set<string>>();
    for (const r of sink.requests) {
      const n = JSON.parse(r.body).n as number;
      keyOfN.set(n, (keyOfN.get(n) ?? new Set()).add(r.headers["idempotency-key"]!));
    }
    expect(keyOfN.size).toBe(TOTAL);
    for (const keys of keyOfN.values()) expect(keys.size).toBe(1);
    const { keys, statuses } = await readStore();
    expect(keys.size).toBe(TOTAL);
    for (const [n, set] of keyOfN) expect([...set][0]).toBe(keys.get(String(n))!);
    expect(statuses.filter((s) => s !== "succeeded")).toEqual([]);
  } finally {
    await sink.close();
  }
}

const readVia = async (env: Record<string, string>) => {
  const app = await createHookline({
    config: { text: config("http://127.0.0.1:9"), file: "read.yaml" },
    plugins: [...defaultPlugins(), nodeTransportPlugin()],
    env,
  });
  try {
    const all = await app.store.listDeliveries({ limit: 1000 });
    return {
      keys: new Map(
        all.map((d) => [String((d.context.event as { data: { n: number } }).data.n), d.idempotencyKey]),
      ),
      statuses: all.map((d) => d.status),
    };
  } finally {
    await app.stop(0);
  }
};

describe("crash safety", () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it("loses nothing when a worker is killed with SIGKILL mid-run (PGlite data folder)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookline-crash-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const env = { HOOKLINE_DATA_DIR: dir, DATABASE_URL: "" };
    // The first worker publishes the load itself: one process at a time may open a PGlite folder.
    await crashScenario(
      { ...env, PUBLISH_COUNT: String(TOTAL) },
      async () => {},
      () => readVia(env),
    );
  }, 180_000);

  // With a Postgres server (CI sets TEST_DATABASE_URL); PGlite alone otherwise, as every store suite.
  const onServer = TEST_DATABASE_URL ? it : () => {};
  onServer(
    "loses nothing when a worker is killed with SIGKILL mid-run (Postgres server)",
    async () => {
      const db = await freshDatabase();
      cleanups.push(() => db.drop());
      const env = { DATABASE_URL: db.url };
      await crashScenario(
        env,
        async (sinkUrl) => {
          const app = await createHookline({
            config: { text: config(sinkUrl), file: "pub.yaml" },
            plugins: [...defaultPlugins(), nodeTransportPlugin()],
            env,
          });
          for (let i = 0; i < TOTAL; i += 500) {
            await app.publish(
              Array.from({ length: 500 }, (_, j) => ({ id: `e-${i + j}`, type: "tick", data: { n: i + j } })),
            );
          }
          await app.stop(0);
        },
        () => readVia(env),
      );
    },
    180_000,
  );
});
