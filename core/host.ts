import type { Composition } from "./compose.ts";
import type { FanOutSend, FanOutStarted } from "./contracts/fan-out.ts";
import type { PluginHost } from "./contracts/host.ts";
import { HttpError } from "./errors.ts";

/**
 * The port a composed app hands its plugins (routes, services, start-up checks): the narrow
 * `PluginHost`, never the app itself.
 *
 * @example const host = pluginHost(composition, { signal: abort.signal, wake: () => worker.wake(), sends: true });
 */
export function pluginHost(
  c: Composition,
  run: {
    signal: AbortSignal;
    wake: () => void;
    sends: boolean;
    /** Segment sends (core/engine/fan-out.ts), given by the server app: the edge worker has none. */
    fanOut?: (send: FanOutSend) => Promise<FanOutStarted>;
  },
): PluginHost {
  return {
    config: c.config,
    sql: c.store.sql,
    storeName: c.store.driverName,
    publish: (events, options) => c.outbox.publish(events, options),
    wake: run.wake,
    fanOut:
      run.fanOut ??
      (() =>
        Promise.reject(
          new HttpError("HOOKLINE_HTTP_NOT_APPLICABLE", "segment sends run on the servers, not here"),
        )),
    logger: c.logger,
    redactor: c.redactor,
    fetch: c.fetch,
    transport: c.transport,
    env: c.env,
    signal: run.signal,
    catalogue: c.catalogue,
    sends: run.sends,
  };
}
