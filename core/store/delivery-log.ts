import type { AttemptRecord, Delivery } from "../contracts/delivery.ts";
import type { DeliveryFilter, DeliveryLog } from "../contracts/delivery-log.ts";
import type { SqlDriver, SqlExecutor } from "../contracts/sql.ts";
import { iso, type Row, toOutcomeDelivery } from "./rows.ts";
import { streamsChanged, streamsOf } from "./streams.ts";
import { run } from "./unavailable.ts";

/** A delivery as the log shows it, from a row read with `DELIVERY_COLUMNS`. */
function toDelivery(r: Row): Delivery {
  return {
    ...toOutcomeDelivery(r),
    idempotencyKey: r.idempotency_key,
    maxAttempts: r.max_attempts,
    status: r.status,
    attempts: r.attempts,
    nextAt: iso(r.next_at)!,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
    leaseOwner: r.lease_owner ?? undefined,
    leaseUntil: iso(r.lease_until),
    lastStatus: r.last_status ?? undefined,
    reason: r.reason ?? undefined,
    ...(r.traceparent ? { traceparent: r.traceparent } : {}),
  };
}

/** An attempt, from a row of `hookline_attempts` (JSON columns come back as text from some drivers). */
function toAttempt(r: Row): AttemptRecord {
  const json = (v: unknown) => (typeof v === "string" ? JSON.parse(v) : (v ?? undefined));
  return {
    deliveryId: r.delivery_id,
    number: r.number,
    startedAt: iso(r.started_at)!,
    durationMs: r.duration_ms,
    request: json(r.request),
    status: r.status ?? undefined,
    responseHeaders: json(r.response_headers),
    responseBody: r.response_body ?? undefined,
    responseTruncated: r.response_truncated,
    errorClass: r.error_class ?? undefined,
    error: r.error ?? undefined,
    outcome: r.outcome,
  };
}

const DELIVERY_COLUMNS = `s.id, s.webhook, c.idempotency_key, s.run_id, c.event_id, c.event_type, c.customer_id, c.context,
  s.status, s.attempts, s.max_attempts, s.next_at, s.lease_owner, s.lease_until, s.last_status, s.reason, c.created_at,
  s.updated_at, c.traceparent`;
/** A delivery: its content (written once) and its state. */
const DELIVERIES = "hookline_deliveries c JOIN hookline_delivery_state s ON s.id = c.id";

/**
 * The delivery log in SQL, as the admin API reads it. An id that is not a UUID finds nothing (rather
 * than a cast error from the server).
 *
 * @example
 * const log = new SqlDeliveryLog(db);
 * const failed = await log.listDeliveries({ webhook: "crm", status: "failed", limit: 20 });
 */
export class SqlDeliveryLog implements DeliveryLog {
  constructor(private readonly db: SqlDriver) {}

  async getDelivery(id: string): Promise<Delivery | undefined> {
    if (!isUuid(id)) return undefined;
    const rows = await run(this.db, "read a delivery", () =>
      this.db.query(`SELECT ${DELIVERY_COLUMNS} FROM ${DELIVERIES} WHERE c.id = $1`, [id]),
    );
    return rows[0] ? toDelivery(rows[0]) : undefined;
  }

  async listDeliveries(filter: DeliveryFilter): Promise<Delivery[]> {
    const { where, params, timed } = filterSql(filter);
    if (filter.before && isUuid(filter.before)) {
      params.push(filter.before);
      // Keyset paging in the list's order (see `filterSql`).
      where.push(
        timed
          ? `(c.created_at, c.seq) < (SELECT created_at, seq FROM hookline_deliveries WHERE id = $${params.length})`
          : `c.seq < (SELECT seq FROM hookline_deliveries WHERE id = $${params.length})`,
      );
    }
    params.push(Math.min(Math.max(filter.limit ?? 100, 1), 1000));
    const rows = await run(this.db, "list deliveries", () =>
      this.db.query(
        `SELECT ${DELIVERY_COLUMNS} FROM ${DELIVERIES} ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
         ORDER BY ${timed ? "c.created_at DESC, c.seq DESC" : "c.seq DESC"} LIMIT $${params.length}`,
        params,
      ),
    );
    return rows.map(toDelivery);
  }

