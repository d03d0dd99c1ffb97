import type { HooklineConfig } from "../config/schema.ts";
import type { SqlExecutor } from "./sql.ts";

/** Which of the customers asked about are in which of the segments asked about. */
export type Audience = ReadonlyMap<string, ReadonlySet<string>>;

/**
 * Tells which customers are in which segments, for triggers restricted to segments (`segments:
 * [vip, churn-risk]` on a trigger: BlueConic's "only visitors in at least one of these segments").
 * Registered by the plugin that keeps profiles and segments (`Tokens.AudienceCheck`; the last
 * registration wins); the core asks it only when a trigger that an event matches names segments, once
 * per publish, and refuses to start with such a trigger when no plugin registered one.
 *
 * @example
 * const audience = await check.members({ config, sql }, ["prof_1", "prof_2"], ["vip"]);
 * audience.get("prof_1")?.has("vip") // true: prof_1 is in vip
 */
export interface AudienceCheck {
  /**
   * For each customer id (as events carry it) in at least one of the segments, the segments it is in;
   * a customer in none, or unknown, is absent. A segment no one defined has no members.
   */
  members(
    from: { config: Pick<HooklineConfig, "sections">; sql: SqlExecutor },
    customerIds: readonly string[],
    segments: readonly string[],
  ): Promise<Audience>;
}
