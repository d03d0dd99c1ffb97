import { StoreUnavailableError } from "../../core/plugin/index.ts";

/**
 * Group commit: writes submitted close together are gathered and written by one transaction, so a
 * busy receiver makes one commit per burst, not per request. The first write of a burst waits
 * `lingerMs` for company (requests arriving over HTTP reach the store one event-loop turn apart, so
 * "whatever is queued now" would be one); writes queued while the store is busy go in the next one
 * at once. Each submitter learns its own result, or the error of the write that carried it.
 * When a combined write fails on its data (SQLSTATE class 22 or 23), its items are written one by one,
 * so one bad item fails alone; any other failure (the store is down) fails the batch at once.
 *
 * @example
 * const commit = new GroupCommit<Row, number>((rows) => store(rows), { maxBatch: 500, concurrency: 1, lingerMs: 2 });
 * const stored = await commit.submit(row);
 */
export class GroupCommit<T, R> {
  private queue: Array<{ item: T; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  private running = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    /** Writes a batch; returns one result per item, in order. */
    private readonly write: (items: T[]) => Promise<R[]>,
    private readonly options: { maxBatch: number; concurrency: number; lingerMs: number },
  ) {}

  submit(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.running >= this.options.concurrency) return; // a finishing write picks it up
      if (this.queue.length >= this.options.maxBatch || this.options.lingerMs <= 0) this.pump();
      else
        this.timer ??= setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, this.options.lingerMs);
    });
  }

  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.running < this.options.concurrency && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.running++;
      void this.flush(batch).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async flush(batch: typeof this.queue): Promise<void> {
    try {
      const results = await this.write(batch.map((b) => b.item));
      for (const [i, b] of batch.entries()) b.resolve(results[i]!);
    } catch (e) {
      if (batch.length === 1 || !isDataError(e)) {
        for (const b of batch) b.reject(e);
        return;
      }
      // One item the store refuses must not fail the others: retry them alone.
      for (const b of batch) {
        try {
          b.resolve((await this.write([b.item]))[0]!);
        } catch (err) {
          b.reject(err);
        }
      }
    }
  }
}

/** The SQLSTATE of a Postgres error, anywhere in the cause chain (drivers may wrap it). */
function sqlStates(e: unknown, stopAt?: (x: unknown) => boolean): string[] {
  const states: string[] = [];
  for (
    let x = e as { code?: unknown; cause?: unknown } | undefined, i = 0;
    x && i < 5 && !stopAt?.(x);
    x = x.cause as typeof x, i++
  ) {
    if (typeof x.code === "string" && /^[0-9A-Z]{5}$/.test(x.code)) states.push(x.code);
  }
  return states;
}

/** True for a Postgres data or integrity error (SQLSTATE 22xxx / 23xxx), anywhere in the cause chain. */
function isDataError(e: unknown): boolean {
  return sqlStates(e).some((s) => /^2[23]/.test(s));
}

/**
 * The SQLSTATE when the store refused a write for its data (class 22, data exception: a character
 * or value it cannot keep), else undefined. Once a batch is retried item by item, such an error
 * belongs to the one request that carries the data: answering it 500 would make its sender retry
 * forever. Integrity errors (class 23) are not counted: a race (a profile deleted meanwhile) causes
 * them, and a retry succeeds. A `StoreUnavailableError` in the chain (stored, then not published)
 * stops the search: that is the store's side.
 *
 * @example catch (e) { const state = refusedData(e); if (state) return unstorable([], state); }
 */
export function refusedData(e: unknown): string | undefined {
  return sqlStates(e, (x) => x instanceof StoreUnavailableError).find((s) => s.startsWith("22"));
}
