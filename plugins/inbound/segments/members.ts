import type { SqlExecutor } from "../../../core/plugin/index.ts";
import { compileFilter } from "./compile.ts";
import type { SegmentFilter } from "./filter.ts";

// The queries a segment runs over the profiles table: a page of members in id order (keyset, so a
// large segment is read page by page, never whole) and the member count.

/**
 * A page of the ids of the profiles a filter matches at `now`, in id order, after the id `after`.
 *
 * @example
 * let page = await segmentMembers(sql, filter, { now, limit: 1000 });
 * while (page.length > 0) { …; page = await segmentMembers(sql, filter, { now, limit: 1000, after: page.at(-1) }); }
 */
export async function segmentMembers(
  sql: SqlExecutor,
  filter: SegmentFilter,
  options: { now: Date | number; limit: number; after?: string },
): Promise<string[]> {
  const { where, params } = compileFilter(filter, { now: options.now, firstParam: 3 });
  const rows = await sql.query<{ id: string }>(
    `SELECT p.id FROM hookline_profiles p WHERE p.id > $1 AND ${where} ORDER BY p.id LIMIT $2::int`,
    [options.after ?? "", String(options.limit), ...params],
  );
  return rows.map((r) => r.id);
}

/**
 * How many profiles a filter matches at `now`.
 *
 * @example const n = await segmentSize(sql, { consent: ["marketing-email"] }, { now: new Date() });
 */
export async function segmentSize(
  sql: SqlExecutor,
  filter: SegmentFilter,
  options: { now: Date | number },
): Promise<number> {
  const { where, params } = compileFilter(filter, { now: options.now });
  const rows = await sql.query<{ n: unknown }>(
    `SELECT count(*)::int AS n FROM hookline_profiles p WHERE ${where}`,
    params,
  );
  return Number(rows[0]?.n ?? 0);
}
