/**
 * The runtime figures for the README: the edge bundle's size (minified, gzipped), the edge worker's
 * cold start under workerd, and `hookline serve` start-up time on Node, Bun and Deno (spawn until
 * /healthz answers 200; medians of `--runs` starts).
 *
 *   bun scripts/measure-runtimes.ts [--runs 3] [--only edge|serve] [--database-url postgres://postgres@127.0.0.1:5432/test]
 *
 * Prints `name: value` lines. Node runs the published command (bin/hookline.js over dist/, built here
 * with tsc as `npm ci` builds it); Bun and Deno run from source. Start-up is measured on PGlite in a
 * fresh folder (which includes creating the database), on PGlite in an existing folder, and on a
 * Postgres server (already migrated), with an otherwise empty config.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import postgresJs from "postgres";
import { buildEdge } from "./build-edge.ts";
import { freePort, startEdgeWorker } from "./edge-local.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name: string) => join(root, "node_modules", ".bin", name);
// Bun and Deno live in the test runtimes' package (tests/runtimes; `npm test` installs it).
const runtimeBin = (name: string) => join(root, "tests", "runtimes", "node_modules", ".bin", name);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const ms = (x: number) => `${x.toFixed(0)} ms`;

function option(argv: string[], name: string, fallback: string): string {
  const i = argv.indexOf(name);
  return i === -1 ? fallback : argv[i + 1]!;
}

async function freshDatabase(server: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `hookline_measure_${crypto.randomUUID().replace(/-/g, "").slice(0, 10)}`;
  const admin = postgresJs(server, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const a = postgresJs(server, { max: 1, onnotice: () => {} });
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

const commands: Record<string, string[]> = {
  node: [process.env.NODE ?? "node", join(root, "bin", "hookline.js")],
  bun: [runtimeBin("bun"), join(root, "adapters", "bun", "cli.ts")],
  deno: [runtimeBin("deno"), "run", "-A", join(root, "adapters", "deno", "cli.ts")],
};

/** Milliseconds from spawning `hookline serve` until /healthz answers 200; the process is then stopped. */
async function startUp(runtime: string, config: string, env: Record<string, string>): Promise<number> {
  const port = await freePort();
  const [command, ...args] = commands[runtime]!;
  const t0 = performance.now();
  const child: ChildProcess = spawn(
    command!,
    [...args, "serve", "--config", config, "--port", String(port)],
    {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let err = "";
  child.stderr!.on("data", (c) => (err += String(c)));
  const exited = new Promise((r) => child.once("exit", r));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${runtime} exited (${child.exitCode}): ${err}`);
      const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) return performance.now() - t0;
      if (performance.now() - t0 > 120_000) throw new Error(`${runtime} did not answer within 120 s: ${err}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
}

async function main(argv: string[]): Promise<number> {
  const runs = Number(option(argv, "--runs", "3"));
  const server = option(
    argv,
    "--database-url",
    process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test",
  );
  const only = option(argv, "--only", "");
  const dir = await mkdtemp(join(tmpdir(), "hookline-measure-"));
  try {
    if (only !== "serve") await measureEdge(dir, server, runs);
    if (only !== "edge") await measureServe(dir, server, runs);
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function measureEdge(dir: string, server: string, runs: number): Promise<void> {
  // The edge bundle, for the example config.
  const built = await buildEdge({
    config: join(root, "examples", "cloudflare-worker-inbound", "hookline.yaml"),
    out: join(dir, "edge"),
  });
  console.log(`edge bundle minified: ${(built.bytes / 1024).toFixed(1)} KB`);
  console.log(`edge bundle gzipped: ${(built.gzipBytes / 1024).toFixed(1)} KB`);

  // Cold start of the edge worker under workerd: a new workerd (a new isolate) on a migrated database.
  const db = await freshDatabase(server);
  const vars = { DATABASE_URL: db.url, ESPUTNIK_KEY: "k", CRM_PASSWORD: "p" };
  try {
    const first = await startEdgeWorker({ bundle: join(dir, "edge", "worker.js"), vars });
    await fetch(`${first.url}/in/esputnik`).then((r) => r.text());
    await first.stop();
    const listening: number[] = [];
    const cold: number[] = [];
    const warm: number[] = [];
    const stores: number[] = [];
    for (let i = 0; i < runs; i++) {
      const edge = await startEdgeWorker({ bundle: join(dir, "edge", "worker.js"), vars });
      listening.push(edge.listeningMs);
      let t = performance.now();
      await fetch(`${edge.url}/in/esputnik`).then((r) => r.text());
      cold.push(performance.now() - t);
      for (let j = 0; j < 20; j++) {
        t = performance.now();
        await fetch(`${edge.url}/in/esputnik`).then((r) => r.text());
        warm.push(performance.now() - t);
      }
      for (let j = 0; j < 20; j++) {
        const body = JSON.stringify([
          {
            contactId: j,
            activityStatus: "READ",
            activityDateTime: "2026-01-01T00:00:00",
            iid: `m-${i}-${j}`,
          },
        ]);
        t = performance.now();
        const r = await fetch(`${edge.url}/in/esputnik`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-api-key": "k" },
          body,
        });
        await r.text();
        if (r.status !== 200) throw new Error(`edge POST answered ${r.status}`);
        stores.push(performance.now() - t);
      }
      await edge.stop();
    }
    console.log(`edge workerd listening after spawn: ${ms(median(listening))}`);
    console.log(
      `edge cold start (first request of a new isolate: app built, schema checked): ${ms(median(cold))}`,
    );
    console.log(`edge cold start total (spawn to first answer): ${ms(median(listening) + median(cold))}`);
    console.log(`edge warm request (GET test): ${median(warm).toFixed(1)} ms`);
    console.log(
      `edge warm POST of one activity (stored; a new Postgres connection per request): ${median(stores).toFixed(1)} ms`,
    );
  } finally {
    await db.drop();
  }
}

async function measureServe(dir: string, server: string, runs: number): Promise<void> {
  // hookline serve start-up per runtime.
  execFileSync(bin("tsc"), ["-p", "tsconfig.build.json"], { cwd: root, stdio: "ignore" });
  const config = join(dir, "hookline.yaml");
  await writeFile(config, "server: { host: 127.0.0.1, port: 8080 }\n");
  for (const runtime of Object.keys(commands)) {
    const fresh: number[] = [];
    const existing: number[] = [];
    const postgres: number[] = [];
    for (let i = 0; i < runs; i++) {
      const data = join(dir, `data-${runtime}-${i}`);
      fresh.push(await startUp(runtime, config, { HOOKLINE_DATA_DIR: data }));
      existing.push(await startUp(runtime, config, { HOOKLINE_DATA_DIR: data }));
    }
    const pg = await freshDatabase(server);
    try {
      await startUp(runtime, config, { DATABASE_URL: pg.url });
      for (let i = 0; i < runs; i++) postgres.push(await startUp(runtime, config, { DATABASE_URL: pg.url }));
    } finally {
      await pg.drop();
    }
    console.log(`serve start-up ${runtime} (PGlite, new folder): ${ms(median(fresh))}`);
    console.log(`serve start-up ${runtime} (PGlite, existing folder): ${ms(median(existing))}`);
    console.log(`serve start-up ${runtime} (Postgres server): ${ms(median(postgres))}`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`measure: ${(e as Error).stack ?? e}`);
      process.exit(1);
    },
  );
}
