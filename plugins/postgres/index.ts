import postgresJs from "postgres";
import { type Plugin, type SqlDriver, type SqlExecutor, Tokens } from "../../core/plugin/index.ts";

export interface PostgresOptions {
  /** A postgres:// URL. */
  url: string;
  /** Connections in the pool (default 10). */
  max?: number;
  /**
   * Prepares each parameterised statement once per connection and reuses it (default true: the parse
   * and plan are paid once, not per call). Set false behind a pooler in transaction mode that does
   * not support prepared statements.
   */
  prepare?: boolean;
}

type Sql = ReturnType<typeof postgresJs>;

// postgres.js prepares no `unsafe` statement unless asked; one without parameters goes as a simple
// query (it may hold several statements, as migrations do).
const wrap = (sql: Pick<Sql, "unsafe">, prepare: boolean): SqlExecutor => ({
  query: async <T>(text: string, params: unknown[] = []) =>
    (await sql.unsafe(text, params as any[], { prepare: prepare && params.length > 0 })) as unknown as T[],
});

/**
 * Connects to a Postgres server with postgres.js: the store for servers and scale-out.
 *
 * @example const driver = postgresDriver({ url: process.env.DATABASE_URL! });
 */
export function postgresDriver(options: PostgresOptions): SqlDriver {
  const prepare = options.prepare !== false;
  const common = {
    onnotice: () => {},
    connect_timeout: 5,
    // Deliveries carry their own JSON; keep types as postgres.js parses them by default.
    prepare,
  };
  const sql = postgresJs(options.url, { ...common, max: options.max ?? 10 });
  // Relaxed work (claims) runs on connections of its own whose commits do not wait for the WAL flush:
  // one statement each, with no BEGIN, SET LOCAL and COMMIT around it. Opened on first use. Claims walk
  // the due index in order and stop at their batch; on a young table's statistics (a few hundred rows
  // estimated where thousands are due) the planner would rather bitmap-scan and sort every due row,
  // a cost that grows with the backlog (10 ms a claim at 10k due, measured): these connections do not
  // bitmap-scan.
  let relaxedSql: Sql | undefined;
  const relaxedPool = () => {
    relaxedSql ??= postgresJs(options.url, {
      ...common,
      max: Math.min(2, options.max ?? 10),
      connection: { synchronous_commit: "off", enable_bitmapscan: "off" },
    });
    return relaxedSql;
  };
  return {
    name: "postgres",
    ...wrap(sql, prepare),
    exec: async (text) => {
      await sql.unsafe(text);
    },
    transaction: (fn) => sql.begin((tx) => fn(wrap(tx, prepare))) as Promise<any>,
    relaxed: (fn) => fn(wrap(relaxedPool(), prepare)),
    close: async () => {
      await Promise.all([sql.end({ timeout: 5 }), relaxedSql?.end({ timeout: 5 })]);
    },
  };
}

/**
 * The Postgres server store as a plugin.
 *
 * @example createHookline({ plugins: [postgres({ url: process.env.DATABASE_URL! }), ...] })
 */
export const postgres = (options: PostgresOptions): Plugin => ({
  name: "postgres",
  register(container) {
    container.register(Tokens.SqlDriver, { useValue: postgresDriver(options) });
  },
});
