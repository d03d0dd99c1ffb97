import type { DeliveryResult, EndedDelivery, EndedRun } from "../contracts/delivery.ts";
import type { DisabledWebhook, PausedWebhook, QueuedOnDisable, RunHealth } from "../contracts/runs.ts";
import type { SqlDriver, SqlExecutor } from "../contracts/sql.ts";
import { ENDED_ROWS, ENDED_STATE, iso, type Row, toEnded } from "./rows.ts";
import { streamsChanged, streamsOf } from "./streams.ts";
import { run } from "./unavailable.ts";

/**
 * What a run's end reads back of the deliveries it ended: every one when someone will look at them,
 * else only the ordered streams they were in (whose heads may need settling), once each.
 */
/** Adds the deliveries a run's end ended (`ended`) to their runs' tallies. */
const TALLY_ENDED = `tally AS (
         INSERT INTO hookline_run_tallies (run_id, webhook, status, n)
         SELECT run_id, webhook, status, count(*) FROM ended GROUP BY run_id, webhook, status
       )`;

const endedRows = (wantEnded: boolean) =>
  wantEnded ? ENDED_ROWS : "SELECT DISTINCT webhook, ordering_key FROM ended WHERE ordering_key IS NOT NULL";

/** A run to halt, as `complete` hands it over: the columns of `hookline_halted_runs`. */
export interface RunHalt {
  webhook: string;
  run_id: string;
  reason: string;
}

/**
 * Run health's part of `complete`, taken inside the transaction that records the outcomes (so a halt,
 * an abort or a pause commits with the outcome that caused it). Each step returns the deliveries it
 * ended unsent (read back only when `wantEnded`) or the runs and webhooks it stopped.
 *
 * @example
 * const ended = await runs.haltRuns(tx, [{ webhook: "crm", run_id: runId, reason: "410 Gone" }], true);
 */
export interface RunSteps {
  haltRuns(tx: SqlExecutor, halts: RunHalt[], wantEnded: boolean): Promise<EndedDelivery[]>;
  countFailures(
    tx: SqlExecutor,
    results: DeliveryResult[],
    threshold: number,
    wantEnded: boolean,
  ): Promise<{ runs: EndedRun[]; ended: EndedDelivery[] }>;
  trackHealth(tx: SqlExecutor, results: DeliveryResult[], pauseAfterMs: number): Promise<EndedRun[]>;
}

/**
 * Run halts and webhook health, in SQL: a halted run takes no more deliveries, a run past its failure
 * threshold is aborted, a webhook failing continuously is paused until an operator resumes it.
 *
 * @example
 * const runs = new SqlRunHealth(db);
 * for (const p of await runs.pausedWebhooks()) await runs.resumeWebhook(p.webhook);
 */
export class SqlRunHealth implements RunHealth, RunSteps {
  constructor(private readonly db: SqlDriver) {}

  /** Halts runs: their pending deliveries are marked halted with the reason, and they take no new ones. */
  async haltRuns(tx: SqlExecutor, halts: RunHalt[], wantEnded: boolean): Promise<EndedDelivery[]> {
    const json = JSON.stringify(halts);
    await tx.query(
      `INSERT INTO hookline_halted_runs (webhook, run_id, reason)
       SELECT DISTINCT ON (webhook, run_id) webhook, run_id, reason
         FROM jsonb_to_recordset($1::text::jsonb) AS x(webhook text, run_id text, reason text)
       ON CONFLICT DO NOTHING`,
      [json],
    );
    const rows = await tx.query<Row>(
      `WITH ended AS (
         UPDATE hookline_delivery_state d SET status = 'halted', reason = 'run halted: ' || h.reason, updated_at = now()
           FROM hookline_halted_runs h
          WHERE d.status IN ('pending', 'waiting', 'paused') AND h.webhook = d.webhook AND h.run_id = d.run_id
            AND (h.webhook, h.run_id) IN (SELECT webhook, run_id FROM jsonb_to_recordset($1::text::jsonb) AS x(webhook text, run_id text))
         RETURNING ${ENDED_STATE}
       ), ${TALLY_ENDED} ${endedRows(wantEnded)}`,
      [json],
    );
    await streamsChanged(tx, streamsOf(rows as Array<{ webhook: string; ordering_key: string | null }>));
    return wantEnded ? rows.map(toEnded) : [];
  }

