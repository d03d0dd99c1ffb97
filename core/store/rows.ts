import type { EndedDelivery, OutcomeDelivery } from "../contracts/delivery.ts";

/** A row as a driver returns it: its columns are whatever the query selected, typed by its reader. */
export type Row = Record<string, any>;

/**
 * A timestamp column as ISO text, whichever form the driver gave it in (Date or text).
 *
 * @example iso(row.next_at) // "2025-01-01T00:00:00.000Z"
 */
export const iso = (v: unknown): string | undefined =>
  v == null ? undefined : v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString();

/**
 * What a delivery is for (its event and customer), from a row.
 *
 * @example const delivery = toOutcomeDelivery(row);
 */
export function toOutcomeDelivery(r: Row): OutcomeDelivery {
  return {
    id: r.id,
    webhook: r.webhook,
    runId: r.run_id,
    eventId: r.event_id,
    eventType: r.event_type,
    customerId: r.customer_id ?? undefined,
    context: typeof r.context === "string" ? JSON.parse(r.context) : r.context,
  };
}

/**
 * The columns an ended delivery is read back with (`toEnded`).
 *
 * @example `UPDATE hookline_deliveries d SET … RETURNING ${ENDED_COLUMNS}`
 */
export const ENDED_COLUMNS =
  "d.id::text AS id, d.webhook, d.run_id, d.event_id, d.event_type, d.customer_id, d.context, d.status, d.reason";

/**
 * A delivery ended unsent with its run, from a row read with `ENDED_COLUMNS`.
 *
 * @example const ended = rows.map(toEnded);
 */
export function toEnded(r: Row): EndedDelivery {
  return { ...toOutcomeDelivery(r), status: r.status, reason: r.reason };
}
