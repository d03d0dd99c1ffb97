import type { SqlDriver, SqlExecutor } from "../../core/plugin/index.ts";
import type { Activity } from "./activity.ts";
import type { SubscriberConfig } from "./config.ts";

/** A subscriber as stored (config-file ones are written at start, API ones when saved). */
export interface Subscriber {
  name: string;
  url: string;
  integration?: string;
  statuses?: string[];
  /** Outbound webhooks whose delivery outcomes become activities for this subscriber. */
  webhooks?: string[];
  batchSize: number;
  timeoutMs: number;
  retryBaseMs: number;
  retryCapMs: number;
  source: "config" | "api";
}

/** The head batch of a subscriber's queue, claimed for one attempt. */
export interface ClaimedBatch {
  id: string;
  /** Attempts so far, this one included. */
  attempts: number;
  items: Activity[];
}

const json = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v);

function toSubscriber(r: Record<string, unknown>): Subscriber {
  return {
    name: String(r.name),
    url: String(r.url),
    integration: (r.integration as string | null) ?? undefined,
    statuses: json(r.statuses) ?? undefined,
    webhooks: json(r.webhooks) ?? undefined,
    batchSize: Number(r.batch_size),
    timeoutMs: Number(r.timeout_ms),
    retryBaseMs: Number(r.retry_base_ms),
    retryCapMs: Number(r.retry_cap_ms),
    source: r.source as "config" | "api",
  };
}

const SUBSCRIBER_COLUMNS =
  "name, url, integration, statuses::text AS statuses, webhooks::text AS webhooks, batch_size, timeout_ms, retry_base_ms, retry_cap_ms, source";

/**
 * A config entry as a stored subscriber, with the plugin's retry defaults filled in.
 *
 * @example subscriberFrom("acme", SubscriberConfig.parse({ url }), "api", { base: 60_000, cap: 3_600_000 })
 */
export function subscriberFrom(
  name: string,
  c: SubscriberConfig,
  source: "config" | "api",
  defaults: { base: number; cap: number },
): Subscriber {
  return {
    name,
    url: c.url,
    integration: c.integration,
    statuses: c.statuses,
    webhooks: c.webhooks,
    batchSize: c.batchSize,
    timeoutMs: c.timeout,
    retryBaseMs: c.retry?.base ?? defaults.base,
    retryCapMs: c.retry?.cap ?? defaults.cap,
    source,
  };
}

/**
 * Writes subscribers (insert or replace). Returns the names that were new.
 *
 * @example await saveSubscribers(sql, [subscriberFrom("crm", config, "api", defaults)])
 */
export async function saveSubscribers(sql: SqlDriver, list: Subscriber[]): Promise<string[]> {
  if (list.length === 0) return [];
  const rows = list.map((s) => ({
    name: s.name,
    url: s.url,
    integration: s.integration ?? null,
    statuses: s.statuses ?? null,
    webhooks: s.webhooks ?? null,
    batch_size: s.batchSize,
    timeout_ms: s.timeoutMs,
    retry_base_ms: s.retryBaseMs,
    retry_cap_ms: s.retryCapMs,
    source: s.source,
  }));
  const out = await sql.query<{ name: string; created: boolean }>(
    `INSERT INTO hookline_subscribers (name, url, integration, statuses, webhooks, batch_size, timeout_ms, retry_base_ms, retry_cap_ms, source)
     SELECT x.name, x.url, x.integration, x.statuses, x.webhooks, x.batch_size, x.timeout_ms, x.retry_base_ms, x.retry_cap_ms, x.source
       FROM jsonb_to_recordset($1::text::jsonb) AS x(name text, url text, integration text, statuses jsonb, webhooks jsonb,
            batch_size int, timeout_ms int, retry_base_ms bigint, retry_cap_ms bigint, source text)
     ON CONFLICT (name) DO UPDATE SET url = EXCLUDED.url, integration = EXCLUDED.integration, statuses = EXCLUDED.statuses,
       webhooks = EXCLUDED.webhooks, batch_size = EXCLUDED.batch_size, timeout_ms = EXCLUDED.timeout_ms, retry_base_ms = EXCLUDED.retry_base_ms,
       retry_cap_ms = EXCLUDED.retry_cap_ms, source = EXCLUDED.source, updated_at = now()
     RETURNING name, (xmax = 0) AS created`,
    [JSON.stringify(rows)],
  );
  return out.filter((r) => r.created).map((r) => r.name);
}

