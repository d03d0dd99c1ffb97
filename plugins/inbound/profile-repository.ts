import type { EventInput, SqlDriver, SqlExecutor } from "../../core/plugin/index.ts";
import { beginCrossings, type CrossingSource } from "./segments/triggers.ts";

// The inbound plugin's SQL on customer profiles, their identifiers and timelines, each statement a
// typed function (activities, receipts, endpoints: repository.ts). Tables: migrations.ts.

/** A customer profile as kept in the store. */
export interface Profile {
  id: string;
  properties: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  identifiers: Array<{ property: string; value: string }>;
}

export interface TimelineEvent {
  type: string;
  at: string;
  data: Record<string, unknown>;
  endpoint?: string;
}

/** What a profile update decided, computed inside its transaction from the locked profile. */
export interface ProfileDecision {
  /** The answer to store with the receipt and send. */
  response: Record<string, unknown>;
  /** New properties to write, when they changed. */
  properties?: Record<string, unknown>;
  timeline: TimelineEvent[];
  /** Consents the request gave or withdrew (consent mapping rules), written with the properties. */
  consents?: Array<Consent & { objective: string }>;
  /** Events to publish once the transaction committed. */
  events: EventInput[];
}

const json = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v);
const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());

/**
 * Runs one profile update in one transaction: records the request's receipt (a replay stops here),
 * finds the profile by identifier (locking it, so concurrent sums add up), creates it when asked,
 * lets `decide` compute the change, writes properties, timeline events and the answer. Returns
 * `replay` when the request key was seen before.
 *
 * @example
 * const out = await updateProfile(sql, { endpoint: "crm", requestKey, identifier: { property: "email", value }, create: true },
 *   (profile) => ({ response: { success: true }, timeline: [], events: [] }));
 */
export async function updateProfile(
  sql: SqlDriver,
  input: {
    endpoint: string;
    requestKey: string;
    identifier: { property: string; value: string };
    create: boolean;
    /** Raises segment entry and exit (segment-entered / -exited triggers) with the change's events. */
    segments?: { source: CrossingSource; cause: string; via: Record<string, unknown> };
  },
  decide: (
    profile: { id: string; properties: Record<string, unknown>; created: boolean } | undefined,
  ) => ProfileDecision,
): Promise<{ replay: true } | { replay: false; decision: ProfileDecision }> {
  return sql.transaction(async (tx) => {
    const receipt = await tx.query(
      `INSERT INTO hookline_inbound_receipts (endpoint, request_key) VALUES ($1, $2)
       ON CONFLICT DO NOTHING RETURNING request_key`,
      [input.endpoint, input.requestKey],
    );
    if (receipt.length === 0) return { replay: true as const };
    const found = await findOrCreate(tx, input.identifier, input.create);
    const crossing =
      found && input.segments
        ? await beginCrossings(input.segments.source, tx, {
            profileId: found.id,
            properties: found.created ? undefined : found.properties,
          })
        : undefined;
    const decision = decide(found);
    if (found) await writeProfile(tx, found.id, decision.properties, decision.timeline, input.endpoint);
    if (found && decision.consents?.length) await upsertConsents(tx, found.id, decision.consents);
    if (crossing && found)
      decision.events.push(
        ...(await crossing.finish(decision.properties ?? found.properties, input.segments!)),
      );
    await tx.query(
      `UPDATE hookline_inbound_receipts SET response = $3::text::jsonb, events = $4::text::jsonb
        WHERE endpoint = $1 AND request_key = $2`,
      [input.endpoint, input.requestKey, JSON.stringify(decision.response), JSON.stringify(decision.events)],
    );
    return { replay: false as const, decision };
  });
}

/** A profile locked for update, and whether this transaction created it. */
export interface LockedProfile {
  id: string;
  properties: Record<string, unknown>;
  created: boolean;
}

/**
 * Finds the profile an identifier names, locking it (concurrent updates then apply one after the
 * other); creates it when asked and none exists. Undefined when there is none and none was created.
 *
 * @example const p = await findOrCreate(tx, { property: "email", value: "ada@example.com" }, true);
 */
