import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { packageVersion, runCli } from "../../core/cli.ts";
import { defaultPlugins } from "../../plugins/defaults.ts";
import { nodeRuntime } from "./runtime.ts";
import { quietWhenStdoutCloses } from "./stdout.ts";

/** The `hookline` command on Node. */
export async function main(argv = process.argv.slice(2)): Promise<void> {
  // A synchronous reader lets mTLS check certificates from files when the config loads.
  const code = await runCli(
    quietWhenStdoutCloses(nodeRuntime()),
    argv,
    defaultPlugins({ readFile: (path) => readFileSync(path, "utf8") }),
    { version: () => packageVersion((url) => readFile(url, "utf8")) },
  );
  process.exitCode = code;
  // Pools and timers may hold the loop open after a clean shutdown.
  if (argv[0] === "serve" || argv[0] === "worker") setTimeout(() => process.exit(code), 200).unref();
}
