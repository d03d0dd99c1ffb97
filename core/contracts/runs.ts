/** A webhook paused after failing continuously: since when, and why. */
export interface PausedWebhook {
  webhook: string;
  pausedAt: string;
  reason: string;
}

/**
 * What the store decides beyond one delivery: runs halted or aborted (inside `complete`), and
 * webhooks paused for failing continuously, which an operator lets go again.
 *
 * @example
 * for (const p of await runs.pausedWebhooks()) await runs.resumeWebhook(p.webhook);
 */
export interface RunHealth {
  /** Lets a paused webhook's deliveries go out again, from where they stopped. */
  resumeWebhook(webhook: string): Promise<boolean>;
  /** Webhooks paused after failing continuously, with when and why. */
  pausedWebhooks(): Promise<PausedWebhook[]>;
}
