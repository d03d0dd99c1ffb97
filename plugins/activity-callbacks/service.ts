import { idleSleep, type PluginHost, type Service, type StartupCheck } from "../../core/plugin/index.ts";
import { ready } from "./routes.ts";
import { refreshSubscribers } from "./webhooks.ts";

/**
 * Loads the subscribers into the catalogue as soon as the app exists, so that delivery workers that
 * start before the plugin's service never meet a subscriber's delivery whose webhook is not there
 * yet. A failure here (a store outage, a bad config subscriber) is left to the service's start, which
 * throws it.
 *
 * @example c.register(Tokens.StartupCheck, { useValue: subscribersAtStartup })
 */
export const subscribersAtStartup: StartupCheck = {
  name: "activity-callbacks: subscribers",
  async check(host) {
    await ready(host).catch(() => undefined);
  },
};

/**
 * The subscribers as webhooks, kept current: at start the config file's subscribers are written to
 * the store and every stored one becomes a webhook (start fails on a subscriber whose integration or
 * webhooks do not exist); then every `pollInterval` a cheap version check of the subscribers table
 * picks up what other processes saved or deleted through the API. Sending is the delivery engine's.
 *
 * @example c.register(Tokens.Service, { useValue: subscribersService({ pollInterval: 1000 }) })
 */
export function subscribersService(options: { pollInterval: number }): Service {
  let running: Promise<void> | undefined;
  return {
    name: "activity-callbacks",
    async start(host: PluginHost) {
      await ready(host);
      // A worker meeting a subscriber's delivery before this app's poll saw the subscriber asks here.
      host.catalogue.addReloader(() => refreshSubscribers(host));
      running = poll(host, options.pollInterval);
    },
    async stop() {
      await running;
    },
  };
}

async function poll(host: PluginHost, every: number): Promise<void> {
  const { signal } = host;
  for (;;) {
    await idleSleep(every, signal);
    if (signal.aborted) return;
    try {
      await refreshSubscribers(host);
    } catch (e) {
      host.logger.log("warn", "activity_callbacks.reload_failed", {
        error: (e as Error).message,
      });
    }
  }
}
