import type { ManagedEntries, ManagedRow } from "../contracts/managed-entries.ts";
import type { SqlExecutor } from "../contracts/sql.ts";

// The statements core/managed.ts runs, verbatim, so that moving it onto this repository changes no query.
const LIST =
  "SELECT kind, name, spec, sealed, missing_secrets, updated_at FROM hookline_managed ORDER BY kind, name";
const LIST_BY_NAME = "SELECT kind, name, spec, sealed, missing_secrets FROM hookline_managed ORDER BY name";
const GET =
  "SELECT kind, name, spec, sealed, missing_secrets FROM hookline_managed WHERE kind = $1 AND name = $2";
const UPSERT = `INSERT INTO hookline_managed (kind, name, spec, sealed, missing_secrets, updated_at)
       VALUES ($1, $2, $3::text::jsonb, $4, $5::text::jsonb, clock_timestamp())
       ON CONFLICT (kind, name) DO UPDATE SET spec = EXCLUDED.spec, sealed = EXCLUDED.sealed,
         missing_secrets = EXCLUDED.missing_secrets, updated_at = EXCLUDED.updated_at`;
// One statement per kind, as written in core/managed.ts (the kind a literal, not a parameter).
const DELETE: Record<ManagedRow["kind"], string> = {
  integration: "DELETE FROM hookline_managed WHERE kind = 'integration' AND name = $1",
  webhook: "DELETE FROM hookline_managed WHERE kind = 'webhook' AND name = $1",
};
const DELETE_STATE = "DELETE FROM hookline_integration_state WHERE integration = $1";
// The count and the latest change together: a deletion moves the one, a write the other.
const VERSION =
  "SELECT count(*)::text || ':' || coalesce(max(updated_at)::text, '') AS v FROM hookline_managed";

/**
 * The admin API's integrations and webhooks in SQL (`hookline_managed`). Failures are not wrapped in
 * `StoreUnavailableError` here: the caller's answers to them stay as they were before the move.
 *
 * @example
 * const entries = managedEntries(store.sql);
 * if ((await entries.version()) !== seen) for (const row of await entries.list()) load(row);
 */
export function managedEntries(sql: SqlExecutor): ManagedEntries {
  return {
    list: () => sql.query<ManagedRow & { updated_at: unknown }>(LIST),
    listByName: () => sql.query<ManagedRow>(LIST_BY_NAME),
    async get(kind, name) {
      const [r] = await sql.query<ManagedRow>(GET, [kind, name]);
      return r;
    },
    async upsert(kind, name, spec, sealed, missing) {
      await sql.query(UPSERT, [kind, name, JSON.stringify(spec), sealed, JSON.stringify(missing)]);
    },
    async delete(kind, name) {
      await sql.query(DELETE[kind], [name]);
    },
    async deleteIntegrationState(integration) {
      await sql.query(DELETE_STATE, [integration]);
    },
    async version() {
      const [v] = await sql.query<{ v: string }>(VERSION);
      return v?.v ?? "";
    },
  };
}
