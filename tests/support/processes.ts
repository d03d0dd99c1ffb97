import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";

const root = join(import.meta.dir, "..", "..");

/** A delivery worker in its own OS process (tests/support/worker-process.ts), ready when it says so. */
export function startWorker(env: Record<string, string>): {
  child: ChildProcess;
  ready: Promise<void>;
  exited: Promise<unknown>;
} {
  const child = spawn(process.execPath, [join(root, "tests/support/worker-process.ts")], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise((r) => child.once("exit", r));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on("data", (d) => String(d).includes("ready") && resolve());
    child.once("exit", (code) => reject(new Error(`worker exited before it was ready (${code})`)));
  });
  return { child, ready, exited };
}

/** Stops workers: SIGTERM (graceful), then waits for them to exit. */
export async function stopWorkers(
  workers: Array<{ child: ChildProcess; exited: Promise<unknown> }>,
): Promise<void> {
  for (const w of workers)
    if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGTERM");
  await Promise.all(workers.map((w) => w.exited));
}
