import type { SqlExecutor } from "./sql.ts";

/** One customer and the objectives of which any one suffices. */
export interface ConsentQuestion {
  customerId: string;
  objectives: readonly string[];
}

/**
 * Answers whether customers consented, for the deliveries a worker is about to send: the plugin that
 * keeps consents registers one under `Tokens.ConsentCheck` (the inbound plugin does). The core never
 * imports that plugin; a webhook that needs consent where no plugin checks it is refused at start-up.
 *
 * @example const ok = await check.granted(host.sql, [{ customerId: "prof_1", objectives: ["marketing-email"] }]); // Set {0}
 */
export interface ConsentCheck {
  /**
   * The indexes of the questions whose customer has granted (and not since withdrawn) at least one
   * of the objectives: one query for all of them.
   */
  granted(sql: SqlExecutor, questions: readonly ConsentQuestion[]): Promise<Set<number>>;
}
