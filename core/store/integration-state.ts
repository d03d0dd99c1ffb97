import type { IntegrationState } from "../contracts/auth.ts";
import type { SqlExecutor } from "../contracts/sql.ts";
import { HooklineError } from "../errors.ts";
import type { SecretBox } from "../security/secret-box.ts";

/**
 * Durable state of one integration (e.g. a rotating OAuth refresh token), sealed with the app's
 * `SecretBox` and bound to its integration and key.
 *
 * @example const state = integrationState(store.sql, box, "crm"); await state.set("refresh_token", token);
 */
export function integrationState(
  sql: SqlExecutor,
  box: SecretBox | undefined,
  integration: string,
): IntegrationState {
  const place = (key: string) => `state:${integration}:${key}`;
  const need = () => {
    if (!box) {
      throw new HooklineError(
        "HOOKLINE_SECRET_KEY_MISSING",
        `integration "${integration}" needs to keep state sealed, and HOOKLINE_SECRET_KEY is not set (make one: openssl rand -base64 32)`,
      );
    }
    return box;
  };
  return {
    async get(key) {
      const [row] = await sql.query<{ sealed: string }>(
        "SELECT sealed FROM hookline_integration_state WHERE integration = $1 AND key = $2",
        [integration, key],
      );
      return row ? need().open(row.sealed, place(key)) : undefined;
    },
    async set(key, value) {
      const sealed = await need().seal(value, place(key));
      await sql.query(
        `INSERT INTO hookline_integration_state (integration, key, sealed, updated_at) VALUES ($1, $2, $3, clock_timestamp())
         ON CONFLICT (integration, key) DO UPDATE SET sealed = EXCLUDED.sealed, updated_at = EXCLUDED.updated_at`,
        [integration, key, sealed],
      );
    },
    async delete(key) {
      await sql.query("DELETE FROM hookline_integration_state WHERE integration = $1 AND key = $2", [
        integration,
        key,
      ]);
    },
  };
}