  /**
   * Counts unrecoverable outcomes per webhook run; a run that reaches `threshold` is aborted: its pending
   * deliveries are marked aborted with the reason, and it takes no new ones (as a halted run).
   */
  async countFailures(
    tx: SqlExecutor,
    results: DeliveryResult[],
    threshold: number,
    wantEnded: boolean,
  ): Promise<{ runs: EndedRun[]; ended: EndedDelivery[] }> {
    const none = { runs: [], ended: [] };
    const counts = new Map<string, { webhook: string; run_id: string; n: number }>();
    for (const r of results) {
      if (r.next.status !== "failed") continue;
      const key = `${r.webhook}\u0000${r.runId}`;
      const c = counts.get(key) ?? { webhook: r.webhook, run_id: r.runId, n: 0 };
      c.n++;
      counts.set(key, c);
    }
    if (counts.size === 0) return none;
    const crossed = await tx.query<{ webhook: string; run_id: string; failures: number }>(
      `INSERT INTO hookline_run_failures (webhook, run_id, failures)
       SELECT webhook, run_id, n FROM jsonb_to_recordset($1::text::jsonb) AS x(webhook text, run_id text, n int)
       ON CONFLICT (webhook, run_id) DO UPDATE SET failures = hookline_run_failures.failures + EXCLUDED.failures
       RETURNING webhook, run_id, failures`,
      [JSON.stringify([...counts.values()])],
    );
    const aborts = crossed
      .filter(
        (c) =>
          c.failures >= threshold &&
          c.failures - (counts.get(`${c.webhook}\u0000${c.run_id}`)?.n ?? 0) < threshold,
      )
      .map((c) => ({
        webhook: c.webhook,
        runId: c.run_id,
        reason: `aborted after ${c.failures} unrecoverable outcomes in this run`,
      }));
    if (aborts.length === 0) return none;
    const json = JSON.stringify(
      aborts.map((a) => ({ webhook: a.webhook, run_id: a.runId, reason: a.reason })),
    );
    await tx.query(
      `INSERT INTO hookline_halted_runs (webhook, run_id, reason)
       SELECT webhook, run_id, reason FROM jsonb_to_recordset($1::text::jsonb) AS x(webhook text, run_id text, reason text)
       ON CONFLICT DO NOTHING`,
      [json],
    );
    const rows = await tx.query<Row>(
      `WITH ended AS (
         UPDATE hookline_delivery_state d SET status = 'aborted', reason = x.reason, updated_at = now()
           FROM jsonb_to_recordset($1::text::jsonb) AS x(webhook text, run_id text, reason text)
          WHERE d.status IN ('pending', 'waiting', 'paused') AND d.webhook = x.webhook AND d.run_id = x.run_id
         RETURNING ${ENDED_STATE}
       ), ${TALLY_ENDED} ${endedRows(wantEnded)}`,
      [json],
    );
    await streamsChanged(tx, streamsOf(rows as Array<{ webhook: string; ordering_key: string | null }>));
    return { runs: aborts, ended: wantEnded ? rows.map(toEnded) : [] };
  }

  /**
   * An endpoint that keeps failing: a webhook's first failure since its last success starts the clock;
   * failing longer than `pauseAfterMs` pauses the webhook (its deliveries wait). A success stops the
   * clock: `complete` resets it in its own statement, so only webhooks without one are looked at here.
   */
  async trackHealth(tx: SqlExecutor, results: DeliveryResult[], pauseAfterMs: number): Promise<EndedRun[]> {
    const ok = new Map<string, boolean>();
    // A skip (no consent) sent nothing: it neither starts nor stops the failing clock.
    for (const r of results)
      if (r.next.status !== "skipped")
        ok.set(r.webhook, (ok.get(r.webhook) ?? false) || r.next.status === "succeeded");
    const failing = [...ok].filter(([, succeeded]) => !succeeded).map(([webhook]) => webhook);
    if (failing.length === 0) return [];
    const list = JSON.stringify(failing);
    await tx.query(
      `INSERT INTO hookline_webhook_health (webhook, failing_since)
       SELECT value, now() FROM jsonb_array_elements_text($1::text::jsonb)
       ON CONFLICT (webhook) DO UPDATE SET failing_since = coalesce(hookline_webhook_health.failing_since, EXCLUDED.failing_since)
        WHERE hookline_webhook_health.failing_since IS NULL`,
      [list],
    );
    const paused = await tx.query<{ webhook: string; reason: string }>(
      `UPDATE hookline_webhook_health
          SET paused_at = now(),
              reason = 'paused: failing continuously since ' || to_char(failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        WHERE paused_at IS NULL AND failing_since < now() - $2 * interval '1 millisecond'
          AND webhook IN (SELECT value FROM jsonb_array_elements_text($1::text::jsonb))
        RETURNING webhook, reason`,
      [list, pauseAfterMs],
    );
    return paused.map((p) => ({ webhook: p.webhook, reason: p.reason, paused: true }));
  }

