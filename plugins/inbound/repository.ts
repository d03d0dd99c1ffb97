import type { SqlExecutor } from "../../core/plugin/index.ts";

// The inbound plugin's SQL on activities, receipts, API-defined endpoints and retention, each
// statement a typed function (profiles: profile-repository.ts). Tables: migrations.ts.

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());

/** A row `insertActivities` wrote: a receipt (`r`, key = request key) or an activity (`a`, key = dedupe key). */
export interface WrittenRow {
  t: "r" | "a";
  endpoint: string;
  k: string;
}

/**
 * One statement for a burst of activity-status requests: the receipts of requests the sender named
 * (`receipts`: JSON `[{ endpoint, request_key }]`), then every activity once by its key (`rows`: JSON
 * `[{ endpoint, dedupe_key, request_key, status, activity }]`, stored in that order), skipping those of
 * a request whose receipt already existed (a replay). Returns what was new.
 *
 * @example await insertActivities(sql, '[]', '[{"endpoint":"esputnik","dedupe_key":"k","request_key":null,"status":"READ","activity":{}}]')
 */
export function insertActivities(sql: SqlExecutor, receipts: string, rows: string): Promise<WrittenRow[]> {
  return sql.query<WrittenRow>(
    `WITH r AS (
       INSERT INTO hookline_inbound_receipts (endpoint, request_key)
       SELECT x.endpoint, x.request_key FROM jsonb_to_recordset($1::text::jsonb) AS x(endpoint text, request_key text)
       ON CONFLICT DO NOTHING
       RETURNING endpoint, request_key
     ), a AS (
       INSERT INTO hookline_activities (endpoint, dedupe_key, status, activity)
       SELECT y.endpoint, y.dedupe_key, y.status, y.activity
         FROM ROWS FROM (jsonb_to_recordset($2::text::jsonb)
                AS (endpoint text, dedupe_key text, request_key text, status text, activity jsonb))
              WITH ORDINALITY AS y(endpoint, dedupe_key, request_key, status, activity, ord)
        WHERE y.request_key IS NULL
           OR EXISTS (SELECT 1 FROM r WHERE r.endpoint = y.endpoint AND r.request_key = y.request_key)
        ORDER BY y.ord
       ON CONFLICT (endpoint, dedupe_key) DO NOTHING
       RETURNING endpoint, dedupe_key
     )
     SELECT 'r' AS t, endpoint, request_key AS k FROM r
     UNION ALL SELECT 'a' AS t, endpoint, dedupe_key AS k FROM a`,
    [receipts, rows],
  );
}

/**
 * Which of these activity keys an endpoint has stored.
 *
 * @example const present = await storedActivityKeys(sql, "esputnik", ["k1", "k2"]) // Set { "k1" }
 */
export async function storedActivityKeys(
  sql: SqlExecutor,
  endpoint: string,
  keys: readonly string[],
): Promise<Set<string>> {
  const rows = await sql.query<{ dedupe_key: string }>(
    `SELECT dedupe_key FROM hookline_activities
      WHERE endpoint = $1 AND dedupe_key IN (SELECT value FROM jsonb_array_elements_text($2::text::jsonb))`,
    [endpoint, JSON.stringify(keys)],
  );
  return new Set(rows.map((r) => r.dedupe_key));
}

/** An endpoint saved through the admin API: its config as JSON text, its auth sealed when it holds secrets. */
export interface EndpointRow {
  name: string;
  config: string;
  sealed: string | null;
}

/**
 * Every endpoint saved through the admin API.
 *
 * @example for (const row of await loadEndpoints(sql)) compile(row.name, JSON.parse(row.config))
 */
export async function loadEndpoints(sql: SqlExecutor): Promise<EndpointRow[]> {
  const rows = await sql.query<{ name: string; config: unknown; sealed: string | null }>(
    "SELECT name, config::text AS config, sealed FROM hookline_inbound_endpoints",
  );
  return rows.map((r) => ({ name: r.name, config: String(r.config), sealed: r.sealed }));
}

/**
 * Saves an endpoint defined through the admin API; true when it was created (else replaced).
 *
 * @example await saveEndpoint(sql, "crm", JSON.stringify(config), sealed)
 */
