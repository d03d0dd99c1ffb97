import type { SqlDriver } from "../contracts/sql.ts";
import { StoreUnavailableError } from "../errors.ts";

/**
 * Runs one store call, turning any failure (a lost connection, a server down) into a
 * `StoreUnavailableError` that names the driver and what the call was for: callers branch on that
 * one class (the HTTP layer answers 503) instead of on each driver's errors.
 *
 * @example
 * const rows = await run(db, "list deliveries", () => db.query("SELECT 1"));
 */
export async function run<T>(db: SqlDriver, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw new StoreUnavailableError(`store (${db.name}) failed to ${what}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}
