// The runtimes the tests run on (Bun, Deno, workerd) live in their own package, tests/runtimes/, so
// that the project's own install (`npm ci`, with or without dev dependencies) needs none of their
// binaries. This installs that package when it is missing or its lock changed, and runs one of them:
//
//   node scripts/runtimes.mjs bun test --timeout 60000
//
// The runtimes' bin folder goes first on PATH, so a test that spawns `bun`, `deno` or `workerd`
// finds the same versions.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const runtimesDir = join(root, "tests", "runtimes");
export const runtimesBin = join(runtimesDir, "node_modules", ".bin");

/** The path of a runtime's executable in tests/runtimes/node_modules/.bin. */
export const runtimeBin = (name) => join(runtimesBin, name);

/** Installs tests/runtimes (npm ci) unless what is installed matches its lock. */
export function ensureRuntimes() {
  const lock = readFileSync(join(runtimesDir, "package-lock.json"));
  const digest = createHash("sha256")
    .update(lock)
    .update(readFileSync(join(runtimesDir, "package.json")))
    .digest("hex");
  const stamp = join(runtimesDir, "node_modules", ".hookline-installed");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === digest) return;
  console.log("== installing the test runtimes (tests/runtimes: bun, deno, workerd)");
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const r = spawnSync(npm, ["ci", "--no-audit", "--no-fund"], { cwd: runtimesDir, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`npm ci in tests/runtimes failed (exit ${r.status})`);
  writeFileSync(stamp, digest);
}

/** The environment a runtime runs in: its bin folder first on PATH. */
export function runtimeEnv(env = process.env) {
  return { ...env, PATH: `${runtimesBin}${delimiter}${env.PATH ?? ""}` };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [name, ...args] = process.argv.slice(2);
  if (!name) {
    console.error("usage: node scripts/runtimes.mjs <bun|deno|workerd> [args…]");
    process.exit(2);
  }
  ensureRuntimes();
  const child = spawn(runtimeBin(name), args, { cwd: root, stdio: "inherit", env: runtimeEnv() });
  for (const s of ["SIGINT", "SIGTERM"]) process.on(s, () => child.kill(s));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
