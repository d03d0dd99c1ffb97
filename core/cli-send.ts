import { serverOf, watchRun } from "./cli-runs.ts";
import type { Runtime } from "./contracts/runtime.ts";
import { HooklineError } from "./errors.ts";

/**
 * `hookline send --segment NAME --webhook NAME [--send-id ID]`: starts a segment send on a running
 * server (`--url`, else HOOKLINE_URL, else http://127.0.0.1:8080; HOOKLINE_ADMIN_TOKEN as the bearer
 * token), prints its run, and follows the run as `hookline runs watch` does. The same `--send-id` again
 * starts nothing new: it follows the send already made. Exits as `runs watch` does.
 *
 * @example await sendSegment(runtime, { segment: "vip", webhook: "crm" })
 */
export async function sendSegment(
  runtime: Runtime,
  options: {
    segment: string;
    webhook: string;
    sendId?: string;
    url?: string;
    sleep?: (ms: number) => Promise<void>;
  },
): Promise<number> {
  const { base, ask } = serverOf(runtime, options.url);
  const answer = await ask("POST", `/v1/segments/${encodeURIComponent(options.segment)}/send`, {
    webhook: options.webhook,
    ...(options.sendId ? { sendId: options.sendId } : {}),
  });
  if (answer.status === 401)
    throw new HooklineError("HOOKLINE_USAGE", `${base} refused the admin token (set HOOKLINE_ADMIN_TOKEN)`);
  if (answer.status !== 202) {
    const body = (await answer.json().catch(() => undefined)) as { error?: string } | undefined;
    throw new HooklineError(
      "HOOKLINE_USAGE",
      `${base} refused the send (${answer.status})${body?.error ? `: ${body.error}` : ""}`,
    );
  }
  const started = (await answer.json()) as { runId: string; sendId: string; created: boolean };
  runtime.stdout(
    `${started.created ? "started" : "already started"}: send ${started.sendId} of segment ${options.segment} to ${options.webhook}, run ${started.runId}`,
  );
  return watchRun(runtime, started.runId, { url: options.url, sleep: options.sleep });
}
