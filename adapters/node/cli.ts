import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { packageVersion, runCli } from "../../core/cli.ts";
import type { Runtime } from "../../core/contracts/runtime.ts";
import { defaultPlugins } from "../../plugins/defaults.ts";
import { nodeRuntime } from "./runtime.ts";

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

/**
 * `hookline schema | head`: once the reader has gone (EPIPE), the rest of the output is dropped and the
 * command ends as it would have, instead of dying on an unhandled stream error with a stack trace.
 *
 * @example await runCli(quietWhenStdoutCloses(nodeRuntime()), argv, plugins);
 */
export function quietWhenStdoutCloses(runtime: Runtime): Runtime {
  let closed = false;
  const readerGone = (e: unknown) => {
    if ((e as { code?: unknown }).code !== "EPIPE") throw e;
    closed = true;
  };
  process.stdout.on("error", readerGone);
  return {
    ...runtime,
    stdout(line) {
      if (closed) return;
      try {
        runtime.stdout(line);
      } catch (e) {
        readerGone(e);
      }
    },
  };
}
