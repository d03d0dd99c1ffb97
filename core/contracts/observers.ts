// Apart from store.ts: extension.ts (which declares observers) imports store.ts, so store.ts must not
// import this file back.
import type { DeliveryObserver, ObserverContext } from "./extension.ts";

/**
 * Where delivery observers are registered: the store calls them inside the transaction that records
 * each outcome (see `DeliveryObserver`).
 *
 * @example
 * store.observe([responseMapping], { webhook: (name) => webhooks.get(name), publish, logger });
 */
export interface OutcomeObservers {
  /** Replaces the observers, and the context they are given (`afterCommit` is added per write). */
  observe(observers: readonly DeliveryObserver[], context: Omit<ObserverContext, "afterCommit">): void;
}
