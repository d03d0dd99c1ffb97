import type { DeliveryOutcome, DeliveryResult, EndedDelivery } from "../contracts/delivery.ts";
import type { DeliveryObserver, ObserverContext } from "../contracts/extension.ts";
import type { OutcomeObservers } from "../contracts/observers.ts";
import type { SqlExecutor } from "../contracts/sql.ts";

/**
 * The observers' part of `complete`: whether any are registered (outcomes ended with their run are read
 * back only then), the call inside its transaction, and the after-commit steps once it has committed.
 *
 * @example
 * if (observers.active) await observers.notify(tx, results, applied, ended, committed);
 * // … after the commit:
 * observers.runCommitted(committed);
 */
export interface OutcomeDispatch {
  readonly active: boolean;
  /**
   * Whether any observer may want these results' outcomes, asked before they are recorded (a retry
   * is asked as halted too, which its run's halt may make it): when none does, recording needs no
   * transaction for them.
   */
  wants(results: DeliveryResult[]): boolean;
  notify(
    tx: SqlExecutor,
    results: DeliveryResult[],
    applied: Array<{ id: string; status: string }>,
    ended: EndedDelivery[],
    committed: Array<() => void>,
  ): Promise<void>;
  runCommitted(committed: Array<() => void>): void;
}

/**
 * Delivery observers, called by `complete` inside the transaction that records each outcome, each
 * under a savepoint of its own.
 *
 * @example
 * const observers = new ObserverDispatch();
 * observers.observe([responseMapping], { webhook: (name) => webhooks.get(name), publish, logger });
 */
export class ObserverDispatch implements OutcomeObservers, OutcomeDispatch {
  private observers: readonly DeliveryObserver[] = [];
  private observerContext?: Omit<ObserverContext, "afterCommit">;

  /** Observers that see every recorded outcome inside the transaction recording it (see `DeliveryObserver`). */
  observe(observers: readonly DeliveryObserver[], context: Omit<ObserverContext, "afterCommit">): void {
    this.observers = observers;
    this.observerContext = context;
  }

  get active(): boolean {
    return this.observers.length > 0;
  }

  wants(results: DeliveryResult[]): boolean {
    if (this.observers.length === 0) return false;
    if (this.observers.some((o) => !o.accepts)) return true;
    const context: ObserverContext = { ...this.observerContext!, afterCommit: () => undefined };
    for (const r of results) {
      if (!r.delivery) continue;
      const reason = r.next.status === "succeeded" ? undefined : r.next.reason;
      const statuses: DeliveryOutcome["status"][] =
        r.next.status === "pending" ? ["pending", "halted"] : [r.next.status];
      for (const status of statuses) {
        const outcome: DeliveryOutcome = { delivery: r.delivery, status, reason, attempt: attemptOf(r) };
        if (this.observers.some((o) => o.accepts!(outcome, context))) return true;
      }
    }
    return false;
  }

  /**
   * Gives observers the outcomes applied now (a result from a lost lease is not) and the deliveries
   * ended with their run. Each observer runs under a savepoint: one that fails is undone and logged,
   * and the outcomes are recorded all the same.
   */
  async notify(
    tx: SqlExecutor,
    results: DeliveryResult[],
    applied: Array<{ id: string; status: string }>,
    ended: EndedDelivery[],
    committed: Array<() => void>,
  ): Promise<void> {
    const status = new Map(applied.map((a) => [a.id, a.status as DeliveryOutcome["status"]]));
    const seen: DeliveryOutcome[] = [];
    const ids = new Set<string>();
    for (const r of results) {
      const s = status.get(r.deliveryId);
      if (s === undefined || !r.delivery) continue;
      ids.add(r.deliveryId);
      seen.push({
        delivery: r.delivery,
        status: s,
        reason: r.next.status === "succeeded" ? undefined : r.next.reason,
        attempt: attemptOf(r),
      });
    }
    for (const e of ended) {
      if (ids.has(e.id)) continue;
      const { status: s, reason, ...delivery } = e;
      seen.push({ delivery, status: s, reason });
    }
    if (seen.length === 0) return;
    for (const observer of this.observers) {
      const pending: Array<() => void> = [];
      const context: ObserverContext = { ...this.observerContext!, afterCommit: (fn) => pending.push(fn) };
      const wanted = observer.accepts ? seen.filter((o) => observer.accepts!(o, context)) : seen;
      if (wanted.length === 0) continue;
      await tx.query("SAVEPOINT hookline_observer");
      try {
        await observer.observe(tx, wanted, context);
        await tx.query("RELEASE SAVEPOINT hookline_observer");
        committed.push(...pending);
      } catch (e) {
        await tx.query("ROLLBACK TO SAVEPOINT hookline_observer");
        // Its writes for these outcomes are undone (the savepoint); the outcomes stand.
        context.logger.log("error", "observer.failed", {
          observer: observer.name,
          outcomes: wanted.length,
          error: (e as Error).message,
        });
      }
    }
  }

  /** Runs the after-commit steps observers asked for; one that throws is logged, and the rest still run. */
  runCommitted(committed: Array<() => void>): void {
    for (const fn of committed) {
      try {
        fn();
      } catch (e) {
        this.observerContext?.logger.log("error", "observer.after_commit_failed", {
          error: (e as Error).message,
        });
      }
    }
  }
}

/** The attempt an outcome came from: none for a delivery skipped unsent (no consent). */
const attemptOf = (r: DeliveryResult) => (r.next.status === "skipped" ? undefined : r.attempt);
