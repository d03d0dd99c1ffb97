import type { EventInput } from "../model/event.ts";

/** A webhook run aborted, or a webhook paused, as the store reports it after recording outcomes. */
export interface EndedRunNotice {
  webhook: string;
  runId?: string;
  reason: string;
  paused?: boolean;
}

/**
 * The events raised when runs end early: `webhook.aborted` (a run stopped after too many
 * unrecoverable outcomes; one per run, its id derived from the run so a repeat is a no-op) and
 * `webhook.paused` (a webhook failing continuously for `engine.pauseAfter`). Triggers on them route
 * the news to a team's channel like any event.
 *
 * @example runEndedEvents([{ webhook: "crm", runId: "run_1", reason: "50 failures" }])[0].type // "webhook.aborted"
 */
export function runEndedEvents(ended: readonly EndedRunNotice[], now = Date.now()): EventInput[] {
  return ended.map((r) => ({
    type: r.paused ? "webhook.paused" : "webhook.aborted",
    id: (r.paused ? `paused.${r.webhook}.${now}` : `aborted.${r.webhook}.${r.runId}`)
      .replace(/[^A-Za-z0-9._:@-]/g, "-")
      .slice(0, 200),
    data: { webhook: r.webhook, runId: r.runId, reason: r.reason },
  }));
}
