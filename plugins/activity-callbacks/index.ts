import { type Plugin, Tokens } from "../../core/plugin/index.ts";
import { SubscribersSection } from "./config.ts";
import { callbackMigrations } from "./migrations.ts";
import { type OutcomeLink, outcomeActivities } from "./outcomes.ts";
import { callbackRoutes } from "./routes.ts";
import { callbackSender } from "./sender.ts";

export { Activity, ActivityStatus, activityKey, parseActivityInput } from "./activity.ts";
export { retryDelay, SubscriberConfig, SubscribersSection } from "./config.ts";
export { type OutcomeLink, outcomeActivities, outcomeActivity } from "./outcomes.ts";
export { sweepDelivered } from "./queue.ts";
export { enqueueActivities } from "./routes.ts";
export { checkSubscriberUrl } from "./send.ts";

export interface ActivityCallbacksOptions {
  /** How often an idle sender looks for due batches, ms (default 1000). */
  pollInterval?: number;
  /** Retry schedule for subscribers that set none, ms: base·2^n up to cap (default 1 min, 1 h). */
  retry?: { base?: number; cap?: number };
  /** Subscribers sent to at once per process (default 8). */
  concurrency?: number;
  /** Delivered batches (and their activities) older than this are deleted, ms (default 7 days; 0 keeps them). */
  retention?: number;
}

/**
 * Activity-status callbacks out (eSputnik's side): the `subscribers:` config section, the admin API
 * (`PUT /v1/subscribers/:name` with a GET check, `POST /v1/activities`), a queue per subscriber in
 * the store, and a sender that POSTs ordered JSON-array batches, retrying the head batch after 1, 2,
 * 4, 8 … minutes up to once an hour while later batches wait. The outcomes of outbound deliveries
 * become DELIVERED/UNDELIVERED activities for subscribers that name their webhooks (`webhooks:`).
 *
 * @example
 * createHookline({ config, plugins: [...defaultPlugins(), activityCallbacks()] })
 * // hookline.yaml:
 * // subscribers:
 * //   acme: { url: "https://acme.example.com/esputnik", integration: acme-auth, statuses: [DELIVERED, CLICKED] }
 * //   crm-status: { url: "https://crm.example.com/activities", webhooks: [crm-sync] } # crm-sync's outcomes
 */
export const activityCallbacks = (options: ActivityCallbacksOptions = {}): Plugin => {
  const retry = { base: options.retry?.base ?? 60_000, cap: options.retry?.cap ?? 3_600_000 };
  return {
    name: "activity-callbacks",
    register(c) {
      c.register(Tokens.ConfigSection, { useValue: { key: "subscribers", schema: SubscribersSection } });
      c.register(Tokens.Migrations, { useValue: callbackMigrations });
      c.register(Tokens.HttpRoutes, { useValue: callbackRoutes(retry) });
      const link: OutcomeLink = {};
      c.register(Tokens.DeliveryObserver, { useValue: outcomeActivities(link) });
      c.register(Tokens.Service, {
        useValue: callbackSender({
          pollInterval: options.pollInterval ?? 1000,
          retry,
          concurrency: options.concurrency ?? 8,
          retention: options.retention ?? 7 * 86_400_000,
          link,
        }),
      });
    },
  };
};
