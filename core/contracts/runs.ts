/** A webhook paused after failing continuously: since when, and why. */
export interface PausedWebhook {
  webhook: string;
  pausedAt: string;
  reason: string;
}

/** A webhook an operator disabled: since when, and why. */
export interface DisabledWebhook {
  webhook: string;
  disabledAt: string;
  reason: string;
}

/**
 * What becomes of a webhook's queued deliveries when it is disabled: they `wait` (set aside, not
 * claimed, until it is enabled) or are `cancel`led (ended halted with the reason).
 */
export type QueuedOnDisable = "wait" | "cancel";

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
  /**
   * Disables a webhook on every process sharing the store: triggers write no delivery of it, and its
   * queued deliveries wait (set aside as `paused`) or end halted with `reason`. Returns the
   * deliveries it halted, or undefined when it was disabled already.
   */
  disableWebhook(
    webhook: string,
    options: { queued: QueuedOnDisable; reason: string },
  ): Promise<{ halted: number } | undefined>;
  /** Enables a disabled webhook: its set-aside deliveries are due again (unless it is paused too). */
  enableWebhook(webhook: string): Promise<boolean>;
  /** Webhooks an operator disabled, with when and why. */
  disabledWebhooks(): Promise<DisabledWebhook[]>;
}

/** Deliveries of a run (or of one of its webhooks) by where they are. */
export interface RunCounts {
  /** Written in the run. */
  total: number;
  succeeded: number;
  failed: number;
  halted: number;
  aborted: number;
  /** Not sent: the customer had none of the consent objectives needed. */
  skipped: number;
  /** Not ended yet: due, scheduled for a retry, waiting in an ordered stream, paused or in flight. */
  queued: number;
}

/**
 * A run: every publish call is one (its deliveries share the run id), and so are a bulk retry and a
 * replay. Its progress is read from tallies written with the deliveries and their outcomes.
 */
export interface RunSummary {
  id: string;
  kind: "publish" | "retry" | "replay" | (string & {});
  /** `running` while deliveries are queued (or a job is still selecting them); else `finished`. */
  state: "running" | "finished" | "cancelled";
  startedAt: string;
  /** When the last delivery ended (absent while running). */
  finishedAt?: string;
  counts: RunCounts;
  webhooks: Array<{ webhook: string; counts: RunCounts; halted?: { reason: string; at: string } }>;
  /** Deliveries ended per second over the last minute (or since the run started, if later). */
  perSecond: number;
  /** Seconds until the queued deliveries end at that rate (absent when nothing is queued or nothing ends). */
  etaSeconds?: number;
  cancelledAt?: string;
  /** A bulk retry's, a replay's or a segment send's job: what it selects and whether it has finished selecting. */
  job?: {
    state: "running" | "done" | "cancelled";
    filter?: RetryFilter;
    source?: string;
    /** A segment send's: its id, segment and webhooks (`created` counts the deliveries written so far). */
    send?: { sendId: string; segment: string; webhooks: string[] };
  };
}

/** Which ended deliveries a bulk retry sends again. */
export interface RetryFilter {
  /**
   * The statuses to retry (default: failed). `skipped` only when named: consent is checked again at
   * send time, so those who consented since are sent and the others are skipped again.
   */
  statuses?: Array<"failed" | "halted" | "aborted" | "succeeded" | "skipped">;
  webhook?: string;
  /** Deliveries published in this run (or retried in it). */
  run?: string;
  /** Deliveries of this customer (the event's customer id). */
  customer?: string;
  /** ISO timestamps bounding when the deliveries were created. */
  since?: string;
  until?: string;
  /** The error class of the delivery's last attempt (a transport fault such as `timeout` or `connection_refused`, or `render`). */
  errorClass?: string;
  /** Attempts each retried delivery gets afresh (default: its own attempt budget). */
  attempts?: number;
}

/**
 * Runs as an operator sees them: their progress, bulk retries and replays (jobs that run in pages
 * inside the workers' processes, so a million deliveries never sit in memory), and cancelling one.
 *
 * @example
 * const run = await runs.startRetry({ statuses: ["failed"], webhook: "crm" });
 * console.log((await runs.getRun(run.id))?.counts.queued);
 */
export interface RunLog {
  listRuns(filter: { kind?: string; limit?: number; before?: string }): Promise<RunSummary[]>;
  getRun(id: string): Promise<RunSummary | undefined>;
  /** Starts a bulk retry: a run whose job moves matching ended deliveries into it, page by page. */
  startRetry(filter: RetryFilter): Promise<RunSummary>;
  /** Starts a replay: a run whose job writes a copy of each of the source run's deliveries (new ids and idempotency keys). */
  startReplay(source: string): Promise<RunSummary | undefined>;
  /** Cancels a run: its job stops and its queued deliveries end halted with the reason. */
  cancelRun(id: string, reason: string): Promise<RunSummary | undefined>;
  /**
   * Works on unfinished jobs for about `budgetMs` (one job at a time per process, leased to `owner`
   * so that a process that dies leaves it to another). Returns the deliveries it made due.
   */
  runJobs(owner: string, budgetMs: number): Promise<number>;
  /**
   * Merges up to `limit` tally rows older than a few minutes into one row per run, webhook and
   * status (runs read the same counts; the last minute's rows, which give the rate, stay apart),
   * keeping the ended ones' counts by the minute they were tallied in (the overview's outcomes).
   * Returns how many rows it merged.
   */
  compactTallies(limit: number): Promise<number>;
}
