import type { NewDelivery } from "../contracts/delivery.ts";
import type { FanOutJob } from "../contracts/fan-out.ts";
import type { RetryFilter, RunCounts, RunLog, RunSummary } from "../contracts/runs.ts";
import type { SqlDriver, SqlExecutor } from "../contracts/sql.ts";
import { insertDeliveries } from "./enqueue.ts";
import { fanOutPage } from "./fan-out.ts";
import { iso, type Row } from "./rows.ts";
import type { RunSteps } from "./run-health.ts";
import { streamsChanged, streamsOf } from "./streams.ts";
import { run } from "./unavailable.ts";

/** Rows a job reads per page: what one statement handles, and all a job holds in memory. */
const PAGE = 1_000;
/** How long a process holds a job between pages; another takes it over when this runs out. */
const JOB_LEASE_MS = 30_000;
const ENDED = ["succeeded", "failed", "halted", "aborted", "skipped"] as const;
/** Tally rows older than this are merged (`compactTallies`); the rate reads the last minute's. */
const MERGE_AFTER_MS = 180_000;

type Tally = {
  run_id: string;
  webhook: string;
  status: string;
  n: string | number;
  recent: string | number;
  last: unknown;
};
type RunRow = {
  id: string;
  kind: string;
  created_at: unknown;
  job: unknown;
  job_state: string | null;
  cancelled_at: unknown;
};

const emptyCounts = (): RunCounts => ({
  total: 0,
  succeeded: 0,
  failed: 0,
  halted: 0,
  aborted: 0,
  skipped: 0,
  queued: 0,
});

/**
 * Runs and their progress in SQL (see migration 11): a run's counts are the sums of its tallies,
 * which the statements that write deliveries and record outcomes add to; bulk retries and replays
 * are jobs kept on the run's row (what they select, how far they have got), worked page by page by
 * `runJobs` in whichever process holds the job's lease.
 *
 * @example
 * const runs = new SqlRunLog(db, health);
 * const retry = await runs.startRetry({ statuses: ["failed"], webhook: "crm" });
 * await runs.runJobs("worker-1", 1_000);
 */
export class SqlRunLog implements RunLog {
  constructor(
    private readonly db: SqlDriver,
    private readonly health: RunSteps,
  ) {}

