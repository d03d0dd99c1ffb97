import type { Audience, AudienceCheck } from "../../../core/plugin/index.ts";
import { compileFilter } from "./compile.ts";
import { segmentFilters } from "./definitions.ts";

// Triggers restricted to segments (BlueConic: "only visitors in at least one of the selected
// segments"): the core asks, once per publish, which of the events' customers are in which segments;
// this answers with one query over the profiles, each segment's compiled filter a column.

/**
 * The inbound plugin's `Tokens.AudienceCheck`. A customer is the profile whose id is the event's
 * `customer.id`, else the profile with that `id` identifier (as response mapping finds it). Relative
 * times in a filter count from the question.
 *
 * @example const audience = await audienceCheck.members(host, ["prof_1"], ["vip"]); // Map { "prof_1" => Set { "vip" } }
 */
export const audienceCheck: AudienceCheck = {
  async members(from, customerIds, segments) {
    const filters = [...(await segmentFilters(from, segments))];
    const audience = new Map<string, Set<string>>();
    if (filters.length === 0 || customerIds.length === 0) return audience;
    const params: string[] = [JSON.stringify(customerIds)];
    const now = Date.now();
    const columns = filters.map(([, filter], i) => {
      const compiled = compileFilter(filter, { now, alias: "p", firstParam: params.length + 1 });
      params.push(...compiled.params);
      return `${compiled.where} AS s${i}`;
    });
    const rows = await from.sql.query<Record<string, unknown>>(
      `SELECT x.customer, ${columns.join(", ")}
         FROM jsonb_array_elements_text($1::text::jsonb) AS x(customer)
         JOIN hookline_profiles p ON p.id = coalesce(
           (SELECT q.id FROM hookline_profiles q WHERE q.id = x.customer),
           (SELECT i.profile_id FROM hookline_profile_identifiers i WHERE i.property = 'id' AND i.value = x.customer))`,
      params,
    );
    for (const row of rows) {
      const inside = new Set(filters.flatMap(([name], i) => (row[`s${i}`] === true ? [name] : [])));
      if (inside.size > 0) audience.set(String(row.customer), inside);
    }
    return audience satisfies Audience;
  },
};
