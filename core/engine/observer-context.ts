import type { HooklineConfig } from "../config/schema.ts";
import type { Audience } from "../contracts/audience.ts";
import type { Catalogue } from "../contracts/catalogue.ts";
import type { ObserverContext } from "../contracts/extension.ts";
import type { Logger } from "../contracts/logger.ts";
import type { NewDelivery, SqlExecutor } from "../contracts/store.ts";
import type { EventInput, HooklineEvent } from "../model/event.ts";
import { acceptEvent } from "./outbox.ts";

/**
 * What delivery observers may use while they observe (inside the transaction that records
 * outcomes): the webhooks as they are now, and publishing events whose deliveries are written in
 * that same transaction (response mapping's profile changes firing `profile-change` triggers), and
 * the config and triggers (which segments the triggers watch).
 *
 * @example store.observe(observers, observerContext({ catalogue, config, outbox, store, logger }))
 */
export function observerContext(deps: {
  catalogue: Pick<Catalogue, "webhooks" | "triggers">;
  config: HooklineConfig;
  outbox: {
    deliveriesFor(event: HooklineEvent, audience?: Audience): NewDelivery[];
    audienceOf(events: readonly HooklineEvent[], sql?: SqlExecutor): Promise<Audience | undefined>;
  };
  store: { enqueueIn(tx: SqlExecutor, deliveries: NewDelivery[]): Promise<string[]> };
  logger: Logger;
}): Omit<ObserverContext, "afterCommit"> {
  return {
    webhook: (name) => deps.catalogue.webhooks.get(name)?.config,
    publish: async (tx: SqlExecutor, events: EventInput[]) => {
      const now = new Date();
      const accepted = events.map((e) => acceptEvent(e, now));
      // Segment membership read in the same transaction (the profile it just changed, as changed).
      const audience = await deps.outbox.audienceOf(accepted, tx);
      await deps.store.enqueueIn(
        tx,
        accepted.flatMap((e) => deps.outbox.deliveriesFor(e, audience)),
      );
    },
    logger: deps.logger,
    config: deps.config,
    get triggers() {
      return deps.catalogue.triggers;
    },
  };
}
