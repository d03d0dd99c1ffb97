import type { Audience, AudienceCheck } from "../../../core/plugin/index.ts";
import { segmentFilters } from "./definitions.ts";
import { filterMatcher } from "./evaluate.ts";
import type { SegmentFilter } from "./filter.ts";

// Triggers restricted to segments (BlueConic: "only visitors in at least one of the selected
// segments"): the core asks, once per publish, which of the events' customers are in which segments.
// One query reads those customers' profiles and granted consents; each segment's filter is applied
// to them in memory (filterMatcher, held equal to the SQL by the property test). A publish names a
// few customers, so this reads a few rows by key, where the compiled filter would be the same lookups
// with every condition in SQL — and the edge worker, which publishes profile updates, need not carry
// the compiler.

/**
 * The inbound plugin's `Tokens.AudienceCheck`. A customer is the profile whose id is the event's
 * `customer.id`, else the profile with that `id` identifier (as response mapping finds it). Relative
 * times in a filter count from the question.
 *
 * @example const audience = await audienceCheck.members(host, ["prof_1"], ["vip"]); // Map { "prof_1" => Set { "vip" } }
 */
export const audienceCheck: AudienceCheck = {
  async members(from, customerIds, segments) {
    const filters = await segmentFilters(from, segments);
    const audience = new Map<string, Set<string>>();
    if (filters.size === 0 || customerIds.length === 0) return audience;
    const consents = [...filters.values()].some(readsConsent);
    // One line of SQL: the edge bundle keeps a template literal's indentation.
    const granted = consents
      ? "(SELECT coalesce(json_agg(c.objective), '[]')::text FROM hookline_profile_consents c WHERE c.profile_id = p.id AND c.granted)"
      : "'[]'";
    const rows = await from.sql.query<{ customer: string; properties: unknown; consents: unknown }>(
      `SELECT x.customer, p.properties::text AS properties, ${granted} AS consents FROM jsonb_array_elements_text($1::text::jsonb) AS x(customer) JOIN hookline_profiles p ON p.id = coalesce((SELECT q.id FROM hookline_profiles q WHERE q.id = x.customer), (SELECT i.profile_id FROM hookline_profile_identifiers i WHERE i.property = 'id' AND i.value = x.customer))`,
      [JSON.stringify(customerIds)],
    );
    const now = Date.now();
    const matchers = [...filters].map(([name, filter]) => [name, filterMatcher(filter, { now })] as const);
    for (const row of rows) {
      const granted = parsed(row.consents) as string[];
      const subject = {
        properties: parsed(row.properties) as Record<string, unknown>,
        consents: Object.fromEntries(granted.map((o) => [o, { granted: true }])),
      };
      const inside = new Set(matchers.flatMap(([name, inSegment]) => (inSegment(subject) ? [name] : [])));
      if (inside.size > 0) audience.set(String(row.customer), inside);
    }
    return audience satisfies Audience;
  },
};

const parsed = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : v);

/** Whether a filter has a `consent` condition anywhere. */
export function readsConsent(filter: SegmentFilter): boolean {
  if (filter.consent) return true;
  if (filter.not) return readsConsent(filter.not);
  return (filter.and ?? filter.or ?? []).some(readsConsent);
}