  async listRuns(filter: { kind?: string; limit?: number; before?: string }): Promise<RunSummary[]> {
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 500);
    const rows = await run(this.db, "list runs", () =>
      this.db.query<RunRow>(
        `SELECT id, kind, created_at, job::text AS job, job_state, cancelled_at FROM hookline_runs r
          WHERE ($1::text IS NULL OR kind = $1)
            AND ($2::text IS NULL OR (created_at, id) < (SELECT created_at, id FROM hookline_runs WHERE id = $2))
          ORDER BY created_at DESC, id DESC LIMIT $3`,
        [filter.kind ?? null, filter.before ?? null, limit],
      ),
    );
    return this.summarise(rows);
  }

  async getRun(id: string): Promise<RunSummary | undefined> {
    const rows = await run(this.db, "read a run", () =>
      this.db.query<RunRow>(
        "SELECT id, kind, created_at, job::text AS job, job_state, cancelled_at FROM hookline_runs WHERE id = $1",
        [id],
      ),
    );
    return (await this.summarise(rows))[0];
  }

  async startRetry(filter: RetryFilter): Promise<RunSummary> {
    const id = `retry_${crypto.randomUUID()}`;
    await run(this.db, "start a bulk retry", () =>
      this.db.query(
        `INSERT INTO hookline_runs (id, kind, job, job_state) VALUES ($1, 'retry', $2::text::jsonb, 'running')`,
        [id, JSON.stringify({ filter, cursor: 0 })],
      ),
    );
    return (await this.getRun(id))!;
  }

  async startReplay(source: string): Promise<RunSummary | undefined> {
    const id = `replay_${crypto.randomUUID()}`;
    const rows = await run(this.db, "start a replay", () =>
      this.db.query(
        `INSERT INTO hookline_runs (id, kind, job, job_state)
         SELECT $1, 'replay', jsonb_build_object('source', r.id, 'cursor', 0), 'running'
           FROM hookline_runs r WHERE r.id = $2
         RETURNING id`,
        [id, source],
      ),
    );
    return rows.length === 0 ? undefined : this.getRun(id);
  }

  async cancelRun(id: string, reason: string): Promise<RunSummary | undefined> {
    const found = await run(this.db, "cancel a run", () =>
      this.db.transaction(async (tx) => {
        const rows = await tx.query(
          `UPDATE hookline_runs SET cancelled_at = coalesce(cancelled_at, now()),
                  job_state = CASE WHEN job_state = 'running' THEN 'cancelled' ELSE job_state END
            WHERE id = $1 RETURNING id`,
          [id],
        );
        if (rows.length === 0) return false;
        // Halted on every webhook it has deliveries for: the queued ones end halted now, those in
        // flight when their attempt ends without success, and none is written into it any more.
        const webhooks = await tx.query<{ webhook: string }>(
          "SELECT DISTINCT webhook FROM hookline_run_tallies WHERE run_id = $1",
          [id],
        );
        if (webhooks.length > 0)
          await this.health.haltRuns(
            tx,
            webhooks.map((w) => ({ webhook: w.webhook, run_id: id, reason })),
            false,
          );
        return true;
      }),
    );
    return found ? this.getRun(id) : undefined;
  }

  async runJobs(owner: string, budgetMs: number): Promise<number> {
    const until = Date.now() + budgetMs;
    let made = 0;
    while (Date.now() < until) {
      const [job] = await run(this.db, "take a run's job", () =>
        this.db.query<{ id: string; kind: string; job: string }>(
          `UPDATE hookline_runs SET job_owner = $1, job_lease_until = now() + $2 * interval '1 millisecond'
            WHERE id = (SELECT id FROM hookline_runs
                         WHERE job_state = 'running' AND (job_owner = $1 OR job_lease_until IS NULL OR job_lease_until < now())
                         ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
           RETURNING id, kind, job::text AS job`,
          [owner, JOB_LEASE_MS],
        ),
      );
      if (!job) return made;
      const spec = JSON.parse(job.job) as { filter?: RetryFilter; source?: string; send?: FanOutJob };
      while (Date.now() < until) {
        const page = await run(this.db, `work on run ${job.id}`, () =>
          this.db.transaction(async (tx) => {
            // The job's row, locked: still this owner's and running (not cancelled, not taken over).
            const [held] = await tx.query<{ cursor: string | number }>(
              `SELECT job->>'cursor' AS cursor FROM hookline_runs
                WHERE id = $1 AND job_state = 'running' AND job_owner = $2 FOR UPDATE`,
              [job.id, owner],
            );
            if (!held) return { made: 0, done: true };
            // A segment send's cursor is the last member's id; the others', a delivery's seq.
            if (job.kind === "segment") return fanOutPage(tx, job.id, String(held.cursor), spec.send!);
            const cursor = Number(held.cursor);
            return job.kind === "replay"
              ? this.replayPage(tx, job.id, cursor, spec)
              : this.retryPage(tx, job.id, cursor, spec);
          }),
        );
        made += page.made;
        if (page.done) break;
      }
    }
    return made;
  }

  async compactTallies(limit: number): Promise<number> {
    const [row] = await run(this.db, "merge runs' tallies", () =>
      this.db.query<{ n: number }>(
        `WITH old AS (
           DELETE FROM hookline_run_tallies t
            USING (SELECT ctid FROM hookline_run_tallies
                    WHERE NOT merged AND at < now() - $2 * interval '1 millisecond'
                    ORDER BY at LIMIT $1 FOR UPDATE SKIP LOCKED) x
            WHERE t.ctid = x.ctid
           RETURNING t.run_id, t.webhook, t.status, t.n, t.at
         ), merged AS (
           INSERT INTO hookline_run_tallies AS m (run_id, webhook, status, n, at, merged)
           SELECT run_id, webhook, status, sum(n), max(at), true FROM old GROUP BY run_id, webhook, status
           ON CONFLICT (run_id, webhook, status) WHERE merged
           DO UPDATE SET n = m.n + EXCLUDED.n, at = GREATEST(m.at, EXCLUDED.at)
         ), minutes AS (
           -- Merging forgets when each outcome was tallied: the minute it was in is kept here.
           INSERT INTO hookline_outcome_minutes AS o (minute, status, n)
           SELECT date_trunc('minute', at), status, sum(n) FROM old
            WHERE status IN ('succeeded', 'failed', 'halted', 'aborted', 'skipped') GROUP BY 1, 2
           ON CONFLICT (minute, status) DO UPDATE SET n = o.n + EXCLUDED.n
         ), expired AS (
           DELETE FROM hookline_outcome_minutes WHERE minute < now() - interval '2 days'
         )
         SELECT count(*)::int AS n FROM old`,
        [limit, MERGE_AFTER_MS],
      ),
    );
    return row?.n ?? 0;
  }

  /**
   * One page of a bulk retry: the next `PAGE` candidates after the cursor (ended badly, in order; or
   * every delivery, when succeeded ones are retried too), those that match moved into the retry run
   * with a fresh attempt budget, the cursor moved on: one transaction. Returns whether the job is done
   * (it is also done when the job was cancelled or taken over meanwhile).
   */
  private async retryPage(
    tx: SqlExecutor,
    id: string,
    cursor: number,
    spec: { filter?: RetryFilter },
  ): Promise<{ made: number; done: boolean }> {
    const f = spec.filter ?? {};
    const statuses = f.statuses?.length ? f.statuses : ["failed"];
    // Only failures: the index of deliveries that ended badly. With successes or skips: every delivery.
    const candidates = statuses.some((s) => s === "succeeded" || s === "skipped")
      ? `SELECT c.id, c.seq FROM hookline_deliveries c WHERE c.seq > $2 ORDER BY c.seq LIMIT ${PAGE}`
      : `SELECT s.id, s.seq FROM hookline_delivery_state s
          WHERE s.seq > $2 AND s.status IN ('failed', 'halted', 'aborted') ORDER BY s.seq LIMIT ${PAGE}`;
    const rows = await tx.query<Row>(
      `WITH page AS (${candidates}), pick AS (
         SELECT s.id FROM page JOIN hookline_delivery_state s ON s.id = page.id JOIN hookline_deliveries c ON c.id = page.id
          WHERE s.status = ANY(SELECT jsonb_array_elements_text($3::text::jsonb))
            AND ($4::text IS NULL OR c.webhook = $4)
            AND ($5::text IS NULL OR c.run_id = $5 OR s.run_id = $5)
            AND ($6::timestamptz IS NULL OR c.created_at >= $6)
            AND ($7::timestamptz IS NULL OR c.created_at < $7)
            AND ($10::text IS NULL OR c.customer_id = $10)
            AND ($8::text IS NULL OR EXISTS (
                  SELECT 1 FROM hookline_attempts a WHERE a.delivery_id = s.id AND a.number = s.attempts AND a.error_class = $8))
          FOR UPDATE OF s SKIP LOCKED
       ), upd AS (
         UPDATE hookline_delivery_state s
            SET status = CASE WHEN s.ordering_key IS NULL THEN 'pending' ELSE 'waiting' END, next_at = now(),
                max_attempts = s.attempts + coalesce($9::int, GREATEST(s.max_attempts, 1)), reason = NULL,
                run_id = $1, bulk = true, updated_at = now()
           FROM pick WHERE s.id = pick.id
         RETURNING s.webhook, s.ordering_key
       ), t AS (
         INSERT INTO hookline_run_tallies (run_id, webhook, status, n)
         SELECT $1, webhook, 'created', count(*) FROM upd GROUP BY webhook
       ), moved AS (
         UPDATE hookline_runs
            SET job = jsonb_set(job, '{cursor}', to_jsonb(coalesce((SELECT max(seq) FROM page), $2))),
                job_state = CASE WHEN (SELECT count(*) FROM page) < ${PAGE} THEN 'done' ELSE job_state END
          WHERE id = $1
         RETURNING job_state
       )
       SELECT 'moved' AS kind, webhook, ordering_key FROM upd
       UNION ALL SELECT 'state', job_state, NULL FROM moved`,
      [
        id,
        cursor,
        JSON.stringify(statuses),
        f.webhook ?? null,
        f.run ?? null,
        f.since ?? null,
        f.until ?? null,
        f.errorClass ?? null,
        f.attempts ?? null,
        f.customer ?? null,
      ],
    );
    const moved = rows.filter((r) => r.kind === "moved") as Array<{
      webhook: string;
      ordering_key: string | null;
    }>;
    await streamsChanged(tx, streamsOf(moved));
    return { made: moved.length, done: rows.find((r) => r.kind === "state")?.webhook !== "running" };
  }

  /**
   * One page of a replay: the next `PAGE` deliveries published in the source run, each written again
   * in the replay run as a new delivery (new id; its idempotency key the original's with
   * `:replay:<run>` after it, so the destination takes it as new), the cursor moved on: one transaction.
   */
  private async replayPage(
    tx: SqlExecutor,
    id: string,
    cursor: number,
    spec: { source?: string },
  ): Promise<{ made: number; done: boolean }> {
    const rows = await tx.query<Row>(
      `SELECT c.id, c.seq, c.webhook, c.idempotency_key, c.event_id, c.event_type, c.customer_id, c.context::text AS context,
              c.max_attempts, c.policy, c.ordering_key, c.traceparent
         FROM hookline_deliveries c WHERE c.run_id = $1 AND c.seq > $2 ORDER BY c.run_id, c.seq LIMIT ${PAGE}`,
      [spec.source, cursor],
    );
    const copies: NewDelivery[] = rows.map((r) => ({
      id: crypto.randomUUID(),
      webhook: r.webhook,
      idempotencyKey: `${r.idempotency_key}:replay:${id}`,
      runId: id,
      eventId: r.event_id,
      eventType: r.event_type,
      customerId: r.customer_id ?? undefined,
      context: JSON.parse(r.context),
      maxAttempts: r.max_attempts,
      policy: r.policy ?? undefined,
      orderingKey: r.ordering_key ?? undefined,
      traceparent: r.traceparent ?? undefined,
      bulk: true,
    }));
    const made = copies.length === 0 ? [] : await insertDeliveries(tx, copies);
    const last = rows.at(-1)?.seq ?? cursor;
    await tx.query(
      `UPDATE hookline_runs SET job = jsonb_set(job, '{cursor}', to_jsonb($2::bigint)),
              job_state = CASE WHEN $3 THEN 'done' ELSE job_state END
        WHERE id = $1`,
      [id, last, rows.length < PAGE],
    );
    return { made: made.length, done: rows.length < PAGE };
  }

  /** Each run with its counts, rate and halts, read from its tallies in one query per kind of data. */
  private async summarise(runs: RunRow[]): Promise<RunSummary[]> {
    if (runs.length === 0) return [];
    const ids = JSON.stringify(runs.map((r) => r.id));
    const [tallies, halts, clock] = await run(this.db, "read runs' progress", () =>
      Promise.all([
        this.db.query<Tally>(
          `SELECT run_id, webhook, status, sum(n)::bigint AS n,
                  coalesce(sum(n) FILTER (WHERE at > now() - interval '1 minute'), 0)::bigint AS recent, max(at) AS last
             FROM hookline_run_tallies WHERE run_id IN (SELECT jsonb_array_elements_text($1::text::jsonb))
            GROUP BY run_id, webhook, status`,
          [ids],
        ),
        this.db.query<{ run_id: string; webhook: string; reason: string; halted_at: unknown }>(
          `SELECT run_id, webhook, reason, halted_at FROM hookline_halted_runs
            WHERE run_id IN (SELECT jsonb_array_elements_text($1::text::jsonb))`,
          [ids],
        ),
        this.db.query<{ now: unknown }>("SELECT now() AS now"),
      ]),
    );
    const now = new Date(iso(clock[0]!.now)!).getTime();
    return runs.map((r) => {
      const mine = tallies.filter((t) => t.run_id === r.id);
      const byHook = new Map<string, RunCounts>();
      let recent = 0;
      let lastEnd = 0;
      for (const t of mine) {
        const counts = byHook.get(t.webhook) ?? emptyCounts();
        byHook.set(t.webhook, counts);
        const n = Number(t.n);
        if (t.status === "created") counts.total += n;
        else if ((ENDED as readonly string[]).includes(t.status)) {
          counts[t.status as (typeof ENDED)[number]] += n;
          recent += Number(t.recent);
          lastEnd = Math.max(lastEnd, new Date(iso(t.last)!).getTime());
        }
      }
      const counts = emptyCounts();
      const webhooks = [...byHook]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([webhook, c]) => {
          c.queued = Math.max(0, c.total - c.succeeded - c.failed - c.halted - c.aborted - c.skipped);
          for (const k of Object.keys(counts) as Array<keyof RunCounts>) counts[k] += c[k];
          const halt = halts.find((h) => h.run_id === r.id && h.webhook === webhook);
          return {
            webhook,
            counts: c,
            ...(halt ? { halted: { reason: halt.reason, at: iso(halt.halted_at)! } } : {}),
          };
        });
      const startedAt = iso(r.created_at)!;
      const job = r.job
        ? (JSON.parse(String(r.job)) as { filter?: RetryFilter; source?: string; send?: FanOutJob })
        : undefined;
      const selecting = r.job_state === "running";
      const cancelled = r.cancelled_at != null;
      const running = !cancelled && (counts.queued > 0 || selecting);
      const window = Math.min(60, Math.max(1, (now - new Date(startedAt).getTime()) / 1000));
      const perSecond = Math.round((recent / window) * 100) / 100;
      return {
        id: r.id,
        kind: r.kind,
        state: cancelled ? "cancelled" : running ? "running" : "finished",
        startedAt,
        ...(!running && lastEnd > 0 ? { finishedAt: new Date(lastEnd).toISOString() } : {}),
        counts,
        webhooks,
        perSecond,
        ...(counts.queued > 0 && perSecond > 0 ? { etaSeconds: Math.ceil(counts.queued / perSecond) } : {}),
        ...(cancelled ? { cancelledAt: iso(r.cancelled_at)! } : {}),
        ...(job && r.job_state
          ? {
              job: {
                state: r.job_state as "running" | "done" | "cancelled",
                ...(job.filter ? { filter: job.filter } : {}),
                ...(job.source ? { source: job.source } : {}),
                ...(job.send
                  ? {
                      send: {
                        sendId: job.send.sendId,
                        segment: job.send.segment,
                        webhooks: job.send.webhooks.map((w) => w.webhook),
                      },
                    }
                  : {}),
              },
            }
          : {}),
      };
    });
  }
}
