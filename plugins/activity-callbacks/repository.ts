import type { SqlDriver } from "../../core/plugin/index.ts";
import type { SubscriberConfig } from "./config.ts";

/** The plugin's SQL, all of it: its subscribers table, and what it reads of the core's deliveries. */

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

const json = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v);
const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());

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
  // A row that would not change is left alone: its updated_at is the version other processes poll.
  const out = await sql.query<{ name: string; created: boolean }>(
    `INSERT INTO hookline_subscribers AS s (name, url, integration, statuses, webhooks, batch_size, timeout_ms, retry_base_ms, retry_cap_ms, source)
     SELECT x.name, x.url, x.integration, x.statuses, x.webhooks, x.batch_size, x.timeout_ms, x.retry_base_ms, x.retry_cap_ms, x.source
       FROM jsonb_to_recordset($1::text::jsonb) AS x(name text, url text, integration text, statuses jsonb, webhooks jsonb,
            batch_size int, timeout_ms int, retry_base_ms bigint, retry_cap_ms bigint, source text)
     ON CONFLICT (name) DO UPDATE SET url = EXCLUDED.url, integration = EXCLUDED.integration, statuses = EXCLUDED.statuses,
       webhooks = EXCLUDED.webhooks, batch_size = EXCLUDED.batch_size, timeout_ms = EXCLUDED.timeout_ms, retry_base_ms = EXCLUDED.retry_base_ms,
       retry_cap_ms = EXCLUDED.retry_cap_ms, source = EXCLUDED.source, updated_at = clock_timestamp()
     WHERE (s.url, s.integration, s.statuses, s.webhooks, s.batch_size, s.timeout_ms, s.retry_base_ms, s.retry_cap_ms, s.source)
           IS DISTINCT FROM (EXCLUDED.url, EXCLUDED.integration, EXCLUDED.statuses, EXCLUDED.webhooks, EXCLUDED.batch_size,
                             EXCLUDED.timeout_ms, EXCLUDED.retry_base_ms, EXCLUDED.retry_cap_ms, EXCLUDED.source)
     RETURNING name, (xmax = 0) AS created`,
    [JSON.stringify(rows)],
  );
  return out.filter((r) => r.created).map((r) => r.name);
}

/**
 * Config-file subscribers no longer in the file are removed.
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
 * Removes a subscriber; false when there was none. Its deliveries stay in the delivery log (pending
 * ones fail as "no longer configured" when next claimed; retryable once it is back).
 *
 * @example await deleteSubscriber(sql, "acme") // true
 */
export async function deleteSubscriber(sql: SqlDriver, name: string): Promise<boolean> {
  return (
    (await sql.query("DELETE FROM hookline_subscribers WHERE name = $1 RETURNING name", [name])).length > 0
  );
}

/**
 * A cheap fingerprint of the subscribers table: any insert, change or delete changes it (rows that
 * change get a new `updated_at`; a delete changes the count or the name sum).
 *
 * @example if ((await subscribersVersion(sql)) !== seen) await reload()
 */
export async function subscribersVersion(sql: SqlDriver): Promise<string> {
  const [row] = await sql.query<{ v: string }>(
    `SELECT count(*)::text || '/' || coalesce(max(updated_at)::text, '') || '/' || coalesce(sum(hashtext(name))::text, '') AS v
       FROM hookline_subscribers`,
  );
  return row?.v ?? "";
}

/**
 * Where a subscriber's webhook stands in the core's deliveries: activities waiting or in flight,
 * requests that delivered, and the head of its ordered stream (the batch retried while later ones wait).
 *
 * @example await queueState(sql, "subscriber.acme") // { queued: 3, deliveredBatches: 12, head: { id, attempts: 2, nextAt, lastStatus: 503 } }
 */
