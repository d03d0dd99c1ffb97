// Runs a TypeScript entry on Node: bundles it with esbuild (dependencies stay external, resolved from
// node_modules) into bench/.out/, then runs the bundle. Benchmarks measure Node, where hookline serves.
import { spawnSync } from "node:child_process";
import { basename, join } from "node:path";
import { build } from "esbuild";

const [entry, ...args] = process.argv.slice(2);
const outfile = join("bench", ".out", basename(entry).replace(/\.ts$/, ".mjs"));
await build({
  entryPoints: [entry],
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  packages: "external",
  outfile,
  logLevel: "warning",
});
const r = spawnSync(process.execPath, [outfile, ...args], { stdio: "inherit" });
process.exit(r.status ?? 1);
