import type { FanOutJob, FanOutStore } from "../contracts/fan-out.ts";
import type { SqlDriver, SqlExecutor } from "../contracts/sql.ts";
import { run } from "./unavailable.ts";

/** Members one page of a send writes deliveries for: one statement, and all it holds at once. */
export const FAN_OUT_PAGE = 2_000;
/** Longer member ids go into idempotency keys as their SHA-256 (the key's index holds ~2,700 bytes). */
const KEYED_AS_IS = 200;

/**
 * Sends to an audience (segment sends) in SQL: a run whose job (`kind: segment`) holds the members'
 * query and the webhooks' settings; `fanOutPage` writes one page of it. `SqlRunLog.runJobs` works it
 * like a bulk retry: under the job's lease, page by page, the cursor moved in the page's transaction.
 *
 * @example await new SqlFanOut(db).startFanOut(job)
 */
export class SqlFanOut implements FanOutStore {
  constructor(private readonly db: SqlDriver) {}

  async startFanOut(job: FanOutJob): Promise<{ created: boolean }> {
    const rows = await run(this.db, "start a segment send", () =>
      this.db.query(
        `INSERT INTO hookline_runs (id, kind, job, job_state) VALUES ($1, 'segment', $2::text::jsonb, 'running')
         ON CONFLICT (id) DO NOTHING RETURNING id`,
        [job.runId, JSON.stringify({ send: job, cursor: "" })],
      ),
    );
    return { created: rows.length > 0 };
  }
}

/**
 * One page of a send: the next `FAN_OUT_PAGE` members after the cursor (in id order, a keyset walk of
 * the members' query), one delivery per member and webhook written as the outbox's insert writes them
 * — the content row (a known idempotency key skipped), the state row (marked bulk: events' deliveries
 * are claimed first; halted when the run is halted for the webhook; none for a disabled webhook), the
 * run's tally — and the cursor moved on: one
 * statement, inside the job's transaction. Returns the deliveries made due, and whether the job is done.
 */
export async function fanOutPage(
  tx: SqlExecutor,
  id: string,
  cursor: string,
  job: FanOutJob,
): Promise<{ made: number; done: boolean }> {
  const { members } = job;
  // The members' query keeps $1 … $n; this statement's parameters follow them.
  const k = members.params.length;
  const p = (i: number) => `$${k + i}`;
  const hooks = job.webhooks.map((w, ord) => ({
    ord,
    webhook: w.webhook,
    max_attempts: w.maxAttempts,
    delay_ms: w.delayMs,
    policy: w.policy,
    params: w.params,
  }));
  // The planner cannot see how few rows a page is (a CTE, a JSON recordset): its cost estimate runs to
  // millions and Postgres would JIT-compile the statement, ~1 s of a ~0.1 s page. Postgres only.
  await tx.query("SET LOCAL jit = off");
  const [row] = await tx.query<{ made: string | number; state: string | null }>(
    `WITH m AS (
       SELECT m.id AS member, m.customer FROM (${members.sql}) m
        WHERE m.id > ${p(1)}::text ORDER BY m.id LIMIT ${FAN_OUT_PAGE}
     ), w AS (
       SELECT * FROM jsonb_to_recordset(${p(2)}::text::jsonb)
                  AS w(ord int, webhook text, max_attempts int, delay_ms int, policy text, params jsonb)
        LIMIT ${hooks.length}
     ), x AS MATERIALIZED (
       SELECT gen_random_uuid() AS id, w.ord, w.webhook, m.member, m.customer, w.max_attempts, w.delay_ms, w.policy, w.params,
              ${p(4)}::text || ':' || m.member AS event_id,
              ${p(4)}::text || ':' || CASE WHEN length(m.member) <= ${KEYED_AS_IS} THEN m.member
                   ELSE 'sha256:' || encode(sha256(convert_to(m.member, 'UTF8')), 'hex') END || ':' || w.webhook AS idempotency_key,
              CASE WHEN h.run_id IS NOT NULL THEN 'halted' ELSE 'pending' END AS status,
              CASE WHEN h.run_id IS NULL THEN NULL ELSE 'run halted: ' || h.reason END AS reason
         FROM m CROSS JOIN w
         LEFT JOIN hookline_halted_runs h ON h.webhook = w.webhook AND h.run_id = ${p(3)}
        WHERE NOT EXISTS (SELECT 1 FROM hookline_webhook_health d WHERE d.webhook = w.webhook AND d.disabled_at IS NOT NULL)
     ), c AS (
       INSERT INTO hookline_deliveries (id, webhook, idempotency_key, run_id, event_id, event_type, customer_id, context, max_attempts,
                                        policy, traceparent)
       SELECT id, webhook, idempotency_key, ${p(3)}, event_id, 'segment', member,
              jsonb_build_object(
                'event', jsonb_build_object('id', event_id, 'type', 'segment', 'timestamp', ${p(6)}::text,
                                            'data', jsonb_build_object('segment', ${p(5)}::text, 'send', ${p(4)}::text)),
                'customer', customer, 'params', params)
                -- The send's consent objectives, as withConsent carries them: the worker checks them.
                || CASE WHEN ${p(8)}::text IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('consent', ${p(8)}::text::jsonb) END,
              max_attempts, policy, ${p(7)}::text
         FROM x ORDER BY member, ord
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING id, seq
     ), s AS (
       INSERT INTO hookline_delivery_state (id, seq, webhook, run_id, policy, max_attempts, next_at, status, reason, bulk)
       SELECT x.id, c.seq, x.webhook, ${p(3)}, x.policy, x.max_attempts, now() + x.delay_ms * interval '1 millisecond', x.status, x.reason,
              true
         FROM x JOIN c ON c.id = x.id
        ORDER BY c.seq
       RETURNING webhook, status
     ), t AS (
       INSERT INTO hookline_run_tallies (run_id, webhook, status, n)
       SELECT ${p(3)}, webhook, 'created', count(*) FROM s GROUP BY webhook
       UNION ALL
       SELECT ${p(3)}, webhook, 'halted', count(*) FROM s WHERE status = 'halted' GROUP BY webhook
     ), moved AS (
       UPDATE hookline_runs
          SET job = jsonb_set(job, '{cursor}', to_jsonb(coalesce((SELECT max(member) FROM m), ${p(1)}::text))),
              job_state = CASE WHEN (SELECT count(*) FROM m) < ${FAN_OUT_PAGE} THEN 'done' ELSE job_state END
        WHERE id = ${p(3)}
       RETURNING job_state
     )
     SELECT (SELECT count(*) FROM s WHERE status = 'pending') AS made, (SELECT job_state FROM moved) AS state`,
    [
      ...members.params,
      cursor,
      JSON.stringify(hooks),
      id,
      job.sendId,
      job.segment,
      job.at,
      job.traceparent,
      job.consent?.length ? JSON.stringify([job.consent]) : null,
    ],
  );
  return { made: Number(row?.made ?? 0), done: row?.state !== "running" };
}