export async function queueState(sql: SqlDriver, webhook: string): Promise<Record<string, unknown>> {
  // A batch's request is recorded once, on its first item's attempt (`recordedOn`): one row per POST.
  const [row] = await sql.query<Record<string, unknown>>(
    `SELECT (SELECT count(*) FROM hookline_delivery_state WHERE webhook = $1 AND status IN ('pending', 'waiting', 'paused', 'in_flight')) AS queued,
            (SELECT count(*) FROM hookline_attempts a JOIN hookline_deliveries d ON d.id = a.delivery_id
              WHERE d.webhook = $1 AND a.outcome = 'succeeded'
                AND coalesce(a.request->'batch'->>'recordedOn', a.delivery_id::text) = a.delivery_id::text) AS delivered_batches,
            (SELECT row_to_json(h)::text FROM (
               SELECT id, attempts, next_at AS "nextAt", last_status AS "lastStatus", reason AS "lastError"
                 FROM hookline_delivery_state WHERE webhook = $1 AND status IN ('pending', 'waiting', 'paused', 'in_flight') ORDER BY seq LIMIT 1) h) AS head`,
    [webhook],
  );
  return {
    queued: Number(row?.queued ?? 0),
    deliveredBatches: Number(row?.delivered_batches ?? 0),
    head: row?.head ? json(row.head) : null,
  };
}

/** An attempt as the console shows it: when, the answer's status or the fault, the start of the body. */
export interface AttemptSummary {
  deliveryId: string;
  startedAt: string;
  status: number | null;
  errorClass: string | null;
  error: string | null;
  /** The first 300 characters of the response body (kept on the attempt that holds a batch's request). */
  responseBody: string | null;
  /** How many activities the batch request carried. */
  batchSize: number | null;
}

/** A subscriber's queue as the console shows it. */
export interface SubscriberQueue {
  /** Activities waiting or in flight. */
  queued: number;
  /** The delivery at the head of its ordered stream: its batch goes next, the rest wait behind it. */
  head: {
    id: string;
    status: string;
    attempts: number;
    nextAt: string;
    queuedAt: string;
    lastAttempt: AttemptSummary | null;
  } | null;
  /** The latest attempt that did not succeed (among its latest 500 deliveries). */
  lastError: AttemptSummary | null;
}

const ATTEMPT_SUMMARY = `a.delivery_id AS "deliveryId", a.started_at AS "startedAt", a.status, a.error_class AS "errorClass",
  a.error, left(a.response_body, 300) AS "responseBody", (a.request->'batch'->>'size')::int AS "batchSize"`;

/**
 * A subscriber's webhook's queue: how many activities wait, the head delivery (its batch is the one
 * sent and retried next) with its next attempt time and latest attempt, and the latest failed attempt.
 *
 * @example (await subscriberQueue(sql, "subscriber.acme")).head?.nextAt
 */
export async function subscriberQueue(sql: SqlDriver, webhook: string): Promise<SubscriberQueue> {
  const [row] = await sql.query<{ queued: unknown; head: string | null; last_error: string | null }>(
    `SELECT (SELECT count(*) FROM hookline_delivery_state WHERE webhook = $1 AND status IN ('pending', 'waiting', 'paused', 'in_flight')) AS queued,
            (SELECT row_to_json(h)::text FROM (
               SELECT s.id, s.status, s.attempts, s.next_at AS "nextAt", d.created_at AS "queuedAt",
                      (SELECT row_to_json(l) FROM (
                         SELECT ${ATTEMPT_SUMMARY} FROM hookline_attempts a WHERE a.delivery_id = s.id
                          ORDER BY a.number DESC LIMIT 1) l) AS "lastAttempt"
                 FROM hookline_delivery_state s JOIN hookline_deliveries d ON d.id = s.id
                WHERE s.webhook = $1 AND s.status IN ('pending', 'waiting', 'paused', 'in_flight')
                ORDER BY s.seq LIMIT 1) h) AS head,
            (SELECT row_to_json(f)::text FROM (
               SELECT ${ATTEMPT_SUMMARY}
                 FROM (SELECT id FROM hookline_deliveries WHERE webhook = $1 ORDER BY seq DESC LIMIT 500) d
                 JOIN hookline_attempts a ON a.delivery_id = d.id
                WHERE a.outcome <> 'succeeded'
                ORDER BY a.started_at DESC, (a.response_body IS NOT NULL) DESC LIMIT 1) f) AS last_error`,
    [webhook],
  );
  const head = row?.head ? json(row.head) : null;
  return {
    queued: Number(row?.queued ?? 0),
    head: head && { ...head, nextAt: iso(head.nextAt), queuedAt: iso(head.queuedAt) },
    lastError: row?.last_error ? json(row.last_error) : null,
  };
}