export async function findOrCreate(
  tx: SqlExecutor,
  identifier: { property: string; value: string },
  create: boolean,
): Promise<LockedProfile | undefined> {
  const { property, value } = identifier;
  const found = await lockByIdentifier(tx, property, value);
  if (found || !create) return found && { ...found, created: false };
  const id = `prof_${crypto.randomUUID()}`;
  const initial = { [property]: value };
  await tx.query("INSERT INTO hookline_profiles (id, properties) VALUES ($1, $2::text::jsonb)", [
    id,
    JSON.stringify(initial),
  ]);
  const claimed = await tx.query(
    `INSERT INTO hookline_profile_identifiers (property, value, profile_id) VALUES ($1, $2, $3)
     ON CONFLICT DO NOTHING RETURNING profile_id`,
    [property, value, id],
  );
  if (claimed.length > 0) return { id, properties: initial, created: true };
  // Another request created this customer first; update theirs.
  await tx.query("DELETE FROM hookline_profiles WHERE id = $1", [id]);
  const theirs = await lockByIdentifier(tx, property, value);
  return theirs && { ...theirs, created: false };
}

/**
 * The profile with this id, locked for update, or undefined.
 *
 * @example const p = await lockProfile(tx, "prof_…");
 */
export async function lockProfile(tx: SqlExecutor, id: string): Promise<LockedProfile | undefined> {
  const rows = await tx.query<{ id: string; properties: unknown }>(
    "SELECT id, properties::text AS properties FROM hookline_profiles WHERE id = $1 FOR UPDATE",
    [id],
  );
  return rows[0] ? { id: rows[0].id, properties: json(rows[0].properties), created: false } : undefined;
}

/**
 * Writes a profile's new properties (when given) and timeline events, from `source` (an inbound
 * endpoint's name, or `webhook:<name>` for response mapping).
 *
 * @example await writeProfile(tx, profile.id, properties, [], "crm");
 */
export async function writeProfile(
  tx: SqlExecutor,
  id: string,
  properties: Record<string, unknown> | undefined,
  timeline: TimelineEvent[],
  source: string,
): Promise<void> {
  if (properties) {
    await tx.query(
      "UPDATE hookline_profiles SET properties = $2::text::jsonb, updated_at = now() WHERE id = $1",
      [id, JSON.stringify(properties)],
    );
  }
  if (timeline.length > 0) {
    await tx.query(
      `INSERT INTO hookline_timeline_events (profile_id, type, at, data, endpoint)
       SELECT $1, x.type, x.at, x.data, $2
         FROM jsonb_to_recordset($3::text::jsonb) AS x(type text, at timestamptz, data jsonb)`,
      [id, source, JSON.stringify(timeline)],
    );
  }
}

async function lockByIdentifier(
  tx: SqlExecutor,
  property: string,
  value: string,
): Promise<{ id: string; properties: Record<string, unknown> } | undefined> {
  const rows = await tx.query<{ id: string; properties: unknown }>(
    `SELECT p.id, p.properties::text AS properties
       FROM hookline_profile_identifiers i JOIN hookline_profiles p ON p.id = i.profile_id
      WHERE i.property = $1 AND i.value = $2
      FOR UPDATE OF p`,
    [property, value],
  );
  return rows[0] ? { id: rows[0].id, properties: json(rows[0].properties) } : undefined;
}

/**
 * The stored answer and events of a request seen before.
 *
 * @example const { response, events } = (await storedReceipt(sql, "crm", key))!;
 */
export async function storedReceipt(
  sql: SqlExecutor,
  endpoint: string,
  requestKey: string,
): Promise<{ response?: Record<string, unknown>; events: EventInput[] } | undefined> {
  const rows = await sql.query<{ response: unknown; events: unknown }>(
    `SELECT response::text AS response, events::text AS events FROM hookline_inbound_receipts
      WHERE endpoint = $1 AND request_key = $2`,
    [endpoint, requestKey],
  );
  if (!rows[0]) return undefined;
  return { response: json(rows[0].response) ?? undefined, events: json(rows[0].events) ?? [] };
}

/**
 * A profile with its identifiers, or undefined.
 *
 * @example const profile = await readProfile(host.sql, "prof_…");
 */
export async function readProfile(sql: SqlExecutor, id: string): Promise<Profile | undefined> {
  const rows = await sql.query<Record<string, unknown>>(
    `SELECT id, properties::text AS properties, created_at, updated_at,
            (SELECT coalesce(json_agg(json_build_object('property', property, 'value', value) ORDER BY property, value), '[]')::text
               FROM hookline_profile_identifiers WHERE profile_id = p.id) AS identifiers
       FROM hookline_profiles p WHERE id = $1`,
    [id],
  );
  const r = rows[0];
  if (!r) return undefined;
  return {
    id: r.id as string,
    properties: json(r.properties),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    identifiers: json(r.identifiers),
  };
}