/**
 * Config-file subscribers no longer in the file are removed, with what they had queued.
 *
 * @example await pruneConfigSubscribers(sql, ["acme"])
 */
export async function pruneConfigSubscribers(sql: SqlDriver, keep: string[]): Promise<void> {
  await sql.query(
    `DELETE FROM hookline_subscribers WHERE source = 'config'
       AND name NOT IN (SELECT value FROM jsonb_array_elements_text($1::text::jsonb))`,
    [JSON.stringify(keep)],
  );
}

/**
 * Every subscriber, by name.
 *
 * @example (await listSubscribers(sql)).map((s) => s.url)
 */
export async function listSubscribers(sql: SqlDriver): Promise<Subscriber[]> {
  return (
    await sql.query<Record<string, unknown>>(
      `SELECT ${SUBSCRIBER_COLUMNS} FROM hookline_subscribers ORDER BY name`,
    )
  ).map(toSubscriber);
}

/**
 * One subscriber, or undefined.
 *
 * @example (await findSubscriber(sql, "acme"))?.source // "config"
 */
export async function findSubscriber(sql: SqlDriver, name: string): Promise<Subscriber | undefined> {
  const [row] = await sql.query<Record<string, unknown>>(
    `SELECT ${SUBSCRIBER_COLUMNS} FROM hookline_subscribers WHERE name = $1`,
    [name],
  );
  return row ? toSubscriber(row) : undefined;
}

/**
 * Removes a subscriber and its queue; false when there was none.
 *
 * @example await deleteSubscriber(sql, "acme") // true
 */
export async function deleteSubscriber(sql: SqlDriver, name: string): Promise<boolean> {
  return (
    (await sql.query("DELETE FROM hookline_subscribers WHERE name = $1 RETURNING name", [name])).length > 0
  );
}

/**
 * Queues activities, in the order given, each at most once per subscriber (by activity key): an
 * activity with a `webhook` (a delivery outcome) for the subscribers that name that webhook in
 * `webhooks`, one without for every subscriber; either only where the subscriber wants its status.
 * Takes a transaction too (an observer's), so the entries commit with what caused them. Returns how
 * many queue entries were added.
 *
 * @example await enqueue(sql, [{ key, activity }, { key: key2, activity: outcome, webhook: "crm-sync" }])
 */
export async function enqueue(
  sql: SqlExecutor,
  items: Array<{ key: string; activity: Activity; webhook?: string }>,
): Promise<number> {
  if (items.length === 0) return 0;
  const rows = items.map((x, ord) => ({
    ord,
    dedupe_key: x.key,
    status: x.activity.activityStatus,
    webhook: x.webhook ?? null,
    activity: x.activity,
  }));
  const out = await sql.query(
    `INSERT INTO hookline_callback_queue (subscriber, dedupe_key, activity)
     SELECT s.name, x.dedupe_key, x.activity
       FROM jsonb_to_recordset($1::text::jsonb) AS x(ord int, dedupe_key text, status text, webhook text, activity jsonb)
       JOIN hookline_subscribers s ON (s.statuses IS NULL OR s.statuses @> jsonb_build_array(x.status))
        AND (x.webhook IS NULL OR s.webhooks @> jsonb_build_array(x.webhook))
      ORDER BY x.ord, s.name
     ON CONFLICT (subscriber, dedupe_key) DO NOTHING
     RETURNING seq`,
    [JSON.stringify(rows)],
  );
  return out.length;
}

/**
 * Subscribers whose head batch is due, or who have queued activities and no batch waiting.
 *
 * @example for (const s of await dueSubscribers(sql)) await claimHead(sql, s, owner, leaseMs)
 */
export async function dueSubscribers(sql: SqlDriver): Promise<Subscriber[]> {
  return (
    await sql.query<Record<string, unknown>>(
      `SELECT ${SUBSCRIBER_COLUMNS} FROM hookline_subscribers s
        WHERE EXISTS (SELECT 1 FROM hookline_callback_batches b WHERE b.subscriber = s.name AND b.status = 'pending'
                        AND b.next_at <= now() AND (b.lease_until IS NULL OR b.lease_until < now()))
           OR (NOT EXISTS (SELECT 1 FROM hookline_callback_batches b WHERE b.subscriber = s.name AND b.status = 'pending')
               AND EXISTS (SELECT 1 FROM hookline_callback_queue q WHERE q.subscriber = s.name AND q.batch_id IS NULL))`,
    )
  ).map(toSubscriber);
}

