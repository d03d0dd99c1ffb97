import {
  answer,
  type EventInput,
  HooklineError,
  type Logger,
  type PluginHost,
  refusal,
  StoreUnavailableError,
  storeUnavailable,
  tracedEvent,
  unstorable,
  validatedEvent,
  zodIssues,
} from "../../core/plugin/index.ts";
import { type Activity, activityEvent, activityKey, parseActivities } from "./activity.ts";
import { parseJson, type Received } from "./body.ts";
import type { ActivityStatusEndpoint } from "./config.ts";
import { GroupCommit, refusedData } from "./group-commit.ts";
import { insertActivities, storedActivityKeys } from "./repository.ts";

/** What the activity store uses of the app. */
export type ActivityHost = Pick<PluginHost, "sql" | "storeName" | "publish" | "logger">;

/** How activity writes are grouped into transactions (see `GroupCommit`). */
export interface GroupCommitTuning {
  /** Requests per transaction, at most (default 500). */
  maxBatch?: number;
  /** Transactions in flight at once (default 1 on PGlite, 4 on a server). */
  concurrency?: number;
  /** How long the first request of a burst waits for others, ms (default 2). */
  lingerMs?: number;
}

/**
 * A request's activities, validated (`parseActivities`), of an endpoint whose name passed
 * `endpointName`: their events are valid by construction, and published as `validatedEvent`s.
 */
interface Pending {
  endpoint: string;
  /** `id:<sender id>` when the sender named the request (Standard Webhooks, Idempotency-Key). */
  senderKey?: string;
  runId: string;
  activities: Array<{ key: string; activity: Activity }>;
  /** The request's traceparent: its events are traced under it, though published with others'. */
  traceparent?: string;
}

/** A request with each activity already encoded as its row's JSON text, ready to join a batch. */
interface Encoded extends Pending {
  rows: string[];
}

interface Written {
  /** True when the sender's id was seen before: a replay, nothing stored. */
  replay: boolean;
  /** Keys of this request's activities that were stored now (not seen before). */
  stored: Set<string>;
}

/**
 * Stores activity-status callbacks: one statement per burst of requests (group commit) writes the
 * receipts of requests the sender named and every activity once (by activity key), then publishes
 * the requests' activities as events. A request is answered only after both, so 200 means durable and
 * fired. Events are published again for activities seen before: their ids make that a no-op in the
 * outbox, and an event whose first publication failed (the sender got a 500) goes out with the retry.
 *
 * @example const store = new ActivityStore(host); const written = await store.write(pending);
 */
export class ActivityStore {
  private readonly commit: GroupCommit<Encoded, Written>;

  constructor(
    private readonly host: ActivityHost,
    tuning: GroupCommitTuning = {},
  ) {
    this.commit = new GroupCommit((batch) => this.writeBatch(batch), {
      maxBatch: tuning.maxBatch ?? 500,
      // PGlite runs one statement at a time anyway; a server overlaps a few commits.
      concurrency: tuning.concurrency ?? (host.storeName === "pglite" ? 1 : 4),
      lingerMs: tuning.lingerMs ?? 2,
    });
  }

  /**
   * Stores a request's activities (with the group commit). Each activity is encoded here, in the
   * request's own call: one that cannot be encoded (nested past the stack, a BigInt from a library
   * caller) rejects this request alone with `UnstorableActivityError`, and never joins a batch that
   * other requests share.
   */
  write(p: Pending): Promise<Written> {
    // Each row is written as text here, once: the batch only joins them (`insertActivities`' rows).
    const head = `{"endpoint":${JSON.stringify(p.endpoint)},"request_key":${JSON.stringify(p.senderKey ?? null)}`;
    const rows: string[] = [];
    for (let i = 0; i < p.activities.length; i++) {
      const { key, activity } = p.activities[i]!;
      let json: string;
      try {
        json = JSON.stringify(activity);
      } catch (e) {
        return Promise.reject(
          new UnstorableActivityError(
            `activity ${i} cannot be encoded as JSON: ${(e as Error).message}`,
            i,
            e,
          ),
        );
      }
      rows.push(
        `${head},"dedupe_key":${JSON.stringify(key)},"status":${JSON.stringify(activity.activityStatus)},"activity":${json}}`,
      );
    }
    return this.commit.submit({ ...p, rows });
  }