  /**
   * Resumes a paused webhook: the deliveries set aside while it was paused are due again (unless an
   * operator disabled it meanwhile: they wait for `enableWebhook`).
   */
  async resumeWebhook(webhook: string): Promise<boolean> {
    return run(this.db, "resume a webhook", () =>
      this.db.transaction(async (tx) => {
        const rows = await tx.query<{ disabled: boolean }>(
          `UPDATE hookline_webhook_health SET paused_at = NULL, failing_since = NULL, reason = NULL
            WHERE webhook = $1 AND paused_at IS NOT NULL RETURNING disabled_at IS NOT NULL AS disabled`,
          [webhook],
        );
        if (rows.length > 0 && !rows[0]!.disabled) await setAsideDue(tx, webhook);
        return rows.length > 0;
      }),
    );
  }

  /**
   * Disables a webhook, as a pause does but by an operator: the claim sets its deliveries aside
   * (`paused`) and the outbox writes none for it. With `cancel`, those queued end halted now.
   */
  async disableWebhook(
    webhook: string,
    options: { queued: QueuedOnDisable; reason: string },
  ): Promise<{ halted: number } | undefined> {
    return run(this.db, "disable a webhook", () =>
      this.db.transaction(async (tx) => {
        const rows = await tx.query(
          `INSERT INTO hookline_webhook_health (webhook, disabled_at, disabled_reason) VALUES ($1, now(), $2)
           ON CONFLICT (webhook) DO UPDATE SET disabled_at = now(), disabled_reason = $2
            WHERE hookline_webhook_health.disabled_at IS NULL
           RETURNING webhook`,
          [webhook, options.reason],
        );
        if (options.queued === "wait") return rows.length === 0 ? undefined : { halted: 0 };
        // Queued ones end halted, tallied in their runs; an ordered stream's followers go with them.
        const ended = await tx.query<{ webhook: string; ordering_key: string | null; n: number }>(
          `WITH ended AS (
             UPDATE hookline_delivery_state d SET status = 'halted', reason = $2, updated_at = now()
              WHERE d.webhook = $1 AND d.status IN ('pending', 'waiting', 'paused')
             RETURNING ${ENDED_STATE}
           ), ${TALLY_ENDED} SELECT webhook, ordering_key, count(*)::int AS n FROM ended GROUP BY webhook, ordering_key`,
          [webhook, `webhook disabled: ${options.reason}`],
        );
        await streamsChanged(tx, streamsOf(ended));
        return { halted: ended.reduce((n, r) => n + Number(r.n), 0) };
      }),
    );
  }

  /** Enables a disabled webhook: its set-aside deliveries are due again, unless it is also paused. */
  async enableWebhook(webhook: string): Promise<boolean> {
    return run(this.db, "enable a webhook", () =>
      this.db.transaction(async (tx) => {
        const rows = await tx.query<{ paused: boolean }>(
          `UPDATE hookline_webhook_health SET disabled_at = NULL, disabled_reason = NULL
            WHERE webhook = $1 AND disabled_at IS NOT NULL RETURNING paused_at IS NOT NULL AS paused`,
          [webhook],
        );
        if (rows.length > 0 && !rows[0]!.paused) await setAsideDue(tx, webhook);
        return rows.length > 0;
      }),
    );
  }

  async disabledWebhooks(): Promise<DisabledWebhook[]> {
    const rows = await run(this.db, "list disabled webhooks", () =>
      this.db.query<{ webhook: string; disabled_at: unknown; disabled_reason: string | null }>(
        "SELECT webhook, disabled_at, disabled_reason FROM hookline_webhook_health WHERE disabled_at IS NOT NULL ORDER BY webhook",
      ),
    );
    return rows.map((r) => ({
      webhook: r.webhook,
      disabledAt: iso(r.disabled_at)!,
      reason: r.disabled_reason ?? "",
    }));
  }

  async pausedWebhooks(): Promise<PausedWebhook[]> {
    const rows = await run(this.db, "list paused webhooks", () =>
      this.db.query<{ webhook: string; paused_at: unknown; reason: string }>(
        "SELECT webhook, paused_at, reason FROM hookline_webhook_health WHERE paused_at IS NOT NULL ORDER BY webhook",
      ),
    );
    return rows.map((r) => ({ webhook: r.webhook, pausedAt: iso(r.paused_at)!, reason: r.reason }));
  }
}

/** A webhook's deliveries set aside (`paused`) are due again. */
const setAsideDue = (tx: SqlExecutor, webhook: string) =>
  tx.query(
    "UPDATE hookline_delivery_state SET status = 'pending', updated_at = now() WHERE webhook = $1 AND status = 'paused'",
    [webhook],
  );