  async listAttempts(deliveryId: string): Promise<AttemptRecord[]> {
    if (!isUuid(deliveryId)) return [];
    const rows = await run(this.db, "list attempts", () =>
      this.db.query("SELECT * FROM hookline_attempts WHERE delivery_id = $1 ORDER BY number", [deliveryId]),
    );
    return rows.map(toAttempt);
  }

  async retryDelivery(id: string, extraAttempts: number): Promise<Delivery | undefined> {
    if (!isUuid(id)) return undefined;
    const rows = await run(this.db, "retry a delivery", () =>
      this.db.transaction(async (tx) => {
        const retried = await tx.query(
          // A manual retry is a run of its own: a halt of the run it came from does not hold it back.
          // One of an ordered stream goes behind the stream's head (it is the head if there is none).
          `WITH upd AS (
             UPDATE hookline_delivery_state
                SET status = CASE WHEN ordering_key IS NULL THEN 'pending' ELSE 'waiting' END, next_at = now(),
                    max_attempts = attempts + $2, reason = NULL, run_id = $3, updated_at = now()
              WHERE id = $1 AND status IN ('failed', 'halted', 'succeeded', 'skipped')
             RETURNING webhook, ordering_key, run_id
           ), r AS (
             INSERT INTO hookline_runs (id, kind) SELECT run_id, 'retry' FROM upd ON CONFLICT (id) DO NOTHING
           ), t AS (
             INSERT INTO hookline_run_tallies (run_id, webhook, status, n) SELECT run_id, webhook, 'created', 1 FROM upd
           )
           SELECT webhook, ordering_key FROM upd`,
          [id, extraAttempts, `retry_${crypto.randomUUID()}`],
        );
        await streamsChanged(
          tx,
          streamsOf(retried as Array<{ webhook: string; ordering_key: string | null }>),
        );
        return retried.length === 0
          ? []
          : tx.query(`SELECT ${DELIVERY_COLUMNS} FROM ${DELIVERIES} WHERE c.id = $1`, [id]);
      }),
    );
    return rows[0] ? toDelivery(rows[0]) : undefined;
  }
}

/**
 * How many deliveries a filter selects, counting at most `cap` (past it the answer is `cap`): what a
 * confirmation shows before a bulk retry. Its cost is at most `cap` rows through the filter's index.
 *
 * @example const n = await countDeliveries(host.sql, { status: "failed", customer: "c-42" }, 10_000);
 */
export async function countDeliveries(
  db: SqlExecutor,
  filter: Omit<DeliveryFilter, "before" | "limit">,
  cap: number,
): Promise<number> {
  const { where, params } = filterSql(filter);
  params.push(cap);
  const [row] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM (SELECT 1 FROM ${DELIVERIES}
       ${where.length ? `WHERE ${where.join(" AND ")}` : ""} LIMIT $${params.length}) x`,
    params,
  );
  return Number(row?.n ?? 0);
}

/**
 * A filter's conditions. A time bound lists in creation order (`created_at`, then `seq`): the
 * index on both is walked from the bound and stops at the page, where walking `seq` would skip
 * every delivery newer than `until` first. Without one the list is in `seq` order, as every
 * other filter's index (webhook, run, customer) keeps it.
 */
function filterSql(filter: Omit<DeliveryFilter, "before" | "limit">) {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    where.push(sql.replaceAll("?", `$${params.length}`));
  };
  if (filter.webhook) add("c.webhook = ?", filter.webhook);
  // A run's deliveries: those published in it, or for a retry run those it retried.
  if (filter.run)
    add(
      filter.run.startsWith("retry_") ? "s.run_id = ? AND s.run_id LIKE 'retry\\_%'" : "c.run_id = ?",
      filter.run,
    );
  if (filter.status) add("s.status = ?", filter.status);
  // Through the index of the ids' first 200 characters (migration 14), then the whole id.
  if (filter.customer)
    add("left(c.customer_id, 200) = left(?::text, 200) AND c.customer_id = ?::text", filter.customer);
  if (filter.since) add("c.created_at >= ?::timestamptz", filter.since);
  if (filter.until) add("c.created_at < ?::timestamptz", filter.until);
  return { where, params, timed: Boolean(filter.since || filter.until) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isUuid = (s: string) => UUID.test(s);