  private async writeBatch(batch: Encoded[]): Promise<Written[]> {
    const receipts = batch
      .filter((p) => p.senderKey)
      .map((p) => ({ endpoint: p.endpoint, request_key: p.senderKey }));
    const rows = batch.length === 1 ? batch[0]!.rows : batch.flatMap((p) => p.rows);
    const result = await insertActivities(this.host.sql, JSON.stringify(receipts), `[${rows.join(",")}]`);
    const fresh = new Set<string>();
    const stored = new Set<string>();
    for (const r of result) (r.t === "r" ? fresh : stored).add(`${r.endpoint}\u0000${r.k}`);
    const events: EventInput[] = [];
    const written = batch.map((p) => {
      const replay = p.senderKey !== undefined && !fresh.has(`${p.endpoint}\u0000${p.senderKey}`);
      const mine = new Set<string>();
      if (replay) return { replay, stored: mine };
      for (const { key, activity } of p.activities) {
        const id = `${p.endpoint}\u0000${key}`;
        if (stored.has(id)) {
          // The first request of the batch that carries an activity counts it as stored.
          stored.delete(id);
          mine.add(key);
        }
        // Built from a validated activity: not parsed again on publish (see `Pending`).
        events.push(
          tracedEvent(validatedEvent(activityEvent(p.endpoint, key, activity, p.runId)), p.traceparent),
        );
      }
      return { replay, stored: mine };
    });
    if (events.length > 0) {
      try {
        await this.host.publish(events);
      } catch (e) {
        // Stored but not fired: 500, so that the retry publishes again (never a 400 for stored data).
        throw new StoreUnavailableError(`activities stored, events not published: ${(e as Error).message}`, {
          cause: e,
        });
      }
    }
    return written;
  }

  /** Logs why a request could not be stored (the message names no secret: bodies are not logged). */
  failed(endpoint: string, e: unknown, logger: Logger = this.host.logger): void {
    logger.log("error", "inbound.not_stored", { endpoint, error: (e as Error).message });
  }

  /** Logs a request refused for data the store cannot keep (a warning: the sender's fault, answered 400). */
  refused(endpoint: string, e: unknown, logger: Logger = this.host.logger): void {
    logger.log("warn", "inbound.unstorable", {
      endpoint,
      error: (e as Error).message,
    });
  }

  /**
   * Publishes again the events of a replayed request: those of its activities that are stored (a
   * replay under the same id with another body must not fire what was never stored).
   */
  async republish(p: Pending): Promise<void> {
    const present = await storedActivityKeys(
      this.host.sql,
      p.endpoint,
      p.activities.map((a) => a.key),
    );
    const events = p.activities
      .filter((a) => present.has(a.key))
      .map((a) => validatedEvent(activityEvent(p.endpoint, a.key, a.activity, p.runId)));
    if (events.length > 0) await this.host.publish(events, { traceparent: p.traceparent });
  }
}

/**
 * An activity that cannot be encoded as JSON: the request carrying it is refused (400) alone.
 *
 * @example if (e instanceof UnstorableActivityError) return unstorable(String(e.index), e.message)
 */
export class UnstorableActivityError extends HooklineError {
  constructor(
    message: string,
    /** The activity's index in its request. */
    readonly index: number,
    cause: unknown,
  ) {
    super("HOOKLINE_INBOUND_UNSTORABLE", message, { cause });
    this.name = "UnstorableActivityError";
  }
}

/**
 * Handles an activity-status callback: parse (400), validate the eSputnik fields (400 with the
 * issues), store each activity once and publish it as `activity.<status>`, answer 200 with counts.
 * A replay answers 200 and stores nothing again; a store failure answers 500. `logger` is the
 * request's (its lines carry the request id).
 *
 * @example return handleActivityStatus(store, endpointConfig, received, requestLogger)
 */
export async function handleActivityStatus(
  store: ActivityStore,
  config: ActivityStatusEndpoint,
  r: Received,
  logger?: Logger,
): Promise<Response> {
  const json = parseJson(r.bytes);
  if (!json.ok) return refusal(400, "HOOKLINE_INBOUND_JSON", json.message);
  const parsed = parseActivities(json.value, config.maxItems);
  if (!parsed.success) {
    const list = Array.isArray(json.value);
    return refusal(400, "HOOKLINE_INBOUND_INVALID", list ? "invalid activities" : "invalid activity", {
      issues: zodIssues(parsed.error),
    });
  }
  const activities = parsed.data.map((activity) => ({ key: activityKey(activity), activity }));
  // A run groups the events of one request (a halting answer stops the rest of the run).
  const runId = `in.${r.endpoint}.${crypto.randomUUID()}`;
  const pending: Pending = {
    endpoint: r.endpoint,
    senderKey: r.requestKey.startsWith("id:") ? r.requestKey : undefined,
    runId,
    activities,
    traceparent: r.traceparent,
  };
  try {
    const written = await store.write(pending);
    if (written.replay) {
      await store.republish(pending);
      return answer(200, { success: true, result: { replayed: true, received: activities.length } });
    }
    const stored = written.stored.size;
    return answer(200, {
      success: true,
      result: {
        received: activities.length,
        stored,
        duplicates: activities.length - stored,
        ...(stored === 0 ? { replayed: true } : {}),
      },
    });
  } catch (e) {
    // The request's own data, refused alone (its neighbours in the batch were stored): a retry would
    // fail the same way forever, holding back the sender's later batches.
    if (e instanceof UnstorableActivityError) {
      store.refused(r.endpoint, e, logger);
      return unstorable([{ path: String(e.index), message: e.message }]);
    }
    const state = refusedData(e);
    if (state) {
      store.refused(r.endpoint, e, logger);
      return unstorable([], state);
    }
    store.failed(r.endpoint, e, logger);
    return storeUnavailable();
  }
}
