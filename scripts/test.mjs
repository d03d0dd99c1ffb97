// `npm test`: the whole suite CI runs — the bun:test suite (tests/), then the conformance suite on
// Bun, Node, Deno and workerd (tests/runtimes/run.ts) — and one closing line `N passed, N failed`.
//
//   npm test                              # everything; Postgres-server legs only with TEST_DATABASE_URL
//   npm test -- --runtimes bun,node       # conformance on some runtimes only (e.g. where deno has no build)
//   npm test -- --suite-only              # the bun:test suite, no conformance legs
//
// Store suites always run on PGlite (embedded); with TEST_DATABASE_URL=postgres://… they run on that
// server too, and the few tests that need a server (worker processes sharing one) run.
import { spawn } from "node:child_process";
import { ensureRuntimes, root, runtimeBin, runtimeEnv } from "./runtimes.mjs";

const argv = process.argv.slice(2);
const flag = (name) => {
  const i = argv.indexOf(name);
  return i >= 0 ? (argv[i + 1] ?? "") : undefined;
};
const runtimes = flag("--runtimes");
const suiteOnly = argv.includes("--suite-only");

function run(command, args) {
  return new Promise((done) => {
    const child = spawn(command, args, { cwd: root, env: runtimeEnv(), stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const take = (stream) => (chunk) => {
      output += chunk.toString();
      stream.write(chunk);
    };
    child.stdout.on("data", take(process.stdout));
    child.stderr.on("data", take(process.stderr));
    child.on("exit", (code, signal) => done({ code: code ?? (signal ? 1 : 0), output }));
  });
}

const server = process.env.TEST_DATABASE_URL;
const storeLine = server
  ? "stores: PGlite and the Postgres server in TEST_DATABASE_URL"
  : "stores: PGlite only — the Postgres-server legs (store suites on the server, worker processes sharing it, the workerd edge leg) are LEFT OUT: set TEST_DATABASE_URL=postgres://… to run them";
console.log(`== ${storeLine}`);

ensureRuntimes();
const parts = [];

console.log("== the bun:test suite (tests/)");
const suite = await run(runtimeBin("bun"), ["test", "--timeout", "60000"]);
parts.push({
  name: "suite",
  // bun prints "(fail) describe > test [ms]" per failing test; the totals repeat them so a log's tail
  // names what failed (bun lists them again at its end: once each here).
  failures: [...new Set([...suite.output.matchAll(/^\(fail\) (.*)$/gm)].map((m) => m[1]))],
  passed: Number(/^\s*(\d+) pass$/m.exec(suite.output)?.[1] ?? 0),
  failed: Number(/^\s*(\d+) fail$/m.exec(suite.output)?.[1] ?? 0),
  code: suite.code,
});

if (!suiteOnly) {
  console.log("== conformance on every runtime (tests/runtimes/run.ts)");
  const legs = await run(runtimeBin("bun"), [
    "tests/runtimes/run.ts",
    ...(runtimes ? ["--only", runtimes] : []),
  ]);
  let passed = 0;
  let failed = 0;
  for (const m of legs.output.matchAll(/^(bun|node|deno|workerd): (\d+) passed, (\d+) failed/gm)) {
    passed += Number(m[2]);
    failed += Number(m[3]);
  }
  const failures = [
    ...new Set(
      [...legs.output.matchAll(/^(.*) \.\.\. FAILED/gm), ...legs.output.matchAll(/^\(fail\) (.*)$/gm)].map(
        (m) => m[1],
      ),
    ),
  ];
  parts.push({ name: "conformance", passed, failed, code: legs.code, failures });
}

console.log("\n== totals");
for (const p of parts) {
  console.log(`${p.name}: ${p.passed} passed, ${p.failed} failed${p.code !== 0 ? ` (exit ${p.code})` : ""}`);
  for (const f of p.failures ?? []) console.log(`  failed: ${f}`);
}
console.log(storeLine);
const passed = parts.reduce((n, p) => n + p.passed, 0);
let failed = parts.reduce((n, p) => n + p.failed, 0);
const ok = parts.every((p) => p.code === 0 && p.failed === 0 && p.passed > 0);
// A part that exited non-zero without a failing test (a crash, a load error) still counts as a failure.
if (!ok && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(ok ? 0 : 1);
