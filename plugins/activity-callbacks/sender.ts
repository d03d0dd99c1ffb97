import {
  HooklineError,
  idleSleep,
  type PluginHost,
  type Service,
  TransportError,
} from "../../core/plugin/index.ts";
import { retryDelay, type SubscribersSection } from "./config.ts";
import { type OutcomeLink, webhookProblem } from "./outcomes.ts";
import {
  type ClaimedBatch,
  claimHead,
  dueSubscribers,
  finishAttempt,
  pruneConfigSubscribers,
  type Subscriber,
  saveSubscribers,
  subscriberFrom,
  sweepDelivered,
  watchedWebhooks,
} from "./queue.ts";
import { credentialProblem, sendToSubscriber } from "./send.ts";

export interface SenderOptions {
  /** How often an idle sender looks for due batches, ms. */
  pollInterval: number;
  /** Retry defaults for subscribers that set none, ms. */
  retry: { base: number; cap: number };
  /** Subscribers drained at once. */
  concurrency: number;
  /** Delivered batches older than this are deleted with their activities, ms (0 keeps them). */
  retention: number;
  /** Shared with the outcome observer: the webhooks subscribers name, and the wake-up. */
  link?: OutcomeLink;
}

/** How often delivered batches past the retention are swept. */
const SWEEP_EVERY_MS = 3_600_000;

const wakers = new WeakMap<PluginHost, () => void>();

/**
 * Wakes this process's sender (after activities were queued here).
 *
 * @example if (queued > 0) wakeSender(host)
 */
export const wakeSender = (host: PluginHost) => wakers.get(host)?.();

/**
 * The sender of activity-status callbacks: writes the config file's subscribers to the store, then
 * loops: for each subscriber with work, claims the head batch (`claimHead`), POSTs it as a JSON array,
 * and on 200 goes on with the next; on any other answer or a fault the batch waits
 * `retryDelay(attempts)` and nothing behind it is sent before it. Any number of processes may run it
 * against one store. At start and then hourly it deletes delivered batches older than the retention.
 * It runs until `host.signal` aborts; the transport is the app's (the app closes it).
 *
 * @example c.register(Tokens.Service, { useValue: callbackSender({ pollInterval: 1000, retry: { base: 60_000, cap: 3_600_000 }, concurrency: 8, retention: 7 * 86_400_000 }) })
 */
export function callbackSender(options: SenderOptions): Service {
  let running: Promise<void> | undefined;
  let sweeping: Promise<void> | undefined;
  return {
    name: "activity-callbacks",
    async start(host: PluginHost) {
      await syncConfigSubscribers(host, options.retry);
      running = loop(host, options);
      if (options.retention > 0) sweeping = sweepLoop(host, options.retention);
    },
    async stop() {
      await running;
      await sweeping;
    },
  };
}

/** Sweeps delivered batches past the retention now and every `SWEEP_EVERY_MS` until stopped. */
async function sweepLoop(host: PluginHost, retentionMs: number): Promise<void> {
  const { signal } = host;
  while (!signal.aborted) {
    try {
      const gone = await sweepDelivered(host.sql, retentionMs);
      if (gone.batches > 0) host.logger.log("info", "activity callbacks: delivered batches swept", gone);
    } catch (e) {
      host.logger.log("warn", "activity callbacks: sweep failed", { error: (e as Error).message });
    }
    await idleSleep(SWEEP_EVERY_MS, signal);
  }
}

// Per app, by the host it hands this plugin (one host per app, the same to routes and services).
const synced = new WeakMap<PluginHost, Promise<void>>();
const retryDefaults = new WeakMap<PluginHost, { base: number; cap: number }>();

/**
 * The plugin's retry defaults for this app (set when its routes mount; 1 min and 1 h otherwise).
 *
 * @example retryDefaultsOf(host) // { base: 60000, cap: 3600000 }
 */
export const retryDefaultsOf = (host: PluginHost) =>
  retryDefaults.get(host) ?? { base: 60_000, cap: 3_600_000 };

/**
 * Remembers the plugin's retry defaults for an app, for library calls that only have its host.
 *
 * @example rememberRetryDefaults(host, { base: 60_000, cap: 3_600_000 })
 */
export const rememberRetryDefaults = (host: PluginHost, retry: { base: number; cap: number }) =>
  void retryDefaults.set(host, retry);

