import { PGlite } from "@electric-sql/pglite";
import { type Plugin, type SqlDriver, type SqlExecutor, Tokens } from "../../core/plugin/index.ts";

export interface PgliteOptions {
  /** A data folder; omit for an in-memory database (tests). */
  dataDir?: string;
}

const wrap = (q: { query: PGlite["query"] }): SqlExecutor => ({
  query: async <T>(text: string, params?: unknown[]) => (await q.query<T>(text, params as any[])).rows,
});

/**
 * Opens PGlite (Postgres compiled to WASM, in process): the embedded default store.
 *
 * @example const driver = await pgliteDriver({ dataDir: ".hookline" });
 */
export async function pgliteDriver(options: PgliteOptions = {}): Promise<SqlDriver> {
  const db = options.dataDir ? new PGlite(options.dataDir) : new PGlite();
  await db.waitReady;
  return {
    name: "pglite",
    ...wrap(db),
    exec: async (text) => {
      await db.exec(text);
    },
    transaction: (fn) => db.transaction((tx) => fn(wrap(tx))),
    // One process owns a PGlite folder: no commit to relax. Claims walk the due index in order and
    // stop at their batch; on a young table's statistics the planner would rather bitmap-scan and sort
    // every due row (46-76 ms a claim of 100 at 20k due, 11-12 ms without): not for these statements.
    relaxed: (fn) =>
      db.transaction(async (tx) => {
        await tx.query("SET LOCAL enable_bitmapscan = off");
        return fn(wrap(tx));
      }),
    close: () => db.close(),
  };
}

/**
 * The embedded store as a plugin: registers a PGlite driver (opened once, on first resolve).
 *
 * @example createHookline({ plugins: [pglite({ dataDir: ".hookline" }), ...] })
 */
export const pglite = (options: PgliteOptions = {}): Plugin => ({
  name: "pglite",
  register(container) {
    container.register(Tokens.SqlDriver, { useValue: lazyDriver(() => pgliteDriver(options), "pglite") });
  },
});

/** A driver that opens on first use, so registering the plugin starts nothing. */
export function lazyDriver(open: () => Promise<SqlDriver>, name: string): SqlDriver {
  let opened: Promise<SqlDriver> | undefined;
  const get = () => {
    opened ??= open();
    return opened;
  };
  return {
    name,
    query: async (text, params) => (await get()).query(text, params),
    exec: async (text) => (await get()).exec(text),
    transaction: async (fn) => (await get()).transaction(fn),
    relaxed: async (fn) => (await get()).relaxed(fn),
    close: async () => {
      if (opened) await (await opened).close();
    },
  };
}
