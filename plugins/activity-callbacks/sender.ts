import type { Hookline } from "../../core/app.ts";
import type { Service } from "../../core/contracts/extension.ts";
import { TransportError } from "../../core/contracts/transport.ts";
import { HooklineError } from "../../core/errors.ts";
import { idleSleep } from "../../core/util/sleep.ts";
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
import { closeTransport, credentialProblem, sendToSubscriber } from "./send.ts";

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

const wakers = new WeakMap<Hookline, () => void>();

/**
 * Wakes this process's sender (after activities were queued here).
 *
 * @example if (queued > 0) wakeSender(app)
 */
export const wakeSender = (app: Hookline) => wakers.get(app)?.();

/**
 * The sender of activity-status callbacks: writes the config file's subscribers to the store, then
 * loops: for each subscriber with work, claims the head batch (`claimHead`), POSTs it as a JSON array,
 * and on 200 goes on with the next; on any other answer or a fault the batch waits
 * `retryDelay(attempts)` and nothing behind it is sent before it. Any number of processes may run it
 * against one store. At start and then hourly it deletes delivered batches older than the retention.
 *
 * @example c.register(Tokens.Service, { useValue: callbackSender({ pollInterval: 1000, retry: { base: 60_000, cap: 3_600_000 }, concurrency: 8, retention: 7 * 86_400_000 }) })
 */
export function callbackSender(options: SenderOptions): Service {
  let running: Promise<void> | undefined;
  let sweeping: Promise<void> | undefined;
  let app: Hookline | undefined;
  return {
    name: "activity-callbacks",
    async start(a: Hookline, signal: AbortSignal) {
      app = a;
      await syncConfigSubscribers(a, options.retry);
      running = loop(a, options, signal);
      if (options.retention > 0) sweeping = sweepLoop(a, options.retention, signal);
    },
    async stop() {
      await running;
      await sweeping;
      if (app) await closeTransport(app);
    },
  };
}

/** Sweeps delivered batches past the retention now and every `SWEEP_EVERY_MS` until stopped. */
async function sweepLoop(app: Hookline, retentionMs: number, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      const gone = await sweepDelivered(app.store.sql, retentionMs);
      if (gone.batches > 0) app.logger.log("info", "activity callbacks: delivered batches swept", gone);
    } catch (e) {
      app.logger.log("warn", "activity callbacks: sweep failed", { error: (e as Error).message });
    }
    await idleSleep(SWEEP_EVERY_MS, signal);
  }
}

const synced = new WeakMap<Hookline, Promise<void>>();
const retryDefaults = new WeakMap<Hookline, { base: number; cap: number }>();

/**
 * The plugin's retry defaults for this app (set when its routes mount; 1 min and 1 h otherwise).
 *
 * @example retryDefaultsOf(app) // { base: 60000, cap: 3600000 }
 */
export const retryDefaultsOf = (app: Hookline) => retryDefaults.get(app) ?? { base: 60_000, cap: 3_600_000 };

/**
 * Remembers the plugin's retry defaults for an app, for library calls that only have the app.
 *
 * @example rememberRetryDefaults(app, { base: 60_000, cap: 3_600_000 })
 */
export const rememberRetryDefaults = (app: Hookline, retry: { base: number; cap: number }) =>
  void retryDefaults.set(app, retry);

/**
 * Writes the config file's subscribers to the store (once per app; again after a failure), checking
 * each one's integration and endpoint prefix, and removes config subscribers the file no longer has.
 * Runs at start, and before the first activities are queued if that comes first.
 *
 * @example await syncConfigSubscribers(app, { base: 60_000, cap: 3_600_000 })
 */
export function syncConfigSubscribers(app: Hookline, retry: { base: number; cap: number }): Promise<void> {
  let p = synced.get(app);
  if (!p) {
    p = (async () => {
      const section = (app.config.sections.subscribers ?? {}) as NonNullable<SubscribersSection>;
      const list = Object.entries(section).map(([name, c]) => subscriberFrom(name, c, "config", retry));
      for (const s of list) {
        const problem = credentialProblem(app, s);
        if (problem)
          throw new HooklineError("HOOKLINE_SUBSCRIBER_INTEGRATION", `subscribers.${s.name}: ${problem}`);
        const webhooks = webhookProblem(app, s);
        if (webhooks)
          throw new HooklineError("HOOKLINE_SUBSCRIBER_WEBHOOK", `subscribers.${s.name}: ${webhooks}`);
      }
      await saveSubscribers(app.store.sql, list);
      await pruneConfigSubscribers(
        app.store.sql,
        list.map((s) => s.name),
      );
    })();
    p.catch(() => synced.delete(app));
    synced.set(app, p);
  }
  return p;
}

async function loop(app: Hookline, o: SenderOptions, signal: AbortSignal): Promise<void> {
  const owner = `callbacks-${crypto.randomUUID()}`;
  let wake: (() => void) | undefined;
  wakers.set(app, () => wake?.());
  if (o.link) o.link.wake = () => wake?.();
  while (!signal.aborted) {
    try {
      if (o.link) o.link.watched = await watchedWebhooks(app.store.sql);
      const due = await dueSubscribers(app.store.sql);
      for (let i = 0; i < due.length && !signal.aborted; i += o.concurrency) {
        await Promise.all(due.slice(i, i + o.concurrency).map((s) => drain(app, s, owner, signal)));
      }
    } catch (e) {
      app.logger.log("warn", "activity callbacks: store unavailable", { error: (e as Error).message });
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
  wakers.delete(app);
}

/** Sends a subscriber's batches in order until its queue is empty or its head must wait. */
async function drain(app: Hookline, s: Subscriber, owner: string, signal: AbortSignal): Promise<void> {
  // The lease outlives the request timeout, so a live sender is never overtaken.
  const leaseMs = s.timeoutMs + 30_000;
  while (!signal.aborted) {
    const batch = await claimHead(app.store.sql, s, owner, leaseMs);
    if (!batch) return;
    if (!(await deliver(app, s, batch, owner))) return;
  }
}

async function deliver(app: Hookline, s: Subscriber, batch: ClaimedBatch, owner: string): Promise<boolean> {
  const startedAt = new Date();
  const t0 = performance.now();
  let status: number | undefined;
  let error: string | undefined;
  try {
    const r = await sendToSubscriber(app, s, {
      method: "POST",
      url: s.url,
      headers: { "content-type": "application/json", "idempotency-key": batch.id },
      body: JSON.stringify(batch.items),
    });
    status = r.status;
    if (status !== 200) error = `answered ${status}`;
  } catch (e) {
    const cls = e instanceof TransportError ? e.faultClass : e instanceof HooklineError ? e.code : "error";
    error = app.redactor.redact(`${cls}: ${(e as Error).message}`);
  }
  const delivered = status === 200;
  const retryInMs = delivered ? undefined : retryDelay(batch.attempts, s.retryBaseMs, s.retryCapMs);
  await finishAttempt(app.store.sql, batch, owner, {
    delivered,
    retryInMs,
    status,
    error,
    startedAt,
    durationMs: performance.now() - t0,
  });
  app.logger.log(
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
