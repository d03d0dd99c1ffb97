import type { SqlDriver, SqlExecutor } from "../../core/contracts/store.ts";

/** A driver whose store can be taken away and brought back, for outage tests. */
export interface OutageDriver extends SqlDriver {
  /** Closes the real connection; every query fails (as with a stopped server) until `start`. */
  stop(): Promise<void>;
  /** Opens a fresh connection to the same database. */
  start(): Promise<void>;
}

const unavailable = () =>
  Object.assign(new Error("connection refused: the store is stopped (outage test)"), {
    code: "ECONNREFUSED",
  });

/**
 * Wraps a driver factory: `stop()` closes the current driver (in-flight queries fail as the real
 * driver fails them) and makes new queries fail; `start()` opens a new one with `open`. The data
 * must outlive a close: a server database, or PGlite in a data folder.
 *
 * @example
 * const db = await outageDriver(() => pgliteDriver({ dataDir }));
 * await db.stop(); …; await db.start();
 */
export async function outageDriver(open: () => Promise<SqlDriver>): Promise<OutageDriver> {
  let current: SqlDriver | undefined = await open();
  const live = () => {
    if (!current) throw unavailable();
    return current;
  };
  const wrapTx = (fn: (tx: SqlExecutor) => Promise<unknown>) => async (tx: SqlExecutor) => fn(tx);
  return {
    name: (current as SqlDriver).name,
    query: async (text, params) => live().query(text, params),
    exec: async (text) => live().exec(text),
    transaction: async (fn) => live().transaction(wrapTx(fn) as never),
    relaxed: async (fn) => live().relaxed(wrapTx(fn) as never),
    async stop() {
      const d = current;
      current = undefined;
      await d?.close();
    },
    async start() {
      current ??= await open();
    },
    async close() {
      await current?.close();
      current = undefined;
    },
  };
}