/**
 * Claims the head of one subscriber's queue for one attempt, across processes: under a per-subscriber
 * advisory lock (held for this short transaction only), forms the next batch from the oldest queued
 * activities when none is waiting, then leases the head batch if it is due and not leased. Later
 * batches are never claimed while an earlier one is pending, so subscribers receive them in order.
 * Undefined when there is nothing to send now (or another process holds the subscriber).
 *
 * @example const batch = await claimHead(sql, subscriber, "worker-1", 40_000);
 */
export async function claimHead(
  sql: SqlDriver,
  s: Subscriber,
  owner: string,
  leaseMs: number,
): Promise<ClaimedBatch | undefined> {
  const claimed = await sql.transaction(async (tx) => {
    const [lock] = await tx.query<{ got: boolean }>(
      "SELECT pg_try_advisory_xact_lock(7204520, hashtext($1)) AS got",
      [s.name],
    );
    if (!lock?.got) return undefined;
    const head = await tx.query(
      "SELECT id FROM hookline_callback_batches WHERE subscriber = $1 AND status = 'pending' LIMIT 1",
      [s.name],
    );
    if (head.length === 0) {
      await tx.query(
        `WITH picked AS (
           SELECT seq FROM hookline_callback_queue WHERE subscriber = $1 AND batch_id IS NULL ORDER BY seq LIMIT $2
         ), b AS (
           INSERT INTO hookline_callback_batches (id, subscriber, size)
           SELECT $3::uuid, $1, count(*) FROM picked HAVING count(*) > 0
           RETURNING id
         )
         UPDATE hookline_callback_queue q SET batch_id = b.id FROM picked, b WHERE q.seq = picked.seq`,
        [s.name, s.batchSize, crypto.randomUUID()],
      );
    }
    const rows = await tx.query<{ id: string; attempts: number }>(
      `UPDATE hookline_callback_batches
          SET lease_owner = $2, lease_until = now() + $3 * interval '1 millisecond', attempts = attempts + 1
        WHERE id = (SELECT id FROM hookline_callback_batches WHERE subscriber = $1 AND status = 'pending' ORDER BY seq LIMIT 1)
          AND next_at <= now() AND (lease_until IS NULL OR lease_until < now())
        RETURNING id, attempts`,
      [s.name, owner, leaseMs],
    );
    return rows[0];
  });
  if (!claimed) return undefined;
  const items = await sql.query<{ activity: unknown }>(
    "SELECT activity::text AS activity FROM hookline_callback_queue WHERE batch_id = $1 ORDER BY seq",
    [claimed.id],
  );
  return { id: claimed.id, attempts: Number(claimed.attempts), items: items.map((r) => json(r.activity)) };
}

/**
 * Records an attempt of a claimed batch: delivered, or back to waiting `retryInMs`. A result from a
 * lease another process has since taken over is not applied.
 *
 * @example await finishAttempt(sql, batch, owner, { delivered: true, status: 200, startedAt, durationMs })
 */