/**
 * Writes the config file's subscribers to the store (once per app; again after a failure), checking
 * each one's integration and endpoint prefix, and removes config subscribers the file no longer has.
 * Runs at start, and before the first activities are queued if that comes first.
 *
 * @example await syncConfigSubscribers(host, { base: 60_000, cap: 3_600_000 })
 */
export function syncConfigSubscribers(host: PluginHost, retry: { base: number; cap: number }): Promise<void> {
  let p = synced.get(host);
  if (!p) {
    p = (async () => {
      const section = (host.config.sections.subscribers ?? {}) as NonNullable<SubscribersSection>;
      const list = Object.entries(section).map(([name, c]) => subscriberFrom(name, c, "config", retry));
      for (const s of list) {
        const problem = credentialProblem(host, s);
        if (problem)
          throw new HooklineError("HOOKLINE_SUBSCRIBER_INTEGRATION", `subscribers.${s.name}: ${problem}`);
        const webhooks = webhookProblem(host, s);
        if (webhooks)
          throw new HooklineError("HOOKLINE_SUBSCRIBER_WEBHOOK", `subscribers.${s.name}: ${webhooks}`);
      }
      await saveSubscribers(host.sql, list);
      await pruneConfigSubscribers(
        host.sql,
        list.map((s) => s.name),
      );
    })();
    p.catch(() => synced.delete(host));
    synced.set(host, p);
  }
  return p;
}

async function loop(host: PluginHost, o: SenderOptions): Promise<void> {
  const { signal } = host;
  const owner = `callbacks-${crypto.randomUUID()}`;
  let wake: (() => void) | undefined;
  wakers.set(host, () => wake?.());
  if (o.link) o.link.wake = () => wake?.();
  while (!signal.aborted) {
    try {
      if (o.link) o.link.watched = await watchedWebhooks(host.sql);
      const due = await dueSubscribers(host.sql);
      for (let i = 0; i < due.length && !signal.aborted; i += o.concurrency) {
        await Promise.all(due.slice(i, i + o.concurrency).map((s) => drain(host, s, owner)));
      }
    } catch (e) {
      host.logger.log("warn", "activity callbacks: store unavailable", { error: (e as Error).message });
    }
    if (signal.aborted) break;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, o.pollInterval);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        wake = undefined;
        resolve();
      }
      wake = done;
      signal.addEventListener("abort", done, { once: true });
    });
  }
  wakers.delete(host);
}

/** Sends a subscriber's batches in order until its queue is empty or its head must wait. */
async function drain(host: PluginHost, s: Subscriber, owner: string): Promise<void> {
  // The lease outlives the request timeout, so a live sender is never overtaken.
  const leaseMs = s.timeoutMs + 30_000;
  while (!host.signal.aborted) {
    const batch = await claimHead(host.sql, s, owner, leaseMs);
    if (!batch) return;
    if (!(await deliver(host, s, batch, owner))) return;
  }
}

async function deliver(
  host: PluginHost,
  s: Subscriber,
  batch: ClaimedBatch,
  owner: string,
): Promise<boolean> {
  const startedAt = new Date();
  const t0 = performance.now();
  let status: number | undefined;
  let error: string | undefined;
  try {
    const r = await sendToSubscriber(host, s, {
      method: "POST",
      url: s.url,
      headers: { "content-type": "application/json", "idempotency-key": batch.id },
      body: JSON.stringify(batch.items),
    });
    status = r.status;
    if (status !== 200) error = `answered ${status}`;
  } catch (e) {
    const cls = e instanceof TransportError ? e.faultClass : e instanceof HooklineError ? e.code : "error";
    error = host.redactor.redact(`${cls}: ${(e as Error).message}`);
  }
  const delivered = status === 200;
  const retryInMs = delivered ? undefined : retryDelay(batch.attempts, s.retryBaseMs, s.retryCapMs);
  await finishAttempt(host.sql, batch, owner, {
    delivered,
    retryInMs,
    status,
    error,
    startedAt,
    durationMs: performance.now() - t0,
  });
  host.logger.log(
    delivered ? "debug" : "warn",
    delivered ? "activity callbacks delivered" : "activity callbacks will be retried",
    {
      subscriber: s.name,
      batch: batch.id,
      size: batch.items.length,
      attempt: batch.attempts,
      status,
      error,
      retryInMs,
    },
  );
  return delivered;
}
