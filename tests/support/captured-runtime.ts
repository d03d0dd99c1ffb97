import { nodeRuntime } from "../../adapters/node/runtime.ts";
import type { Runtime } from "../../core/contracts/runtime.ts";

/**
 * The Node runtime with its output captured: `env` is all the environment the command sees, and
 * `terminal` whether stdout is one.
 *
 * @example const c = capturedRuntime({ HOOKLINE_ADMIN_TOKEN: token }); await runCli(c.runtime, argv, plugins);
 */
export function capturedRuntime(env: Record<string, string>, terminal = false) {
  const out: string[] = [];
  const err: string[] = [];
  const runtime: Runtime = {
    ...nodeRuntime(),
    env,
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
    stdoutIsTerminal: () => terminal,
  };
  return { runtime, out, err };
}
