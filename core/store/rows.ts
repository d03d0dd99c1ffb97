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
 * An ended delivery's rows read back for `toEnded`: `ended` is an update of `hookline_delivery_state d`
 * returning `ENDED_STATE`; its content is joined on.
 *
 * @example `WITH ended AS (UPDATE hookline_delivery_state d SET … RETURNING ${ENDED_STATE}) ${ENDED_ROWS}`
 */
export const ENDED_STATE = "d.id, d.webhook, d.run_id, d.status, d.reason, d.ordering_key";
export const ENDED_ROWS = `SELECT e.id::text AS id, e.webhook, e.run_id, e.status, e.reason, e.ordering_key,
         c.event_id, c.event_type, c.customer_id, c.context
    FROM ended e JOIN hookline_deliveries c ON c.id = e.id`;

/**
 * A delivery ended unsent with its run, from a row read with `ENDED_ROWS`.
 *
 * @example const ended = rows.map(toEnded);
 */
export function toEnded(r: Row): EndedDelivery {
  return { ...toOutcomeDelivery(r), status: r.status, reason: r.reason };
}
