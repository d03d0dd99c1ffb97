import { type Plugin, Tokens } from "../../core/plugin/index.ts";
import { SubscribersSection } from "./config.ts";
import { callbackMigrations } from "./migrations.ts";
import { type OutcomeLink, outcomeActivities } from "./outcomes.ts";
import { callbackRoutes, rememberRetryDefaults } from "./routes.ts";
import { subscribersAtStartup, subscribersService } from "./service.ts";
import { stateOf } from "./webhooks.ts";

export { Activity, ActivityStatus, activityKey, parseActivityInput } from "./activity.ts";
export { retryDelay, SubscriberConfig, SubscribersSection } from "./config.ts";
export { type OutcomeLink, outcomeActivities, outcomeActivity } from "./outcomes.ts";
export { enqueueActivities } from "./routes.ts";
export { checkSubscriberUrl } from "./send.ts";
export { ACTIVITY_EVENT, OUTCOME_EVENT, webhookOf } from "./webhooks.ts";

export interface ActivityCallbacksOptions {
  /**
   * How often the subscribers table is checked for what other processes saved, ms (default 1000).
   * Activities posted to this app check it first regardless.
   */
  pollInterval?: number;
  /** Retry schedule for subscribers that set none, ms: base·2^n up to cap (default 1 min, 1 h). */
  retry?: { base?: number; cap?: number };
}

/**
 * Activity-status callbacks out (eSputnik's side): the `subscribers:` config section and the admin
 * API (`PUT /v1/subscribers/:name` with a GET check, `POST /v1/activities`). Each subscriber is a
 * webhook of the delivery engine, `subscriber.<name>`: activities become its deliveries, sent as
 * ordered JSON-array batches (one ordered stream per subscriber), the head batch retried with the
 * exponential policy after 1, 2, 4, 8 … minutes up to once an hour while later ones wait. The
 * outcomes of outbound deliveries become DELIVERED/UNDELIVERED activities for subscribers that name
 * their webhooks (`webhooks:`). The delivery log, retries, metrics and policies cover them.
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
      c.register(Tokens.StartupCheck, {
        useValue: {
          name: "activity-callbacks: subscribers",
          async check(host) {
            rememberRetryDefaults(host, retry);
            link.watched = () => stateOf(host).watched;
            link.wake = () => host.wake();
            await subscribersAtStartup.check(host);
          },
        },
      });
      c.register(Tokens.Service, {
        useValue: subscribersService({ pollInterval: options.pollInterval ?? 1000 }),
      });
    },
  };
};
