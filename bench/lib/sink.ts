// The local keep-alive sink in its own process (bench/sink-process.mjs), and its request counter: the
// benchmarks' completion signal that costs Postgres nothing.
import { type ChildProcess, fork } from "node:child_process";
import { join } from "node:path";

export interface Sink {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Requests the sink has answered so far. */
  count(): Promise<number>;
  /**
   * Resolves once the sink has answered `target` requests in all (asks every 10 ms); throws when the
   * count has not moved for `stallMs` (default 30 s): a run that stopped sending fails, it does not hang.
   */
  reach(target: number, stallMs?: number): Promise<void>;
  stop(): void;
}

/** Forks the sink and waits for its port. */
export async function startSink(): Promise<Sink> {
  // bench/.out/*.mjs (bundled) and bench/lib/*.ts both sit two levels below the repository root.
  const child = fork(join(import.meta.dirname, "..", "..", "bench", "sink-process.mjs"), [], {
    stdio: "inherit",
  });
  const port = await new Promise<number>((resolve) => child.once("message", (m: any) => resolve(m.port)));
  const count = () =>
    new Promise<number>((resolve) => {
      const on = (m: any) => {
        if (typeof m?.count !== "number") return;
        child.off("message", on);
        resolve(m.count);
      };
      child.on("message", on);
      child.send("count");
    });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    child,
    count,
    async reach(target, stallMs = 30_000) {
      let last = -1;
      let movedAt = performance.now();
      for (let n = await count(); n < target; n = await count()) {
        if (n !== last) [last, movedAt] = [n, performance.now()];
        else if (performance.now() - movedAt > stallMs)
          throw new Error(
            `the sink has answered ${n} requests, waiting for ${target}: nothing sent for ${stallMs} ms`,
          );
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    stop: () => child.kill(),
  };
}
