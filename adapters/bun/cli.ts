import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { packageVersion, runCli } from "../../core/cli.ts";
import { defaultPlugins } from "../../plugins/defaults.ts";
import { quietWhenStdoutCloses } from "../node/stdout.ts";
import { bunRuntime } from "./runtime.ts";

/**
 * The `hookline` command on Bun, from source: `bun adapters/bun/cli.ts serve --config hookline.yaml`.
 *
 * @example await main(["validate", "--config", "hookline.yaml"]);
 */
export async function main(argv: string[] = process.argv.slice(2)): Promise<void> {
  // A synchronous reader lets mTLS check certificates from files when the config loads.
  const code = await runCli(
    quietWhenStdoutCloses(bunRuntime()),
    argv,
    defaultPlugins({ readFile: (path) => readFileSync(path, "utf8") }),
    { version: () => packageVersion((url) => readFile(url, "utf8")) },
  );
  process.exitCode = code;
  // Pools, PGlite and a worker that failed to start may hold the loop open after serve returns.
  if (argv[0] === "serve" || argv[0] === "worker") setTimeout(() => process.exit(code), 200).unref();
}

if (import.meta.main) await main();
