/**
 * A minimal SQL connection: PGlite and postgres.js both fit it. Parameters are `$1`, `$2`, ….
 *
 * @example
 * const rows = await tx.query<{ id: string }>("SELECT id FROM hookline_deliveries WHERE webhook = $1", ["crm"]);
 */
export interface SqlExecutor {
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
}

/**
 * The connection the store and plugins' tables run over, with transactions.
 *
 * @example
 * await driver.transaction(async (tx) => {
 *   await tx.query("UPDATE hookline_policies SET concurrency = $2 WHERE name = $1", ["crm", 4]);
 * });
 */
export interface SqlDriver extends SqlExecutor {
  readonly name: string;
  /** Runs several statements without parameters (migrations). */
  exec(text: string): Promise<void>;
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /**
   * Runs statements whose commits may skip waiting for the WAL flush (a server crash may lose them),
   * each committing on its own (not one transaction). For writes that are safe to lose, such as
   * claims, which walk an index in order and stop at their batch: the driver keeps the planner from
   * bitmap-scanning for them (on a young table's statistics it would scan and sort every due row).
   * Drivers without the notion of a relaxed commit just run them.
   */
  relaxed<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