export async function saveEndpoint(
  sql: SqlExecutor,
  name: string,
  config: string,
  sealed: string | null,
): Promise<boolean> {
  const rows = await sql.query<{ created: boolean }>(
    `INSERT INTO hookline_inbound_endpoints (name, config, sealed) VALUES ($1, $2::text::jsonb, $3)
     ON CONFLICT (name) DO UPDATE SET config = EXCLUDED.config, sealed = EXCLUDED.sealed, updated_at = now()
     RETURNING (xmax = 0) AS created`,
    [name, config, sealed],
  );
  return Boolean(rows[0]?.created);
}

/**
 * Deletes an endpoint defined through the admin API; false when there was none.
 *
 * @example await deleteEndpoint(sql, "crm")
 */
export async function deleteEndpoint(sql: SqlExecutor, name: string): Promise<boolean> {
  const rows = await sql.query("DELETE FROM hookline_inbound_endpoints WHERE name = $1 RETURNING name", [
    name,
  ]);
  return rows.length > 0;
}

/** How long rows are kept, in ms; 0 keeps them for ever. */
export interface InboundRetention {
  /** Receipts (the replay memory of requests). */
  receipts: number;
  /** Stored activities (`hookline_activities`). */
  activities: number;
}

/**
 * Deletes receipts and stored activities older than their retention (0 keeps them), at most `chunk`
 * rows per statement (by `ctid`, so that no sweep holds its locks long or needs an index on the time).
 * A replay older than the receipts' retention is treated as new, and an activity sent again after
 * its retention is stored again. Returns how many rows went.
 *
 * @example await sweepInbound(host.sql, { receipts: 7 * 86_400_000, activities: 30 * 86_400_000 }) // { receipts: 12, activities: 40210 }
 */
export async function sweepInbound(
  sql: SqlExecutor,
  retention: InboundRetention,
  chunk = 10_000,
): Promise<{ receipts: number; activities: number }> {
  return {
    receipts: await sweepTable(sql, "hookline_inbound_receipts", retention.receipts, chunk),
    activities: await sweepTable(sql, "hookline_activities", retention.activities, chunk),
  };
}

async function sweepTable(
  sql: SqlExecutor,
  table: "hookline_inbound_receipts" | "hookline_activities",
  retentionMs: number,
  chunk: number,
): Promise<number> {
  if (retentionMs <= 0) return 0;
  const [row] = await sql.query<{ cutoff: string }>(
    "SELECT (now() - $1 * interval '1 millisecond')::text AS cutoff",
    [retentionMs],
  );
  let total = 0;
  for (;;) {
    const [r] = await sql.query<{ n: unknown }>(
      `WITH d AS (
         DELETE FROM ${table} WHERE received_at < $1::timestamptz AND ctid = ANY(ARRAY(
           SELECT ctid FROM ${table} WHERE received_at < $1::timestamptz LIMIT $2))
         RETURNING 1)
       SELECT count(*) AS n FROM d`,
      [row!.cutoff, chunk],
    );
    const n = Number(r?.n ?? 0);
    total += n;
    if (n < chunk) return total;
  }
}

// What the console reads (plugins/inbound/console.tsx): activities a page at a time, profile updates
// from their receipts, and refusals counted by the minute.

/** A stored activity as the console lists it: `seq` orders (and pages) them. */
export interface StoredActivity {
  seq: string;
  receivedAt: string;
  activity: Record<string, unknown>;
}

/**
 * A page of an endpoint's activities received since `since`, newest first: those older than `before`
 * (the last `seq` of the previous page) when it is given.
 *
 * @example await activityPage(sql, "esputnik", { since: new Date(Date.now() - 86_400_000), limit: 50 })
 */
export async function activityPage(
  sql: SqlExecutor,
  endpoint: string,
  page: { since: Date; before?: string; limit: number },
): Promise<StoredActivity[]> {
  // The position as text (a bigint), named apart from seq: ORDER BY seq must sort the numbers.
  const rows = await sql.query<{ position: string; activity: string; received_at: unknown }>(
    `SELECT seq::text AS position, activity::text AS activity, received_at FROM hookline_activities
      WHERE received_at >= $2::timestamptz AND endpoint = $1 AND ($3::text IS NULL OR seq < $3::text::bigint)
      ORDER BY seq DESC LIMIT $4`,
    [endpoint, page.since.toISOString(), page.before ?? null, page.limit],
  );
  return rows.map((r) => ({
    seq: r.position,
    receivedAt: iso(r.received_at),
    activity: JSON.parse(r.activity),
  }));
}

