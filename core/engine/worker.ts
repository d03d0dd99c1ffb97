import type { Logger } from "../contracts/logger.ts";
import type { ClaimedDelivery, CompleteOptions, DeliveryResult, Store } from "../contracts/store.ts";
import type { Telemetry } from "../telemetry/telemetry.ts";
import { WakeUp } from "../util/wake-up.ts";
import { logEnded, logOutcomes } from "./outcome-log.ts";

export interface WorkerOptions {
  store: Store;
  attempt: (delivery: ClaimedDelivery, signal: AbortSignal) => Promise<DeliveryResult>;
  logger: Logger;
  /** Requests in flight at most. */
  concurrency: number;
  leaseMs: number;
  /** How long a due delivery of a bulk run waits behind events' deliveries at most (default 30 s). */
  bulkMaxWaitMs?: number;
  pollIntervalMs: number;
  /** Identifies this worker's leases; default a random id. */
  owner?: string;
  /** Results recorded per store write at most. */
  flushBatch?: number;
  /** How long a result may wait for others to share its store write (default 10 ms). */
  lingerMs?: number;
  /** The batch size of a batch webhook; undefined for a webhook that sends one request per delivery. */
  batchSizeOf?: (webhook: string) => number | undefined;
  /** Unrecoverable outcomes in one webhook run that abort the rest of it. */
  abortAfter?: number;
  /** A webhook failing continuously this long is paused. */
  pauseAfterMs?: number;
  /** Called with runs aborted and webhooks paused just now (to raise `webhook.aborted`, `webhook.paused`). */
  onAborted?: (ended: Array<{ webhook: string; runId?: string; reason: string; paused?: boolean }>) => void;
  /** Makes the fail branch's deliveries for deliveries ended unsent with their run (aborted, halted). */
  ended?: CompleteOptions["ended"];
  /**
   * Runs before a claim is dispatched: the app reloads its catalogue when the claim names a webhook
   * it does not know (one created a moment ago in another process), so that such a delivery is sent,
   * not failed as unknown. A failure is logged; the claim is dispatched regardless.
   */
  beforeDispatch?: (claimed: ClaimedDelivery[]) => Promise<void>;
  /** One attempt of a batch: one request for all the deliveries given (all of one webhook). */
  attemptBatch?: (deliveries: ClaimedDelivery[], signal: AbortSignal) => Promise<DeliveryResult[]>;
  /**
   * Before a claimed batch goes out: splits off the deliveries not to send (no consent: `ConsentScreen`),
   * whose results are recorded like any other. Absent: everything claimed is sent.
   */
  screen?: (claimed: ClaimedDelivery[]) => Promise<{ send: ClaimedDelivery[]; skipped: DeliveryResult[] }>;
  /** Counts attempts' outcomes and the store's failures (metrics). */
  telemetry?: Pick<Telemetry, "attempted" | "storeError">;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      "abort",
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });

/**
 * Claims due deliveries (`FOR UPDATE SKIP LOCKED`, with a lease), runs up to `concurrency` attempts at
 * once, and records their results in batches: while one write is in progress the next results gather
 * (group commit). A result that cannot be recorded is kept and written again; if the process dies
 * first, the lease expires and another worker sends the delivery again with the same idempotency key.
 *
 * @example const w = new Worker({ store, attempt: (d, s) => deliverer.attempt(d, s), logger, concurrency: 50, leaseMs: 60000, pollIntervalMs: 200 }); w.start();
 */
export class Worker {
  readonly owner: string;
  private running = false;
  private inFlight = 0;
  private results: DeliveryResult[] = [];
  private flushing?: Promise<void>;
  private linger?: ReturnType<typeof setTimeout>;
  private readonly idle = new WakeUp();
  private waitingForRoom = false;
  private loop?: Promise<void>;
  private readonly abort = new AbortController();
  private readonly minClaim: number;
  private nextReclaim = 0;
  /** Slots held for deliveries being written leased to this worker (send at once). */
  private reserved = 0;
  /** Slots a claim in progress may fill. */
  private claiming = 0;

  constructor(private readonly o: WorkerOptions) {
    this.owner = o.owner ?? `w-${crypto.randomUUID()}`;
    // Claiming one row at a time costs a statement each: wait until half the slots are free.
    this.minClaim = Math.max(1, Math.floor(o.concurrency / 2));
  }

  /** Starts claiming; returns at once. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.claimLoop();
  }

  /** Ends an idle wait now (new deliveries were written by this process). */
  wake(): void {
    this.idle.wake();
  }

  get active(): number {
    return this.inFlight;
  }

  /** Whether it claims: started and not stopped (readiness). */
  get isRunning(): boolean {
    return this.running;
  }

