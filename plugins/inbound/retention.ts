import { idleSleep, type Service } from "../../core/plugin/index.ts";
import { type InboundRetention, sweepInbound } from "./repository.ts";

/** How often the janitor sweeps. */
const SWEEP_EVERY_MS = 3_600_000;

/**
 * The inbound plugin's janitor: sweeps old receipts and activities (`sweepInbound`) at start and then
 * once an hour, until the app stops. Only where the app sends (the servers): an app that only
 * receives (the edge worker, `host.sends === false`) leaves the sweeping to them.
 *
 * @example c.register(Tokens.Service, { useValue: inboundJanitor({ receipts: 7 * 86_400_000, activities: 30 * 86_400_000 }) })
 */
export function inboundJanitor(retention: InboundRetention): Service {
  let running: Promise<void> | undefined;
  return {
    name: "inbound-janitor",
    start(host) {
      if (!host.sends || (retention.receipts <= 0 && retention.activities <= 0)) return;
      const { signal } = host;
      running = (async () => {
        while (!signal.aborted) {
          try {
            const gone = await sweepInbound(host.sql, retention);
            if (gone.receipts + gone.activities > 0) host.logger.log("info", "inbound.swept", gone);
          } catch (e) {
            host.logger.log("warn", "inbound.sweep_failed", { error: (e as Error).message });
          }
          await idleSleep(SWEEP_EVERY_MS, signal);
        }
      })();
    },
    async stop() {
      await running;
    },
  };
}
