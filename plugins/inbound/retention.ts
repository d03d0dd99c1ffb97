import type { Hookline } from "../../core/app.ts";
import type { Service } from "../../core/contracts/extension.ts";
import type { SqlExecutor } from "../../core/contracts/store.ts";
import { idleSleep } from "../../core/util/sleep.ts";

/** How long rows are kept, in ms; 0 keeps them for ever. */
export interface InboundRetention {
  /** Receipts (the replay memory of requests). */
  receipts: number;
  /** Stored activities (`hookline_activities`). */
  activities: number;
}

/** How often the janitor sweeps. */
const SWEEP_EVERY_MS = 3_600_000;

/**
 * Deletes receipts and stored activities older than their retention (0 keeps them), at most `chunk`
 * rows per statement (by `ctid`, so that no sweep holds its locks long or needs an index on the time).
 * A replay older than the receipts' retention is treated as new, and an activity sent again after
 * its retention is stored again. Returns how many rows went.
 *
 * @example await sweepInbound(app.store.sql, { receipts: 7 * 86_400_000, activities: 30 * 86_400_000 }) // { receipts: 12, activities: 40210 }
 */
export async function sweepInbound(
  sql: SqlExecutor,
  retention: InboundRetention,
  chunk = 10_000,
): Promise<{ receipts: number; activities: number }> {
  return {
    receipts: await sweepTable(sql, "hookline_inbound_receipts", retention.receipts, chunk),
    activities: await sweepTable(sql, "hookline_activities", retention.activities, chunk),
  };
}

async function sweepTable(
  sql: SqlExecutor,
  table: "hookline_inbound_receipts" | "hookline_activities",
  retentionMs: number,
  chunk: number,
): Promise<number> {
  if (retentionMs <= 0) return 0;
  const [row] = await sql.query<{ cutoff: string }>(
    "SELECT (now() - $1 * interval '1 millisecond')::text AS cutoff",
    [retentionMs],
  );
  let total = 0;
  for (;;) {
    const [r] = await sql.query<{ n: unknown }>(
      `WITH d AS (
         DELETE FROM ${table} WHERE received_at < $1::timestamptz AND ctid = ANY(ARRAY(
           SELECT ctid FROM ${table} WHERE received_at < $1::timestamptz LIMIT $2))
         RETURNING 1)
       SELECT count(*) AS n FROM d`,
      [row!.cutoff, chunk],
    );
    const n = Number(r?.n ?? 0);
    total += n;
    if (n < chunk) return total;
  }
}

/**
 * The inbound plugin's janitor: sweeps old receipts and activities (`sweepInbound`) at start and then
 * once an hour, until the app stops.
 *
 * @example c.register(Tokens.Service, { useValue: inboundJanitor({ receipts: 7 * 86_400_000, activities: 30 * 86_400_000 }) })
 */
export function inboundJanitor(retention: InboundRetention): Service {
  let running: Promise<void> | undefined;
  return {
    name: "inbound-janitor",
    start(app: Hookline, signal: AbortSignal) {
      if (retention.receipts <= 0 && retention.activities <= 0) return;
      running = (async () => {
        while (!signal.aborted) {
          try {
            const gone = await sweepInbound(app.store.sql, retention);
            if (gone.receipts + gone.activities > 0)
              app.logger.log("info", "inbound: old receipts and activities swept", gone);
          } catch (e) {
            app.logger.log("warn", "inbound: sweep failed", { error: (e as Error).message });
          }
          await idleSleep(SWEEP_EVERY_MS, signal);
        }
      })();
    },
    async stop() {
      await running;
    },
  };
}
