import type { SqlExecutor } from "./sql.ts";

/**
 * Reads stored customer profiles for the core (the console's webhook test, a manual fire), when a
 * plugin keeps them (the inbound plugin registers one under `Tokens.ProfileReader`). The core never
 * imports that plugin: without a reader, there are no stored profiles to pick.
 *
 * @example const found = await reader.customer(host.sql, "email=ada@example.com"); // { id: "prof_…", customer: { id, email, … } }
 */
export interface ProfileReader {
  /**
   * The profile `query` names — its id, or one of its identifiers as `property=value` (a bare value
   * with an `@` is an email) — as templates see it (`it.customer`: its properties and its id).
   */
  customer(sql: SqlExecutor, query: string): Promise<FoundProfile | undefined>;
}

/** A stored profile found, and how templates see it (`it.customer`). */
export interface FoundProfile {
  id: string;
  customer: Record<string, unknown>;
}

/** A `ProfileReader` over the app's own store: what the core's routes and console pages hold. */
export interface StoredProfiles {
  customer(query: string): Promise<FoundProfile | undefined>;
}