/**
 * The id of the profile an identifier names, or undefined.
 *
 * @example await findProfileId(sql, "email", "ada@example.com")
 */
export async function findProfileId(
  sql: SqlExecutor,
  property: string,
  value: string,
): Promise<string | undefined> {
  const rows = await sql.query<{ profile_id: string }>(
    "SELECT profile_id FROM hookline_profile_identifiers WHERE property = $1 AND value = $2",
    [property, value],
  );
  return rows[0]?.profile_id;
}

/**
 * The latest timeline events of a profile, newest first.
 *
 * @example await readTimeline(sql, profileId, 100)
 */
export async function readTimeline(
  sql: SqlExecutor,
  profileId: string,
  limit: number,
): Promise<TimelineEvent[]> {
  const rows = await sql.query<Record<string, unknown>>(
    `SELECT type, at, data::text AS data, endpoint FROM hookline_timeline_events
      WHERE profile_id = $1 ORDER BY at DESC, id DESC LIMIT $2`,
    [profileId, limit],
  );
  return rows.map((r) => ({
    type: r.type as string,
    at: iso(r.at),
    data: json(r.data),
    endpoint: r.endpoint as string,
  }));
}

/** A customer's consent to one objective: granted or withdrawn, when, and through what. */
export interface Consent {
  granted: boolean;
  at: string;
  source: string;
}

/**
 * Sets a profile's consent for each objective given, leaving the others as they are; a change older
 * than the one stored (by `at`) is ignored, so that decisions arriving out of order end at the latest.
 * Returns the profile's consents afterwards, or undefined when there is no such profile.
 *
 * @example await writeConsents(sql, "prof_…", [{ objective: "marketing-email", granted: false, at, source: "api" }])
 */
export async function writeConsents(
  sql: SqlDriver,
  profileId: string,
  changes: ReadonlyArray<Consent & { objective: string }>,
  segments?: { source: CrossingSource; cause: string; raised: EventInput[] },
): Promise<Record<string, Consent> | undefined> {
  return sql.transaction(async (tx) => {
    const found = await tx.query("SELECT id FROM hookline_profiles WHERE id = $1 FOR UPDATE", [profileId]);
    if (found.length === 0) return undefined;
    // Segment entry and exit the consents cause, raised into `segments.raised` (published after commit).
    const properties = segments && (await lockProfile(tx, profileId))!.properties;
    const crossing = segments && (await beginCrossings(segments.source, tx, { profileId, properties }));
    await upsertConsents(tx, profileId, changes);
    if (crossing)
      segments!.raised.push(
        ...(await crossing.finish(properties!, { cause: segments!.cause, via: { type: "consents" } })),
      );
    return readConsents(tx, profileId);
  });
}

/** Sets consents of a profile the caller's transaction holds; an older change than the stored one is ignored. */
async function upsertConsents(
  tx: SqlExecutor,
  profileId: string,
  changes: ReadonlyArray<Consent & { objective: string }>,
): Promise<void> {
  await tx.query(
    `INSERT INTO hookline_profile_consents (profile_id, objective, granted, at, source)
     SELECT $1, x.objective, x.granted, x.at, x.source
       FROM jsonb_to_recordset($2::text::jsonb) AS x(objective text, granted boolean, at timestamptz, source text)
     ON CONFLICT (profile_id, objective) DO UPDATE
        SET granted = excluded.granted, at = excluded.at, source = excluded.source
      WHERE hookline_profile_consents.at <= excluded.at`,
    [profileId, JSON.stringify(changes)],
  );
}

/**
 * A profile's consents by objective (empty when it has none, or there is no such profile).
 *
 * @example (await readConsents(sql, "prof_…"))["marketing-email"]?.granted
 */
export async function readConsents(sql: SqlExecutor, profileId: string): Promise<Record<string, Consent>> {
  const rows = await sql.query<{ objective: string; granted: boolean; at: unknown; source: string }>(
    `SELECT objective, granted, at, source FROM hookline_profile_consents
      WHERE profile_id = $1 ORDER BY objective`,
    [profileId],
  );
  return Object.fromEntries(
    rows.map((r) => [r.objective, { granted: r.granted, at: iso(r.at), source: r.source }]),
  );
}
