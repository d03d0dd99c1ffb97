import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { build } from "esbuild";

const root = join(import.meta.dir, "..", "..");
// The runtimes live in their own package (tests/runtimes; `npm test` installs it).
const bin = (name: string) => join(root, "tests", "runtimes", "node_modules", ".bin", name);

export type CliRuntime = "node" | "bun" | "deno";

let nodeBundle: Promise<string> | undefined;

/**
 * The Node command bundled from source (adapters/node/cli.ts), so that tests never run a stale dist/.
 *
 * @example const file = await nodeCli(); spawn("node", [file, "validate", "--config", f]);
 */
export function nodeCli(): Promise<string> {
  nodeBundle ??= (async () => {
    const outfile = join(root, "tests", "runtimes", "dist", "node-cli.mjs");
    await build({
      entryPoints: [join(root, "tests", "runtimes", "node-cli.ts")],
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      packages: "external",
      outfile,
      logLevel: "warning",
    });
    return outfile;
  })();
  return nodeBundle;
}

/**
 * The command line that runs `hookline` from source on a runtime.
 *
 * @example const [cmd, ...args] = await cliCommand("deno"); // deno run -A adapters/deno/cli.ts
 */
export async function cliCommand(runtime: CliRuntime, denoFlags: string[] = []): Promise<string[]> {
  switch (runtime) {
    case "node":
      return [process.env.NODE ?? "node", await nodeCli()];
    case "bun":
      return [bin("bun"), join(root, "adapters", "bun", "cli.ts")];
    case "deno":
      return [bin("deno"), "run", "-A", ...denoFlags, join(root, "adapters", "deno", "cli.ts")];
  }
}

export interface CliProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * Starts `hookline` on a runtime, collecting stdout and stderr.
 *
 * @example const p = await startCli("bun", ["serve", "--config", f, "--port", "8080"], { HOOKLINE_DATA_DIR: dir });
 */
export async function startCli(
  runtime: CliRuntime,
  args: string[],
  env: Record<string, string>,
  denoFlags: string[] = [],
): Promise<CliProcess> {
  const [command, ...pre] = await cliCommand(runtime, denoFlags);
  const child = spawn(command!, [...pre, ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let text = "";
  child.stdout!.on("data", (c) => (text += String(c)));
  child.stderr!.on("data", (c) => (text += String(c)));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { child, output: () => text, exited };
}

/**
 * Polls a URL until it answers 200 (or throws after `ms`, with what the process printed).
 *
 * @example await untilHealthy("http://127.0.0.1:8080/healthz", p);
 */
export async function untilHealthy(url: string, p: CliProcess, ms = 60_000): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    if (p.child.exitCode !== null)
      throw new Error(`exited (${p.child.exitCode}) before answering: ${p.output()}`);
    try {
      if ((await fetch(url)).status === 200) return performance.now() - t0;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no 200 from ${url} within ${ms} ms: ${p.output()}`);
}