  /**
   * Stops claiming, waits up to `graceMs` for attempts in flight, records their results. Attempts still
   * running after that are aborted; their leases expire and another worker takes them.
   */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    await this.loop;
    const deadline = Date.now() + graceMs;
    while (this.inFlight > 0 && Date.now() < deadline) await sleep(20);
    if (this.inFlight > 0) this.abort.abort();
    while (this.inFlight > 0) await sleep(10);
    await this.drainResults(graceMs);
  }

  /**
   * Waits for `ms` or a nudge: `wake()` (deliveries written here) and a recorded flush (slots given
   * back, streams moved on, retries scheduled) end any wait; an attempt ending only a wait for room.
   */
  private waitForNudge(ms: number, forRoom = false): Promise<void> {
    this.waitingForRoom = forRoom;
    return this.idle.wait(ms);
  }

  /** An attempt ended: room for another claim, though nothing new is due until its result is recorded. */
  private roomFreed(): void {
    if (this.waitingForRoom) this.wake();
  }

  /**
   * Send at once (`Outbox.sendAtOnce`): holds up to `wanted` free slots for deliveries this process is
   * writing already leased to this worker, until `accept`. Returns how many it holds: none while
   * stopped, or when claims in progress and attempts in flight fill its slots.
   */
  reserve(wanted: number): number {
    if (!this.running) return 0;
    const free = this.o.concurrency - this.inFlight - this.reserved - this.claiming;
    const held = Math.max(0, Math.min(wanted, free));
    this.reserved += held;
    return held;
  }

  /**
   * Sends deliveries written leased to this worker (singles, at most the slots `reserve` held) and
   * frees the slots held for them. A worker stopped meanwhile sends nothing: their leases expire and
   * any worker sends them.
   */
  accept(leased: ClaimedDelivery[], held: number): void {
    this.reserved -= held;
    if (this.running) for (const d of leased.slice(0, held)) this.dispatch(d);
    if (leased.length < held) this.wake();
  }

  private async claimLoop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      const free = this.o.concurrency - this.inFlight - this.reserved;
      if (free <= 0 || (free < this.minClaim && this.inFlight > 0)) {
        await this.waitForNudge(this.o.pollIntervalMs, true);
        continue;
      }
      await this.reclaimWhenDue();
      let claimed: ClaimedDelivery[];
      this.claiming = free;
      try {
        claimed = await this.o.store.claim(this.owner, free, this.o.leaseMs, this.o.bulkMaxWaitMs);
        failures = 0;
      } catch (e) {
        failures++;
        this.o.telemetry?.storeError("claim");
        this.o.logger.log("error", "worker.claim_failed", { error: (e as Error).message, failures });
        await this.waitForNudge(Math.min(this.o.pollIntervalMs * 2 ** failures, 5_000));
        continue;
      } finally {
        this.claiming = 0;
      }
      await this.dispatchAll(claimed);
      // A short claim found nothing more to lease now (nothing due, or its policies' slots taken):
      // claiming again before something is recorded, written or due would find the same.
      if (claimed.length < free) await this.waitForNudge(this.o.pollIntervalMs);
    }
  }

  /**
   * Expired leases (a worker that died or hung) are made due again on a timer — a quarter of the lease,
   * between 100 ms and 5 s — not looked for in every claim.
   */
  private async reclaimWhenDue(): Promise<void> {
    const now = Date.now();
    if (now < this.nextReclaim) return;
    this.nextReclaim = now + Math.min(5_000, Math.max(100, this.o.leaseMs / 4));
    try {
      await this.o.store.reclaimExpired();
    } catch (e) {
      this.o.telemetry?.storeError("reclaim");
      this.o.logger.log("warn", "worker.reclaim_failed", { error: (e as Error).message });
    }
  }

  /**
   * Singles go out one request each; deliveries of a batch webhook are topped up to its batch size
   * (fresh ones still lingering join) and go out as one request per batch, taking one slot.
   */
  private async dispatchAll(claimed: ClaimedDelivery[]): Promise<void> {
    try {
      await this.o.beforeDispatch?.(claimed);
    } catch (e) {
      this.o.logger.log("warn", "worker.reload_failed", { error: (e as Error).message });
    }
    claimed = await this.screened(claimed);
    const batches = new Map<string, ClaimedDelivery[]>();
    for (const d of claimed) {
      const size = this.o.attemptBatch ? this.o.batchSizeOf?.(d.webhook) : undefined;
      if (size === undefined) this.dispatch(d);
      else groupInto(batches, d.webhook, d);
    }
    for (const [webhook, group] of batches) {
      const size = this.o.batchSizeOf!(webhook)!;
      const chunks: ClaimedDelivery[][] = [];
      for (let i = 0; i < group.length; i += size) chunks.push(group.slice(i, i + size));
      // Only the last chunk is short. It is topped up with what waits behind its own ordered streams'
      // heads (and then what is pending): a stream's deliveries never leave in two requests at once.
      const last = chunks.at(-1)!;
      if (last.length < size) {
        try {
          last.push(
            ...(await this.screened(
              await this.o.store.claimBatch(
                this.owner,
                webhook,
                size - last.length,
                this.o.leaseMs,
                last.map((d) => d.id),
              ),
            )),
          );
        } catch (e) {
          this.o.telemetry?.storeError("claim");
          this.o.logger.log("warn", "worker.batch_top_up_failed", {
            webhook,
            error: (e as Error).message,
          });
        }
      }
      for (const chunk of chunks) this.dispatchBatch(chunk);
    }
  }

  /**
   * What of a claim is sent: the rest (skipped for want of consent) is recorded now, as results. A
   * check that fails gives the deliveries back to be claimed again (nothing is sent unchecked).
   */
  private async screened(claimed: ClaimedDelivery[]): Promise<ClaimedDelivery[]> {
    if (!this.o.screen || claimed.length === 0) return claimed;
    try {
      const { send, skipped } = await this.o.screen(claimed);
      if (skipped.length > 0) {
        this.o.telemetry?.attempted(skipped);
        this.results.push(...skipped);
        this.flushSoon();
      }
      return send;
    } catch (e) {
      this.o.telemetry?.storeError("consent");
      this.o.logger.log("error", "worker.consent_check_failed", {
        deliveries: claimed.length,
        error: (e as Error).message,
      });
      await this.o.store
        .release(
          this.owner,
          claimed.map((d) => d.id),
          Math.min(1_000, this.o.pollIntervalMs * 2),
        )
        .catch(() => undefined);
      return [];
    }
  }

  private dispatchBatch(deliveries: ClaimedDelivery[]): void {
    this.inFlight++;
    this.o.attemptBatch!(deliveries, this.abort.signal)
      .then((rs) => {
        this.o.telemetry?.attempted(rs);
        this.results.push(...rs);
        this.flushSoon();
      })
      .catch((e) => {
        // Their leases expire and any worker sends them again.
        this.o.logger.log("error", "worker.attempt_crashed", {
          webhook: deliveries[0]!.webhook,
          deliveries: deliveries.length,
          error: (e as Error).message,
        });
      })
      .finally(() => {
        this.inFlight--;
        this.roomFreed();
      });
  }

  private dispatch(delivery: ClaimedDelivery): void {
    this.inFlight++;
    this.o
      .attempt(delivery, this.abort.signal)
      .then((r) => {
        this.o.telemetry?.attempted([r]);
        this.results.push(r);
        this.flushSoon();
      })
      .catch((e) => {
        // attempt() records every outcome itself; reaching here is a bug. The lease expiry re-sends it.
        this.o.logger.log("error", "worker.attempt_crashed", {
          webhook: delivery.webhook,
          delivery: delivery.id,
          error: (e as Error).message,
        });
      })
      .finally(() => {
        this.inFlight--;
        this.roomFreed();
      });
  }

  /**
   * Group commit: a write per result would cost a statement each (PGlite ~1.4 ms, on the main thread),
   * so results wait up to `lingerMs` for company unless half the slots' worth has gathered already —
   * or half of what this worker holds, when it holds fewer (a throughput policy's share, or little
   * due): a policy's slots come back only when recorded, and lingering would keep them from a claim.
   */
  private flushSoon(now = false): void {
    if (this.flushing) return;
    const held = Math.min(this.o.concurrency, this.inFlight + this.results.length);
    const enough = this.results.length >= Math.max(1, Math.floor(held / 2));
    if (!now && !enough) {
      this.linger ??= setTimeout(() => {
        this.linger = undefined;
        this.flushSoon(true);
      }, this.o.lingerMs ?? 10);
      return;
    }
    if (this.linger) clearTimeout(this.linger);
    this.linger = undefined;
    this.flushing = this.flush().finally(() => {
      this.flushing = undefined;
      if (this.results.length > 0) this.flushSoon();
      this.wake();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.results.splice(0, this.o.flushBatch ?? 500);
    try {
      const aborted = await this.o.store.complete(batch, {
        abortAfter: this.o.abortAfter,
        pauseAfterMs: this.o.pauseAfterMs,
        ended: this.o.ended,
      });
      // A line per outcome once it is recorded (a result written again after a failed write, once).
      logOutcomes(this.o.logger, batch);
      if (aborted.length > 0) {
        logEnded(this.o.logger, aborted);
        this.o.onAborted?.(aborted);
      }
    } catch (e) {
      this.o.telemetry?.storeError("record");
      this.results.unshift(...batch);
      this.o.logger.log("error", "worker.record_failed", {
        error: (e as Error).message,
        pending: this.results.length,
      });
      await sleep(Math.min(1_000, this.o.pollIntervalMs * 2));
    }
  }

  private async drainResults(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    while ((this.results.length > 0 || this.flushing) && Date.now() < deadline) {
      this.flushSoon(true);
      await (this.flushing ?? sleep(5));
    }
  }
}

/** Appends to a group in place (a batch may hold 1,000 deliveries: no copy per item). */
function groupInto<T>(groups: Map<string, T[]>, key: string, item: T): void {
  const group = groups.get(key);
  if (group) group.push(item);
  else groups.set(key, [item]);
}
