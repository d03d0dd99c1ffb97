import type { SqlExecutor } from "../contracts/sql.ts";

/** An ordered stream: one webhook's deliveries that share an ordering key. */
export interface Stream {
  webhook: string;
  ordering_key: string;
}

/** The advisory-lock namespace (the first key of the two-key form) of ordered streams. */
const STREAM_LOCKS = 7204520;

/**
 * Ordered streams keep one head. Only a stream's earliest unfinished delivery is `pending` (or
 * `in_flight`, or `paused`); the deliveries behind it are `waiting`, outside the due index, so a
 * claim walks that index without asking of each row whether an earlier one of its stream is
 * unfinished. Whoever changes a stream (enqueue, an outcome, a halt, a release, a manual retry) does
 * its writes, then calls this: it takes the streams' locks (in one order: no deadlock) and makes the
 * earliest waiting delivery of each stream that has no head its head. The lock makes the last of two
 * concurrent writers see the other's committed rows, so a stream is never left without a head.
 *
 * @example await promoteHeads(tx, [{ webhook: "subscriber.acme", ordering_key: "acme" }]);
 */
export async function promoteHeads(tx: SqlExecutor, streams: readonly Stream[]): Promise<void> {
  if (streams.length === 0) return;
  const list = JSON.stringify(uniqueStreams(streams));
  await tx.query(
    `SELECT pg_advisory_xact_lock(${STREAM_LOCKS}, h) FROM (
       SELECT DISTINCT hashtext(s.webhook || E'\\n' || s.ordering_key) AS h
         FROM jsonb_to_recordset($1::text::jsonb) AS s(webhook text, ordering_key text) ORDER BY h) l`,
    [list],
  );
  await tx.query(
    `UPDATE hookline_delivery_state d SET status = 'pending', updated_at = now()
       FROM (SELECT n.id FROM jsonb_to_recordset($1::text::jsonb) AS s(webhook text, ordering_key text)
             CROSS JOIN LATERAL (
               SELECT w.id FROM hookline_delivery_state w
                WHERE w.webhook = s.webhook AND w.ordering_key = s.ordering_key AND w.status = 'waiting'
                ORDER BY w.seq LIMIT 1) n
             WHERE NOT EXISTS (
               SELECT 1 FROM hookline_delivery_state a
                WHERE a.webhook = s.webhook AND a.ordering_key = s.ordering_key
                  AND a.status IN ('pending', 'in_flight', 'paused'))) h
      WHERE d.id = h.id AND d.status = 'waiting'`,
    [list],
  );
}

const deferred = new WeakMap<SqlExecutor, Stream[]>();

/**
 * Runs `fn` with the promotion of changed streams deferred to its end: every stream changed inside
 * (by `streamsChanged`, the outbox insert included) is settled once, after all the writes, in one
 * lock order — a transaction that took its stream locks in several rounds could deadlock with another.
 *
 * @example await db.transaction((tx) => withStreams(tx, async () => { …writes… }));
 */
export async function withStreams<T>(tx: SqlExecutor, fn: () => Promise<T>): Promise<T> {
  const touched: Stream[] = [];
  deferred.set(tx, touched);
  try {
    const out = await fn();
    deferred.delete(tx);
    await promoteHeads(tx, touched);
    return out;
  } finally {
    deferred.delete(tx);
  }
}

/** Says that these streams changed: settled now, or at the end of the enclosing `withStreams`. */
export async function streamsChanged(tx: SqlExecutor, streams: readonly Stream[]): Promise<void> {
  if (streams.length === 0) return;
  const later = deferred.get(tx);
  if (later) later.push(...streams);
  else await promoteHeads(tx, streams);
}

/** The streams of rows that carry an ordering key (others are in none), each once. */
export function streamsOf(rows: ReadonlyArray<{ webhook: string; ordering_key?: string | null }>): Stream[] {
  return uniqueStreams(
    rows.flatMap((r) =>
      r.ordering_key == null ? [] : [{ webhook: r.webhook, ordering_key: r.ordering_key }],
    ),
  );
}

function uniqueStreams(streams: readonly Stream[]): Stream[] {
  const seen = new Map<string, Stream>();
  for (const s of streams) seen.set(`${s.webhook}\n${s.ordering_key}`, s);
  return [...seen.values()];
}

/**
 * Restores the one-head rule over the whole table: a pending delivery with an earlier unfinished one
 * in its stream, or with one in flight or paused, waits. The migrator runs it after applying
 * migrations (a plugin's migration may write deliveries as plain pending rows); it changes nothing
 * where the rule holds.
 */
export const NORMALIZE_STREAMS = `UPDATE hookline_delivery_state d SET status = 'waiting'
  WHERE d.ordering_key IS NOT NULL AND d.status = 'pending'
    AND EXISTS (SELECT 1 FROM hookline_delivery_state e
                 WHERE e.webhook = d.webhook AND e.ordering_key = d.ordering_key
                   AND e.status IN ('pending', 'in_flight', 'paused') AND (e.seq < d.seq OR e.status <> 'pending'))`;
