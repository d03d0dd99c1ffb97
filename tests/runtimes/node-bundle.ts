// Node leg of the conformance suite: bun:test files as node:test bundles.
import { mkdir, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Bundles bun:test files for Node with esbuild, `bun:test` aliased to the node:test shim, packages
 * left external (resolved from node_modules when Node runs them). One bundle per test file, in `out`.
 *
 * @example const files = await bundleForNode(["tests/conformance/engine.test.ts"], "tests/runtimes/dist/node");
 */
export async function bundleForNode(files: string[], out: string): Promise<string[]> {
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
  // `x.test.ts` becomes `x.node.mjs`: not a name `bun test` would pick up from the main suite.
  const name = (f: string) => basename(f).replace(/(\.test)?\.ts$/, ".node");
  await build({
    entryPoints: files.map((f) => ({ in: resolve(f), out: name(f) })),
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    outdir: out,
    outExtension: { ".js": ".mjs" },
    packages: "external",
    alias: { "bun:test": join(here, "bun-test.node.ts") },
    logLevel: "warning",
  });
  return files.map((f) => join(out, `${name(f)}.mjs`));
}