/** A profile update as its receipt recorded it: the answer (profile id, changed properties, errors). */
export interface ProfileUpdateReceipt {
  receivedAt: string;
  response: Record<string, unknown>;
  /** The value of the endpoint's identifier property on the profile it updated. */
  identifier?: string;
}

/**
 * An endpoint's latest profile updates since `since`, newest first, each with the identifier
 * (`property`) of the profile it updated.
 *
 * @example await recentProfileUpdates(sql, "crm", "email", new Date(Date.now() - 86_400_000), 50)
 */
export async function recentProfileUpdates(
  sql: SqlExecutor,
  endpoint: string,
  property: string,
  since: Date,
  limit: number,
): Promise<ProfileUpdateReceipt[]> {
  const rows = await sql.query<{ received_at: unknown; response: string; identifier: string | null }>(
    `SELECT r.received_at, r.response::text AS response,
            (SELECT i.value FROM hookline_profile_identifiers i
              WHERE i.profile_id = r.response->'result'->>'profileId' AND i.property = $2 LIMIT 1) AS identifier
       FROM hookline_inbound_receipts r
      WHERE r.received_at >= $3::timestamptz AND r.endpoint = $1 AND r.response IS NOT NULL
      ORDER BY r.received_at DESC LIMIT $4`,
    [endpoint, property, since.toISOString(), limit],
  );
  return rows.map((r) => ({
    receivedAt: iso(r.received_at),
    response: JSON.parse(r.response),
    identifier: r.identifier ?? undefined,
  }));
}

/** Refusals of one endpoint for one reason (the answer's error code and status) in one minute. */
export interface RefusalTally {
  endpoint: string;
  code: string;
  status: number;
  /** The minute they fell in (ISO, seconds zero). */
  minute: string;
  count: number;
}

/**
 * Adds refusal counts to their minutes' rows (one statement for any number of them; each
 * endpoint, code, status and minute at most once).
 *
 * @example await addRefusals(sql, [{ endpoint: "esputnik", code: "HOOKLINE_INBOUND_API_KEY", status: 401, minute, count: 3 }])
 */
export async function addRefusals(sql: SqlExecutor, tallies: readonly RefusalTally[]): Promise<void> {
  await sql.query(
    `INSERT INTO hookline_inbound_refusals AS r (endpoint, code, status, minute, count)
     SELECT x.endpoint, x.code, x.status, x.minute, x.count
       FROM jsonb_to_recordset($1::text::jsonb) AS x(endpoint text, code text, status integer, minute timestamptz, count bigint)
     ON CONFLICT (endpoint, code, status, minute) DO UPDATE SET count = r.count + EXCLUDED.count`,
    [JSON.stringify(tallies)],
  );
}

/** Refusals of an endpoint for one reason: in the last hour and day, and the minute of the latest. */
export interface RefusalCount {
  endpoint: string;
  code: string;
  status: number;
  lastHour: number;
  lastDay: number;
  latest: string;
}

/**
 * Refusals in the last day by endpoint and reason (all endpoints', or `endpoint`'s), most first.
 * Counted by the minute: "the last hour" is the last 60 minutes' rows.
 *
 * @example (await refusalCounts(sql, "esputnik"))[0] // { code: "HOOKLINE_INBOUND_API_KEY", status: 401, lastHour: 3, lastDay: 40, … }
 */
export async function refusalCounts(sql: SqlExecutor, endpoint?: string): Promise<RefusalCount[]> {
  const rows = await sql.query<Record<string, unknown>>(
    `SELECT endpoint, code, status,
            coalesce(sum(count) FILTER (WHERE minute >= now() - interval '1 hour'), 0)::text AS hour,
            sum(count)::text AS day, max(minute) AS latest
       FROM hookline_inbound_refusals
      WHERE minute >= now() - interval '1 day' AND ($1::text IS NULL OR endpoint = $1)
      GROUP BY endpoint, code, status ORDER BY sum(count) DESC, endpoint, code`,
    [endpoint ?? null],
  );
  return rows.map((r) => ({
    endpoint: String(r.endpoint),
    code: String(r.code),
    status: Number(r.status),
    lastHour: Number(r.hour),
    lastDay: Number(r.day),
    latest: iso(r.latest),
  }));
}

/**
 * Deletes refusal counts older than two days (the console shows the last day).
 *
 * @example await sweepRefusals(sql)
 */
export async function sweepRefusals(sql: SqlExecutor): Promise<void> {
  await sql.query("DELETE FROM hookline_inbound_refusals WHERE minute < now() - interval '2 days'");
}