export async function finishAttempt(
  sql: SqlDriver,
  batch: ClaimedBatch,
  owner: string,
  r: {
    delivered: boolean;
    retryInMs?: number;
    status?: number;
    error?: string;
    startedAt: Date;
    durationMs: number;
  },
): Promise<void> {
  await sql.transaction(async (tx) => {
    const updated = r.delivered
      ? await tx.query(
          `UPDATE hookline_callback_batches SET status = 'delivered', delivered_at = now(), lease_owner = NULL,
                  lease_until = NULL, last_status = $3, last_error = NULL
            WHERE id = $1 AND lease_owner = $2 AND status = 'pending' RETURNING id`,
          [batch.id, owner, r.status ?? null],
        )
      : await tx.query(
          `UPDATE hookline_callback_batches SET next_at = now() + $3 * interval '1 millisecond', lease_owner = NULL,
                  lease_until = NULL, last_status = $4, last_error = $5
            WHERE id = $1 AND lease_owner = $2 AND status = 'pending' RETURNING id`,
          [batch.id, owner, r.retryInMs ?? 0, r.status ?? null, r.error ?? null],
        );
    if (updated.length === 0) return;
    await tx.query(
      `INSERT INTO hookline_callback_attempts (batch_id, number, started_at, duration_ms, status, error)
       VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [
        batch.id,
        batch.attempts,
        r.startedAt.toISOString(),
        Math.round(r.durationMs),
        r.status ?? null,
        r.error ?? null,
      ],
    );
  });
}

/**
 * Where a subscriber's queue stands: activities waiting, batches delivered, the head batch.
 *
 * @example await queueState(sql, "acme") // { queued: 3, deliveredBatches: 12, head: { attempts: 2, nextAt, lastStatus: 503 } }
 */
export async function queueState(sql: SqlDriver, name: string): Promise<Record<string, unknown>> {
  const [row] = await sql.query<Record<string, unknown>>(
    `SELECT (SELECT count(*) FROM hookline_callback_queue WHERE subscriber = $1 AND batch_id IS NULL) AS queued,
            (SELECT count(*) FROM hookline_callback_batches WHERE subscriber = $1 AND status = 'delivered') AS delivered_batches,
            (SELECT row_to_json(h)::text FROM (
               SELECT id, size, attempts, next_at AS "nextAt", last_status AS "lastStatus", last_error AS "lastError"
                 FROM hookline_callback_batches WHERE subscriber = $1 AND status = 'pending' ORDER BY seq LIMIT 1) h) AS head`,
    [name],
  );
  return {
    queued: Number(row?.queued ?? 0),
    deliveredBatches: Number(row?.delivered_batches ?? 0),
    head: row?.head ? json(row.head) : null,
  };
}

/**
 * Deletes delivered batches older than `retentionMs` (by when they were delivered), with their queue
 * entries and attempts, at most `chunk` rows per statement so that a big sweep never holds its locks
 * long. Pending batches and queued activities are never touched. Returns what was deleted.
 *
 * @example await sweepDelivered(sql, 7 * 86_400_000) // { batches: 120, activities: 11840 }
 */
export async function sweepDelivered(
  sql: SqlExecutor,
  retentionMs: number,
  chunk = 10_000,
): Promise<{ batches: number; activities: number }> {
  const [row] = await sql.query<{ cutoff: string }>(
    "SELECT (now() - $1 * interval '1 millisecond')::text AS cutoff",
    [retentionMs],
  );
  const cutoff = row!.cutoff;
  const deleteAll = async (statement: string) => {
    let total = 0;
    for (;;) {
      const [r] = await sql.query<{ n: unknown }>(statement, [cutoff, chunk]);
      const n = Number(r?.n ?? 0);
      total += n;
      if (n < chunk) return total;
    }
  };
  // Queue entries first: a batch is deleted only once nothing refers to it (a sweep cut short resumes).
  const activities = await deleteAll(
    `WITH d AS (
       DELETE FROM hookline_callback_queue WHERE seq = ANY(ARRAY(
         SELECT q.seq FROM hookline_callback_batches b JOIN hookline_callback_queue q ON q.batch_id = b.id
          WHERE b.status = 'delivered' AND b.delivered_at < $1::timestamptz LIMIT $2))
       RETURNING 1)
     SELECT count(*) AS n FROM d`,
  );
  const batches = await deleteAll(
    `WITH d AS (
       DELETE FROM hookline_callback_batches WHERE id = ANY(ARRAY(
         SELECT b.id FROM hookline_callback_batches b
          WHERE b.status = 'delivered' AND b.delivered_at < $1::timestamptz
            AND NOT EXISTS (SELECT 1 FROM hookline_callback_queue q WHERE q.batch_id = b.id) LIMIT $2))
       RETURNING 1)
     SELECT count(*) AS n FROM d`,
  );
  return { batches, activities };
}

/**
 * The webhooks any subscriber names in `webhooks` (whose delivery outcomes it receives).
 *
 * @example (await watchedWebhooks(sql)).has("crm-sync")
 */
export async function watchedWebhooks(sql: SqlExecutor): Promise<Set<string>> {
  const rows = await sql.query<{ webhook: string }>(
    `SELECT DISTINCT w.value AS webhook
       FROM hookline_subscribers s, jsonb_array_elements_text(coalesce(s.webhooks, '[]'::jsonb)) AS w(value)`,
  );
  return new Set(rows.map((r) => r.webhook));
}
