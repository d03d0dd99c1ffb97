import type { HooklineConfig, SqlExecutor } from "../../../core/plugin/index.ts";
import type { SegmentDefinition, SegmentsSection } from "../config.ts";
import { checkFilter, type SegmentFilter } from "./filter.ts";

// Named segments: the config file's `segments:` section (read-only) and those of the admin API, kept
// in `hookline_segments` (the inbound plugin's migration 4). A name is looked up in the config first,
// then in the store: a stored segment under a name the config file also defines is never read.

/** Where segments are read from: the loaded config and the store (a `PluginHost`, or a transaction). */
export interface SegmentSource {
  readonly config: Pick<HooklineConfig, "sections">;
  readonly sql: SqlExecutor;
}

/** A named segment as the admin API shows it. */
export interface DefinedSegment {
  name: string;
  filter: SegmentFilter;
  description?: string;
  /** `config`: the config file's `segments:` (read-only); `api`: stored by `PUT /v1/segments/:name`. */
  source: "config" | "api";
  /** When a stored segment was last set (ISO 8601). */
  updatedAt?: string;
}

/**
 * The config file's segments by name (empty without a `segments:` section).
 *
 * @example configSegments(host.config).vip?.filter
 */
export function configSegments(config: Pick<HooklineConfig, "sections">): Record<string, SegmentDefinition> {
  return ((config.sections.segments as SegmentsSection) ?? {}) as Record<string, SegmentDefinition>;
}

/**
 * The filter of the segment `name` — the config file's, else the one stored through the admin API —
 * or undefined when no segment has that name.
 *
 * @example
 * const filter = await segmentFilter(host, "vip");
 * if (!filter) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", 'no segment "vip"');
 * const page = await segmentMembers(host.sql, filter, { now: Date.now(), limit: 1000 });
 */
export async function segmentFilter(host: SegmentSource, name: string): Promise<SegmentFilter | undefined> {
  return (await segmentFilters(host, [name])).get(name);
}

/**
 * The filters of the segments named, by name (one query at most, for those the config lacks); a name
 * no segment has is absent from the map.
 *
 * @example const filters = await segmentFilters(host, ["vip", "churn-risk"]);
 */
export async function segmentFilters(
  host: SegmentSource,
  names: Iterable<string>,
): Promise<Map<string, SegmentFilter>> {
  const found = new Map<string, SegmentFilter>();
  const inConfig = configSegments(host.config);
  const stored: string[] = [];
  for (const name of new Set(names)) {
    const c = Object.hasOwn(inConfig, name) ? inConfig[name] : undefined;
    if (c) found.set(name, c.filter);
    else stored.push(name);
  }
  if (stored.length === 0) return found;
  const rows = await host.sql.query<StoredRow>(
    "SELECT name, filter::text AS filter, description, updated_at FROM hookline_segments WHERE name = ANY($1::text[])",
    [stored],
  );
  for (const r of rows) found.set(r.name, storedSegment(r).filter);
  return found;
}

/**
 * One segment with where it is defined, or undefined.
 *
 * @example (await definedSegment(host, "vip"))?.source // "config"
 */
export async function definedSegment(host: SegmentSource, name: string): Promise<DefinedSegment | undefined> {
  const inConfig = configSegments(host.config);
  if (Object.hasOwn(inConfig, name)) return { name, ...inConfig[name]!, source: "config" };
  const rows = await host.sql.query<StoredRow>(
    "SELECT name, filter::text AS filter, description, updated_at FROM hookline_segments WHERE name = $1",
    [name],
  );
  return rows[0] && storedSegment(rows[0]);
}

/**
 * Every segment by name: the config file's, then the stored ones it does not shadow.
 *
 * @example (await listSegments(host)).map((s) => s.name)
 */
export async function listSegments(host: SegmentSource): Promise<DefinedSegment[]> {
  const inConfig = configSegments(host.config);
  const rows = await host.sql.query<StoredRow>(
    "SELECT name, filter::text AS filter, description, updated_at FROM hookline_segments ORDER BY name",
  );
  const all: DefinedSegment[] = Object.entries(inConfig).map(([name, d]) => ({
    name,
    ...d,
    source: "config" as const,
  }));
  for (const r of rows) if (!Object.hasOwn(inConfig, r.name)) all.push(storedSegment(r));
  return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/**
 * Stores a (checked) segment under `name`, replacing one stored before; whether it was created.
 *
 * @example await storeSegment(host.sql, "vip", { filter: { property: "tier", equals: "gold" } })
 */
export async function storeSegment(
  sql: SqlExecutor,
  name: string,
  segment: SegmentDefinition,
): Promise<{ created: boolean }> {
  const rows = await sql.query<{ created: boolean }>(
    `INSERT INTO hookline_segments (name, filter, description) VALUES ($1, $2::text::jsonb, $3)
     ON CONFLICT (name) DO UPDATE
        SET filter = excluded.filter, description = excluded.description, updated_at = now()
     RETURNING (xmax = 0) AS created`,
    [name, JSON.stringify(segment.filter), segment.description ?? null],
  );
  return { created: rows[0]?.created === true };
}

/**
 * Deletes the stored segment `name`; whether there was one.
 *
 * @example await deleteStoredSegment(host.sql, "vip")
 */
export async function deleteStoredSegment(sql: SqlExecutor, name: string): Promise<boolean> {
  const rows = await sql.query("DELETE FROM hookline_segments WHERE name = $1 RETURNING name", [name]);
  return rows.length > 0;
}

interface StoredRow {
  name: string;
  filter: unknown;
  description: string | null;
  updated_at: unknown;
}

function storedSegment(r: StoredRow): DefinedSegment {
  const raw = typeof r.filter === "string" ? JSON.parse(r.filter) : r.filter;
  // Checked when it was stored; checked again so that a filter this version no longer takes is
  // reported by name rather than compiled.
  const checked = checkFilter(raw, `segments.${r.name}.filter`);
  if (!checked.ok)
    throw new Error(`stored segment "${r.name}" does not check: ${checked.problems.join("; ")}`);
  const at = r.updated_at instanceof Date ? r.updated_at : new Date(String(r.updated_at));
  return {
    name: r.name,
    filter: checked.filter,
    ...(r.description !== null ? { description: r.description } : {}),
    source: "api",
    updatedAt: at.toISOString(),
  };
}
