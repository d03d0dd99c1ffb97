import type { Runtime } from "../../core/contracts/runtime.ts";

/**
 * `hookline schema | head`: once the reader has gone (EPIPE: Node emits it after the write, Bun throws
 * it from the write), the rest of the output is dropped and the command ends as it would have, without
 * a stack trace. Node's and Bun's commands both use it.
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
