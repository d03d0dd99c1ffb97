import type { Logger } from "../contracts/logger.ts";
import type { RunLog } from "../contracts/runs.ts";
import { WakeUp } from "../util/wake-up.ts";

/** How long one turn works on jobs before it looks up again (a page is 1,000 deliveries). */
const TURN_MS = 1_000;
/** How long an idle runner waits before it looks for jobs (a job started here wakes it at once). */
const IDLE_MS = 2_000;
/** How often runs' tallies are merged, and how many rows at most each time. */
const MERGE_EVERY_MS = 60_000;
const MERGE_ROWS = 50_000;

/**
 * Works on runs' jobs (bulk retries, replays) in this process, and merges runs' older tally rows
 * once a minute (`compactTallies`): a turn takes the oldest unfinished job
 * no live process holds and works its pages for about a second, then looks again; when nothing is
 * left, it waits until woken (a job started here) or `IDLE_MS`. Deliveries it makes due wake the
 * worker (`onDue`). A process that dies leaves its job to another once the job's lease runs out.
 *
 * @example
 * const jobs = new JobRunner(store, "w-1", logger, () => worker.wake());
 * jobs.start();
 */
export class JobRunner {
  private running = false;
  private nextMerge = Date.now() + MERGE_EVERY_MS;
  private loop?: Promise<void>;
  private readonly idle = new WakeUp();

  constructor(
    private readonly runs: Pick<RunLog, "runJobs" | "compactTallies">,
    private readonly owner: string,
    private readonly logger: Logger,
    private readonly onDue: () => void,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.turns();
  }

  /** A job was started here: look now. */
  wake(): void {
    this.idle.wake();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  private async turns(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let made = 0;
      let busy = false;
      try {
        const started = Date.now();
        made = await this.runs.runJobs(this.owner, TURN_MS);
        // A turn that used its whole time had work: there may be more.
        busy = Date.now() - started >= TURN_MS;
        failures = 0;
      } catch (e) {
        failures++;
        this.logger.log("error", "jobs.failed", { error: (e as Error).message, failures });
      }
      if (made > 0) this.onDue();
      if (Date.now() >= this.nextMerge) {
        this.nextMerge = Date.now() + MERGE_EVERY_MS;
        await this.runs
          .compactTallies(MERGE_ROWS)
          .catch((e) =>
            this.logger.log("warn", "runs.tallies_merge_failed", { error: (e as Error).message }),
          );
      }
      if (!busy && this.running) await this.idle.wait(Math.min(IDLE_MS * 2 ** failures, 30_000));
    }
  }
}
