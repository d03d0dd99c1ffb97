/**
 * `npm run test:runtimes`: the conformance suite (tests/conformance, written with bun:test) on Bun
 * natively, on Node through node:test (an esbuild bundle with `bun:test` aliased to a shim) and on
 * Deno through Deno.test (an import map to a shim); then the workerd leg, the edge worker in a real
 * workerd driven over HTTP with the inbound cases (it stores into a Postgres server, so it runs only
 * with TEST_DATABASE_URL and says it was left out otherwise). Legs run one after another (the machine has two
 * cores). One TLS server requiring client certificates serves the mTLS tests of every leg.
 *
 *   bun tests/runtimes/run.ts [--only bun,node,deno,workerd]
 *
 * Prints each leg's output, then `<runtime>: N passed, M failed`; exits 1 if any leg failed.
 */
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { startMtlsServer } from "../conformance/support/mtls-server.ts";
import { bundleForNode } from "./node-bundle.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
// The runtimes live in their own package (tests/runtimes; `npm test` installs it).
const bin = (name: string) => join(root, "tests", "runtimes", "node_modules", ".bin", name);

export interface LegResult {
  runtime: string;
  passed: number;
  failed: number;
  exitCode: number;
  seconds: number;
}

function run(
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; output: string }> {
  return new Promise((done) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, ...env, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    child.once("exit", (code, signal) => done({ code: code ?? (signal ? 1 : 0), output }));
  });
}

/** Counts from each runner's summary line. */
const counts: Record<string, (out: string) => { passed: number; failed: number }> = {
  bun: (out) => ({
    passed: Number(/^\s*(\d+) pass$/m.exec(out)?.[1] ?? 0),
    failed: Number(/^\s*(\d+) fail$/m.exec(out)?.[1] ?? 0),
  }),
  node: (out) => ({
    passed: Number(/^# pass (\d+)$/m.exec(out)?.[1] ?? 0),
    failed:
      Number(/^# fail (\d+)$/m.exec(out)?.[1] ?? 0) + Number(/^# cancelled (\d+)$/m.exec(out)?.[1] ?? 0),
  }),
  deno: (out) => {
    const m = /(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/.exec(out);
    return { passed: Number(m?.[1] ?? 0), failed: Number(m?.[2] ?? 0) };
  },
};

const conformanceFiles = () =>
  readdirSync(join(root, "tests", "conformance"))
    .filter((f) => f.endsWith(".test.ts"))
    .map((f) => join("tests", "conformance", f));

const legs: Record<
  string,
  (env: Record<string, string>) => Promise<{ code: number; output: string; parse: string }>
> = {
  bun: async (env) => ({
    ...(await run(bin("bun"), ["test", "--timeout", "60000", "./tests/conformance/"], {
      ...env,
      HOOKLINE_CONFORMANCE_RUNTIME: "bun",
    })),
    parse: "bun",
  }),
  node: async (env) => {
    const files = await bundleForNode(conformanceFiles(), join(root, "tests", "runtimes", "dist", "node"));
    return {
      ...(await run(
        process.env.NODE ?? "node",
        ["--test", "--test-concurrency=1", "--test-reporter=tap", ...files],
        {
          ...env,
          HOOKLINE_CONFORMANCE_RUNTIME: "node",
        },
      )),
      parse: "node",
    };
  },
  deno: async (env) => ({
    ...(await run(
      bin("deno"),
      [
        "test",
        "-A",
        "--no-check",
        "--import-map",
        "tests/runtimes/deno-import-map.json",
        "tests/conformance/",
      ],
      { ...env, HOOKLINE_CONFORMANCE_RUNTIME: "deno" },
    )),
    parse: "deno",
  }),
  workerd: async (env) => ({
    ...(await run(bin("bun"), ["test", "--timeout", "60000", "./tests/runtimes/edge.workerd.ts"], env)),
    parse: "bun",
  }),
};

/** Legs that need a Postgres server (TEST_DATABASE_URL); left out, saying so, without one. */
const serverOnly = ["workerd"];

async function main(argv: string[]): Promise<number> {
  const only = argv.includes("--only") ? argv[argv.indexOf("--only") + 1]!.split(",") : Object.keys(legs);
  const unknown = only.filter((l) => !legs[l]);
  if (unknown.length > 0) {
    console.error(`unknown runtime ${unknown.join(", ")}; have ${Object.keys(legs).join(", ")}`);
    return 2;
  }
  // One TLS server requiring client certificates for every leg's mTLS tests.
  const server = await startMtlsServer();
  const dir = await mkdtemp(join(tmpdir(), "hookline-runtimes-"));
  const shared = join(dir, "mtls-server.json");
  await writeFile(shared, JSON.stringify({ url: server.url, pki: server.pki }));
  const results: LegResult[] = [];
  try {
    for (const runtime of only) {
      console.log(`\n=== ${runtime} ===`);
      // The edge worker stores into a Postgres server over TCP (Hyperdrive in production), never PGlite.
      if (serverOnly.includes(runtime) && !process.env.TEST_DATABASE_URL) {
        console.log(`${runtime}: left out — it needs a Postgres server: set TEST_DATABASE_URL to run it`);
        continue;
      }
      const t0 = performance.now();
      const r = await legs[runtime]!({ HOOKLINE_MTLS_SERVER: shared });
      results.push({
        runtime,
        ...counts[r.parse]!(r.output),
        exitCode: r.code,
        seconds: (performance.now() - t0) / 1000,
      });
    }
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
  console.log("\nconformance per runtime:");
  for (const r of results) {
    const what =
      r.runtime === "workerd" ? " (edge worker: inbound cases over HTTP, store, outage, start-up)" : "";
    console.log(
      `${r.runtime}: ${r.passed} passed, ${r.failed} failed${r.exitCode !== 0 ? ` (exit ${r.exitCode})` : ""}, ${r.seconds.toFixed(1)} s${what}`,
    );
  }
  return results.every((r) => r.failed === 0 && r.exitCode === 0 && r.passed > 0) ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(`test:runtimes: ${(e as Error).stack ?? e}`);
      process.exit(1);
    },
  );
}
