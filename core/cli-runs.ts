import type { RunSummary } from "./contracts/runs.ts";
import type { Runtime } from "./contracts/runtime.ts";
import { HooklineError } from "./errors.ts";

/**
 * The running server a command asks (`--url`, else HOOKLINE_URL, else http://127.0.0.1:8080, with
 * HOOKLINE_ADMIN_TOKEN as the bearer token): `ask` answers its Response, or throws naming the server
 * it cannot reach. `runs watch` and `tokens` use it.
 *
 * @example const server = serverOf(runtime, options.url); const r = await server.ask("GET", "/v1/runs");
 */
export function serverOf(runtime: Runtime, url?: string) {
  const base = (url ?? runtime.env.HOOKLINE_URL ?? "http://127.0.0.1:8080").replace(/\/+$/, "");
  const token = runtime.env.HOOKLINE_ADMIN_TOKEN;
  return {
    base,
    async ask(method: string, path: string, body?: unknown): Promise<Response> {
      try {
        return await fetch(`${base}${path}`, {
          method,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (e) {
        throw new HooklineError(
          "HOOKLINE_USAGE",
          `cannot reach hookline at ${base}: ${(e as Error).message}`,
        );
      }
    },
  };
}

/** How often `runs watch` asks the server. */
const EVERY_MS = 1_000;
const BAR = 30;

const n = (x: number) => x.toLocaleString("en-US");

/** A run's progress on one line: a bar, the share ended, counts by outcome, rate and time left. */
export function progressLine(run: RunSummary): string {
  const { total, succeeded, failed, halted, aborted, skipped, queued } = run.counts;
  const ended = total - queued;
  const share = total === 0 ? (run.state === "running" ? 0 : 1) : ended / total;
  const filled = Math.round(share * BAR);
  const eta =
    run.etaSeconds === undefined
      ? ""
      : run.etaSeconds >= 3600
        ? ` eta ${Math.floor(run.etaSeconds / 3600)}h${String(Math.floor((run.etaSeconds % 3600) / 60)).padStart(2, "0")}m`
        : run.etaSeconds >= 60
          ? ` eta ${Math.floor(run.etaSeconds / 60)}m${String(run.etaSeconds % 60).padStart(2, "0")}s`
          : ` eta ${run.etaSeconds}s`;
  const bad = [
    failed && `failed ${n(failed)}`,
    halted && `halted ${n(halted)}`,
    aborted && `aborted ${n(aborted)}`,
    skipped && `skipped ${n(skipped)}`,
  ]
    .filter(Boolean)
    .join(" ");
  return (
    `[${"#".repeat(filled)}${"-".repeat(BAR - filled)}] ${String(Math.floor(share * 100)).padStart(3)}%` +
    ` ${n(ended)}/${n(total)} ok ${n(succeeded)}${bad ? ` ${bad}` : ""}` +
    ` ${run.perSecond}/s${eta}${run.state === "running" ? "" : ` ${run.state}`}`
  );
}

/**
 * `hookline runs watch RUN`: follows a run on a running server (`--url`, else HOOKLINE_URL, else
 * http://127.0.0.1:8080; HOOKLINE_ADMIN_TOKEN as the bearer token) until it ends. In a terminal the
 * line is redrawn in place; otherwise a line is printed whenever the progress changes. Exits 0 when
 * every delivery succeeded, 1 when the run ended with failures, halts or aborts or was cancelled.
 */
export async function watchRun(
  runtime: Runtime,
  id: string,
  options: { url?: string; sleep?: (ms: number) => Promise<void> },
): Promise<number> {
  const { base, ask } = serverOf(runtime, options.url);
  const sleep = options.sleep ?? ((ms) => new Promise<void>((r) => setTimeout(r, ms)));
  const terminal = runtime.stdoutIsTerminal?.() ?? false;
  let last = "";
  for (;;) {
    const answer = await ask("GET", `/v1/runs/${encodeURIComponent(id)}`);
    if (answer.status === 404) throw new HooklineError("HOOKLINE_USAGE", `no run ${id} at ${base}`);
    if (answer.status === 401)
      throw new HooklineError("HOOKLINE_USAGE", `${base} refused the admin token (set HOOKLINE_ADMIN_TOKEN)`);
    if (!answer.ok)
      throw new HooklineError("HOOKLINE_USAGE", `${base} answered ${answer.status} for run ${id}`);
    const run = ((await answer.json()) as { run: RunSummary }).run;
    const line = progressLine(run);
    if (line !== last) {
      // Up one line and clear it: the bar is redrawn where it was.
      runtime.stdout(terminal && last ? `\x1b[1A\x1b[2K${line}` : line);
      last = line;
    }
    if (run.state !== "running") {
      // A skip (no consent) is the campaign keeping its rule, not a failure.
      const { failed, halted, aborted } = run.counts;
      return run.state === "cancelled" || failed + halted + aborted > 0 ? 1 : 0;
    }
    await sleep(EVERY_MS);
  }
}
