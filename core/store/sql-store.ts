import type { DeliveryObserver, ObserverContext, PluginMigrations } from "../contracts/extension.ts";
import type {
  AttemptRecord,
  ClaimedDelivery,
  CompleteOptions,
  Delivery,
  DeliveryFilter,
  DeliveryOutcome,
  DeliveryResult,
  EndedDelivery,
  EndedRun,
  NewDelivery,
  OutcomeDelivery,
  PolicyLimits,
  PolicyWrite,
  SqlDriver,
  SqlExecutor,
  Store,
} from "../contracts/store.ts";
import { StoreUnavailableError } from "../errors.ts";
import { migrations } from "./migrations.ts";

type Row = Record<string, any>;

const iso = (v: unknown): string | undefined =>
  v == null ? undefined : v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString();

/** What a delivery is for (its event and customer), from a row. */
function toOutcomeDelivery(r: Row): OutcomeDelivery {
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
  };
}

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

/** The columns an ended delivery is read back with (`toEnded`). */
const ENDED_COLUMNS =
  "d.id::text AS id, d.webhook, d.run_id, d.event_id, d.event_type, d.customer_id, d.context, d.status, d.reason";

function toEnded(r: Row): EndedDelivery {
  return { ...toOutcomeDelivery(r), status: r.status, reason: r.reason };
}

const DELIVERY_COLUMNS = `id, webhook, idempotency_key, run_id, event_id, event_type, customer_id, context, status,
  attempts, max_attempts, next_at, lease_owner, lease_until, last_status, reason, created_at, updated_at`;

/**
 * The store in SQL, over PGlite or postgres.js alike. Writes are set-based (one statement for many
 * rows, JSON parameters unpacked with `jsonb_to_recordset`): batching is what makes the embedded
 * store fast.
 *
 * @example
 * const store = new SqlStore(await pgliteDriver({ dataDir: ".hookline" }));
 * await store.migrate();
 */
export class SqlStore implements Store {
  private observers: readonly DeliveryObserver[] = [];
  private observerContext?: Omit<ObserverContext, "afterCommit">;

  constructor(
    private readonly db: SqlDriver,
    private readonly pluginMigrations: readonly PluginMigrations[] = [],
  ) {}

  /** Observers that see every recorded outcome inside the transaction recording it (see `DeliveryObserver`). */
  observe(observers: readonly DeliveryObserver[], context: Omit<ObserverContext, "afterCommit">): void {
    this.observers = observers;
    this.observerContext = context;
  }

  /** The SQL connection, for plugins that keep tables of their own (see `PluginMigrations`). */
  get sql(): SqlDriver {
    return this.db;
  }

  get driverName(): string {
    return this.db.name;
  }

  private async run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      throw new StoreUnavailableError(`store (${this.db.name}) failed to ${what}: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  async migrate(): Promise<void> {
    await this.run("migrate", () =>
      this.db.transaction(async (tx) => {
        // One migrator at a time when many processes start against one server.
        await tx.query("SELECT pg_advisory_xact_lock(7204519)");
        await tx.query(
          "CREATE TABLE IF NOT EXISTS hookline_migrations (id text PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
        );
        const done = new Set(
          (await tx.query<{ id: string }>("SELECT id FROM hookline_migrations")).map((r) => r.id),
        );
        // The core's series first, then each plugin's, each in version order, each step once.
        for (const { plugin, migrations: list } of [
          { plugin: "core", migrations },
          ...this.pluginMigrations,
        ]) {
          for (const m of [...list].sort((a, b) => a.version - b.version)) {
            const id = `${plugin}:${m.version}`;
            if (done.has(id)) continue;
            for (const statement of m.sql
              .split(/;\s*\n/)
              .map((x) => x.trim())
              .filter(Boolean)) {
              await tx.query(statement);
            }
            await tx.query("INSERT INTO hookline_migrations (id, name) VALUES ($1, $2)", [id, m.name]);
          }
        }
      }),
    );
  }

  async enqueue(deliveries: NewDelivery[]): Promise<string[]> {
    if (deliveries.length === 0) return [];
    return this.run("enqueue deliveries", () => this.insert(this.db, deliveries));
  }

  /** Writes deliveries within a transaction a caller holds (an observer's follow-ups). */
  async enqueueIn(tx: SqlExecutor, deliveries: NewDelivery[]): Promise<string[]> {
    return deliveries.length === 0 ? [] : this.insert(tx, deliveries);
  }

  /**
   * The outbox insert: one statement for any number of rows; a known idempotency key is skipped; a
   * delivery of a halted run is written halted. With `parents` (row id → parent delivery and status), a
   * row is written only if its parent now has that status: follow-ups follow applied outcomes only.
   */
  private async insert(
    tx: SqlExecutor,
    deliveries: NewDelivery[],
    parents?: Map<string, { id: string; status: string }>,
  ): Promise<string[]> {
    const rows = deliveries.map((d, ord) => ({
      ord,
      id: d.id,
      webhook: d.webhook,
      idempotency_key: d.idempotencyKey,
      run_id: d.runId,
      event_id: d.eventId,
      event_type: d.eventType,
      customer_id: d.customerId ?? null,
      context: d.context,
      max_attempts: d.maxAttempts,
      delay_ms: d.delayMs ?? 0,
      parent: parents?.get(d.id)?.id ?? null,
      parent_status: parents?.get(d.id)?.status ?? null,
      policy: d.policy ?? null,
      ordering_key: d.orderingKey ?? null,
    }));
    const inserted = await tx.query<{ id: string }>(
      `INSERT INTO hookline_deliveries (id, webhook, idempotency_key, run_id, event_id, event_type, customer_id, context, max_attempts,
                                        policy, ordering_key, next_at, status, reason)
       SELECT x.id, x.webhook, x.idempotency_key, x.run_id, x.event_id, x.event_type, x.customer_id, x.context, x.max_attempts,
              x.policy, x.ordering_key,
              now() + x.delay_ms * interval '1 millisecond',
              CASE WHEN h.run_id IS NULL THEN 'pending' ELSE 'halted' END,
              CASE WHEN h.run_id IS NULL THEN NULL ELSE 'run halted: ' || h.reason END
       FROM jsonb_to_recordset($1::text::jsonb) AS x(ord int, id uuid, webhook text, idempotency_key text, run_id text, event_id text,
                                               event_type text, customer_id text, context jsonb, max_attempts int, delay_ms int, parent uuid, parent_status text,
                                               policy text, ordering_key text)
       LEFT JOIN hookline_halted_runs h ON h.webhook = x.webhook AND h.run_id = x.run_id
       WHERE x.parent IS NULL OR EXISTS (SELECT 1 FROM hookline_deliveries p WHERE p.id = x.parent AND p.status = x.parent_status)
       ORDER BY x.ord
       ON CONFLICT (idempotency_key) DO NOTHING
       RETURNING id`,
      [JSON.stringify(rows)],
    );
    return inserted.map((r) => r.id);
  }

  async claim(owner: string, limit: number, leaseMs: number): Promise<ClaimedDelivery[]> {
    return this.lease(
      "claim deliveries",
      // An ordered stream moves one delivery at a time: one whose stream has an earlier delivery pending or
      // in flight (the head, even while it waits for a retry) is not due yet.
      `WITH due AS (
         SELECT id FROM hookline_deliveries d WHERE status = 'pending' AND next_at <= now()
            AND NOT EXISTS (SELECT 1 FROM hookline_webhook_health w WHERE w.webhook = d.webhook AND w.paused_at IS NOT NULL)
            AND (ordering_key IS NULL OR NOT EXISTS (
                  SELECT 1 FROM hookline_deliveries e
                   WHERE e.webhook = d.webhook AND e.ordering_key = d.ordering_key AND e.seq < d.seq
                     AND e.status IN ('pending', 'in_flight')))
          ORDER BY next_at, seq LIMIT $2 FOR UPDATE SKIP LOCKED
       ), expired AS (
         SELECT id FROM hookline_deliveries WHERE status = 'in_flight' AND lease_until < now()
          ORDER BY lease_until LIMIT $2 FOR UPDATE SKIP LOCKED
       ), picked AS (SELECT id FROM expired UNION ALL SELECT id FROM due LIMIT $2)`,
      [owner, limit, leaseMs],
    );
  }

  async claimBatch(
    owner: string,
    webhook: string,
    limit: number,
    leaseMs: number,
  ): Promise<ClaimedDelivery[]> {
    return this.lease(
      "claim a batch",
      `WITH picked AS (
         SELECT id FROM hookline_deliveries
          WHERE status = 'pending' AND webhook = $4 AND (next_at <= now() OR attempts = 0)
          ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED
       )`,
      [owner, limit, leaseMs, webhook],
    );
  }

  /**
   * Leases the rows a `picked` CTE selects ($1 owner, $2 limit, $3 lease ms). A claim need not survive a
   * server crash: a lost claim leaves the delivery claimable again, the same at-least-once path as a
   * dead worker's lease. Skipping the WAL flush takes the claim off the commit-latency path (the claim
   * loop is serial); enqueues and results stay fully durable.
   */
  private async lease(what: string, picked: string, params: unknown[]): Promise<ClaimedDelivery[]> {
    if ((params[1] as number) <= 0) return [];
    const owner = params[0] as string;
    const rows = await this.run(what, () =>
      this.db.relaxed((tx) =>
        tx.query<Row>(
          `${picked}
           UPDATE hookline_deliveries d
              SET status = 'in_flight', lease_owner = $1, lease_until = now() + $3 * interval '1 millisecond',
                  attempts = d.attempts + 1, updated_at = now()
             FROM picked WHERE d.id = picked.id
           RETURNING d.id, d.webhook, d.idempotency_key, d.run_id, d.event_id, d.event_type, d.customer_id,
                     d.context::text AS context, d.attempts, d.max_attempts, d.policy`,
          params,
        ),
      ),
    );
    return rows.map((r: Row) => ({
      id: r.id,
      webhook: r.webhook,
      idempotencyKey: r.idempotency_key,
      runId: r.run_id,
      eventId: r.event_id,
      eventType: r.event_type,
      customerId: r.customer_id ?? undefined,
      context: JSON.parse(r.context),
      attempts: r.attempts,
      maxAttempts: r.max_attempts,
      leaseOwner: owner,
      policy: r.policy ?? undefined,
    }));
  }

  async complete(results: DeliveryResult[], options: CompleteOptions = {}): Promise<EndedRun[]> {
    if (results.length === 0) return [];
    const aborted: EndedRun[] = [];
    const outcomes = results.map((r) => ({
      id: r.deliveryId,
      lease_owner: r.leaseOwner,
      status: r.next.status,
      delay_ms: r.next.status === "pending" ? Math.max(0, Math.round(r.next.delayMs)) : 0,
      reason: r.next.status === "succeeded" ? null : r.next.reason,
      last_status: r.attempt.status ?? null,
    }));
    const attempts = results.map((r) => ({
      delivery_id: r.deliveryId,
      number: r.attempt.number,
      started_at: r.attempt.startedAt,
      duration_ms: Math.round(r.attempt.durationMs),
      request: r.attempt.request,
      status: r.attempt.status ?? null,
      response_headers: r.attempt.responseHeaders ?? null,
      response_body: r.attempt.responseBody ?? null,
      response_truncated: r.attempt.responseTruncated ?? false,
      error_class: r.attempt.errorClass ?? null,
      error: r.attempt.error ?? null,
      outcome: r.attempt.outcome,
    }));
    const halts = results
      .filter((r) => r.next.status === "halted")
      .map((r) => ({ webhook: r.webhook, run_id: r.runId, reason: (r.next as { reason: string }).reason }));
    // Deliveries ended unsent with their run are read back only when someone will look at them.
    const wantEnded = Boolean(options.ended) || this.observers.length > 0;
    const committed: Array<() => void> = [];
    await this.run("record attempts", () =>
      this.db.transaction(async (tx) => {
        const ended: EndedDelivery[] = [];
        if (halts.length > 0) ended.push(...(await this.haltRuns(tx, halts, wantEnded)));
        const applied = await tx.query<{ id: string; status: string }>(
          `WITH x AS (
             SELECT * FROM jsonb_to_recordset($1::text::jsonb)
               AS x(id uuid, lease_owner text, status text, delay_ms int, reason text, last_status int)
           ), upd AS (
             UPDATE hookline_deliveries d SET
               status = CASE WHEN x.status = 'pending' AND EXISTS (
                          SELECT 1 FROM hookline_halted_runs h WHERE h.webhook = d.webhook AND h.run_id = d.run_id)
                        THEN 'halted' ELSE x.status END,
               next_at = CASE WHEN x.status = 'pending' THEN now() + x.delay_ms * interval '1 millisecond' ELSE d.next_at END,
               lease_owner = NULL, lease_until = NULL, reason = x.reason, last_status = x.last_status,
               updated_at = now()
             FROM x WHERE d.id = x.id AND d.lease_owner = x.lease_owner AND d.status = 'in_flight'
             RETURNING d.id, d.status
           ), ins AS (
             INSERT INTO hookline_attempts (delivery_id, number, started_at, duration_ms, request, status, response_headers,
                                            response_body, response_truncated, error_class, error, outcome)
             SELECT a.delivery_id, a.number, a.started_at, a.duration_ms, a.request, a.status, a.response_headers,
                    a.response_body, a.response_truncated, a.error_class, a.error, a.outcome
               FROM jsonb_to_recordset($2::text::jsonb) AS a(delivery_id uuid, number int, started_at timestamptz, duration_ms int,
                    request jsonb, status int, response_headers jsonb, response_body text, response_truncated boolean,
                    error_class text, error text, outcome text)
              WHERE a.delivery_id IN (SELECT id FROM upd)
             ON CONFLICT (delivery_id, number) DO NOTHING
           )
           SELECT id::text AS id, status FROM upd`,
          [JSON.stringify(outcomes), JSON.stringify(attempts)],
        );
        // A retry whose run was halted meanwhile ended halted: it goes the way of its run's other deliveries.
        if (wantEnded) {
          const halted = new Set(applied.filter((a) => a.status === "halted").map((a) => a.id));
          for (const r of results)
            if (r.next.status === "pending" && r.delivery && halted.has(r.deliveryId))
              ended.push({
                ...r.delivery,
                status: "halted",
                reason: `run halted while retrying: ${r.next.reason}`,
              });
        }
        await tx.query(
          "DELETE FROM hookline_policy_slots WHERE holder IN (SELECT value::uuid FROM jsonb_array_elements_text($1::text::jsonb))",
          [JSON.stringify(results.map((r) => r.deliveryId))],
        );
        // Follow-ups (next steps, the fail branch): written with the outcome they follow, or not at all.
        const parents = new Map<string, { id: string; status: string }>();
        for (const r of results)
          for (const f of r.followUps ?? []) parents.set(f.id, { id: r.deliveryId, status: r.next.status });
        const follow = results.flatMap((r) => r.followUps ?? []);
        if (follow.length > 0) await this.insert(tx, follow, parents);
        if (options.abortAfter) {
          const abort = await this.countFailures(tx, results, options.abortAfter, wantEnded);
          aborted.push(...abort.runs);
          ended.push(...abort.ended);
        }
        if (options.pauseAfterMs)
          aborted.push(...(await this.trackHealth(tx, results, options.pauseAfterMs)));
        if (ended.length > 0 && options.ended) {
          const branch = options.ended(ended);
          if (branch.length > 0) await this.insert(tx, branch);
        }
        if (this.observers.length > 0) await this.notify(tx, results, applied, ended, committed);
      }),
    );
    for (const fn of committed) {
      try {
        fn();
      } catch (e) {
        this.observerContext?.logger.log("error", "an observer's after-commit step failed", {
          error: (e as Error).message,
        });
      }
    }
    return aborted;
  }

  /**
   * Gives observers the outcomes applied now (a result from a lost lease is not) and the deliveries
   * ended with their run. Each observer runs under a savepoint: one that fails is undone and logged,
   * and the outcomes are recorded all the same.
   */
  private async notify(
    tx: SqlExecutor,
    results: DeliveryResult[],
    applied: Array<{ id: string; status: string }>,
    ended: EndedDelivery[],
    committed: Array<() => void>,
  ): Promise<void> {
    const status = new Map(applied.map((a) => [a.id, a.status as DeliveryOutcome["status"]]));
    const seen: DeliveryOutcome[] = [];
    const ids = new Set<string>();
    for (const r of results) {
      const s = status.get(r.deliveryId);
      if (s === undefined || !r.delivery) continue;
      ids.add(r.deliveryId);
      seen.push({
        delivery: r.delivery,
        status: s,
        reason: r.next.status === "succeeded" ? undefined : r.next.reason,
        attempt: r.attempt,
      });
    }
    for (const e of ended) {
      if (ids.has(e.id)) continue;
      const { status: s, reason, ...delivery } = e;
      seen.push({ delivery, status: s, reason });
    }
    if (seen.length === 0) return;
    for (const observer of this.observers) {
      const pending: Array<() => void> = [];
      const context: ObserverContext = { ...this.observerContext!, afterCommit: (fn) => pending.push(fn) };
      const wanted = observer.accepts ? seen.filter((o) => observer.accepts!(o, context)) : seen;
      if (wanted.length === 0) continue;
      await tx.query("SAVEPOINT hookline_observer");
      try {
        await observer.observe(tx, wanted, context);
        await tx.query("RELEASE SAVEPOINT hookline_observer");
        committed.push(...pending);
      } catch (e) {
        await tx.query("ROLLBACK TO SAVEPOINT hookline_observer");
        context.logger.log("error", "a delivery observer failed; its writes for these outcomes are undone", {
          observer: observer.name,
          outcomes: wanted.length,
          error: (e as Error).message,
        });
      }
    }
  }

  /**
   * Counts unrecoverable outcomes per webhook run; a run that reaches `threshold` is aborted: its pending
   * deliveries are marked aborted with the reason, and it takes no new ones (as a halted run).
   */
  private async countFailures(
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
      `UPDATE hookline_deliveries d SET status = 'aborted', reason = x.reason, updated_at = now()
         FROM jsonb_to_recordset($1::text::jsonb) AS x(webhook text, run_id text, reason text)
        WHERE d.status = 'pending' AND d.webhook = x.webhook AND d.run_id = x.run_id
        ${wantEnded ? `RETURNING ${ENDED_COLUMNS}` : ""}`,
      [json],
    );
    return { runs: aborts, ended: wantEnded ? rows.map(toEnded) : [] };
  }

  /**
   * An endpoint that keeps failing: a webhook's first failure since its last success starts the clock;
   * a success stops it; failing longer than `pauseAfterMs` pauses the webhook (its deliveries wait).
   */
  private async trackHealth(tx: SqlExecutor, results: DeliveryResult[], pauseAfterMs: number) {
    const ok = new Map<string, boolean>();
    for (const r of results) ok.set(r.webhook, (ok.get(r.webhook) ?? false) || r.next.status === "succeeded");
    const rows = [...ok].map(([webhook, succeeded]) => ({ webhook, succeeded }));
    await tx.query(
      `INSERT INTO hookline_webhook_health (webhook, failing_since)
       SELECT webhook, CASE WHEN succeeded THEN NULL ELSE now() END
         FROM jsonb_to_recordset($1::text::jsonb) AS x(webhook text, succeeded boolean)
       ON CONFLICT (webhook) DO UPDATE SET failing_since =
         CASE WHEN EXCLUDED.failing_since IS NULL THEN NULL
              ELSE coalesce(hookline_webhook_health.failing_since, EXCLUDED.failing_since) END`,
      [JSON.stringify(rows)],
    );
    const paused = await tx.query<{ webhook: string; reason: string }>(
      `UPDATE hookline_webhook_health
          SET paused_at = now(),
              reason = 'paused: failing continuously since ' || to_char(failing_since AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        WHERE paused_at IS NULL AND failing_since < now() - $2 * interval '1 millisecond'
          AND webhook IN (SELECT value FROM jsonb_array_elements_text($1::text::jsonb))
        RETURNING webhook, reason`,
      [JSON.stringify([...ok.keys()]), pauseAfterMs],
    );
    return paused.map((p) => ({ webhook: p.webhook, reason: p.reason, paused: true }));
  }

  async resumeWebhook(webhook: string): Promise<boolean> {
    const rows = await this.run("resume a webhook", () =>
      this.db.query(
        `UPDATE hookline_webhook_health SET paused_at = NULL, failing_since = NULL, reason = NULL
          WHERE webhook = $1 AND paused_at IS NOT NULL RETURNING webhook`,
        [webhook],
      ),
    );
    return rows.length > 0;
  }

  async pausedWebhooks(): Promise<Array<{ webhook: string; pausedAt: string; reason: string }>> {
    const rows = await this.run("list paused webhooks", () =>
      this.db.query<{ webhook: string; paused_at: unknown; reason: string }>(
        "SELECT webhook, paused_at, reason FROM hookline_webhook_health WHERE paused_at IS NOT NULL ORDER BY webhook",
      ),
    );
    return rows.map((r) => ({ webhook: r.webhook, pausedAt: iso(r.paused_at)!, reason: r.reason }));
  }

  private async haltRuns(
    tx: SqlExecutor,
    halts: { webhook: string; run_id: string; reason: string }[],
    wantEnded: boolean,
  ): Promise<EndedDelivery[]> {
    const json = JSON.stringify(halts);
    await tx.query(
      `INSERT INTO hookline_halted_runs (webhook, run_id, reason)
       SELECT DISTINCT ON (webhook, run_id) webhook, run_id, reason
         FROM jsonb_to_recordset($1::text::jsonb) AS x(webhook text, run_id text, reason text)
       ON CONFLICT DO NOTHING`,
      [json],
    );
    const rows = await tx.query<Row>(
      `UPDATE hookline_deliveries d SET status = 'halted', reason = 'run halted: ' || h.reason, updated_at = now()
         FROM hookline_halted_runs h
        WHERE d.status = 'pending' AND h.webhook = d.webhook AND h.run_id = d.run_id
          AND (h.webhook, h.run_id) IN (SELECT webhook, run_id FROM jsonb_to_recordset($1::text::jsonb) AS x(webhook text, run_id text))
        ${wantEnded ? `RETURNING ${ENDED_COLUMNS}` : ""}`,
      [json],
    );
    return wantEnded ? rows.map(toEnded) : [];
  }

  async release(owner: string, ids: string[], delayMs = 0): Promise<void> {
    if (ids.length === 0) return;
    const list = JSON.stringify(ids);
    await this.run("release leases", () =>
      this.db.transaction(async (tx) => {
        await tx.query(
          `UPDATE hookline_deliveries SET status = 'pending', attempts = GREATEST(attempts - 1, 0), lease_owner = NULL,
                  lease_until = NULL, next_at = now() + $3 * interval '1 millisecond', updated_at = now()
            WHERE lease_owner = $1 AND status = 'in_flight' AND id = ANY(SELECT value::uuid FROM jsonb_array_elements_text($2::text::jsonb))`,
          [owner, list, delayMs],
        );
        await tx.query(
          "DELETE FROM hookline_policy_slots WHERE owner = $1 AND holder IN (SELECT value::uuid FROM jsonb_array_elements_text($2::text::jsonb))",
          [owner, list],
        );
      }),
    );
  }

  async syncPolicies(policies: PolicyWrite[]): Promise<void> {
    if (policies.length === 0) return;
    await this.run("sync throughput policies", () =>
      this.db.transaction(async (tx) => {
        for (const group of byRateGiven(policies))
          await upsertPolicies(tx, group, "config", "WHERE hookline_policies.source = 'config'");
      }),
    );
  }

  async setPolicy(policy: PolicyWrite): Promise<void> {
    await this.run("set a throughput policy", () => upsertPolicies(this.db, [policy], "api"));
  }

  async deletePolicy(name: string): Promise<boolean> {
    const rows = await this.run("delete a throughput policy", () =>
      this.db.query("DELETE FROM hookline_policies WHERE name = $1 RETURNING name", [name]),
    );
    return rows.length > 0;
  }

  async listPolicies(): Promise<Array<PolicyLimits & { inUse: number }>> {
    const rows = await this.run("list throughput policies", () =>
      this.db.query<{ name: string; concurrency: number; rate: number | null; in_use: string | number }>(
        `SELECT p.name, p.concurrency, p.rate,
                (SELECT count(*) FROM hookline_policy_slots s WHERE s.policy = p.name AND s.lease_until > now()) AS in_use
           FROM hookline_policies p ORDER BY p.name`,
      ),
    );
    return rows.map((r) => ({
      name: r.name,
      concurrency: r.concurrency,
      ...(r.rate === null ? {} : { rate: Number(r.rate) }),
      inUse: Number(r.in_use),
    }));
  }

  /**
   * Takes slots under the policy's advisory lock (one taker per policy at a time, across processes):
   * as many as its concurrency leaves free and, with a rate, as many whole tokens as its bucket holds.
   * The bucket refills at `rate` per second up to one second's worth (at least 1) and is charged for
   * each slot taken.
   */
  async acquireSlots(policy: string, owner: string, holders: string[], leaseMs: number): Promise<string[]> {
    if (holders.length === 0) return [];
    const rows = await this.run("take throughput slots", () =>
      this.db.transaction(async (tx) => {
        await tx.query("SELECT pg_advisory_xact_lock(hashtext('hookline.policy:' || $1))", [policy]);
        const taken = await tx.query<{ holder: string }>(
          `WITH p AS (
             SELECT concurrency, rate,
                    CASE WHEN rate IS NULL THEN NULL ELSE
                      LEAST(GREATEST(rate, 1), tokens + rate * GREATEST(extract(epoch FROM clock_timestamp() - refilled_at), 0))
                    END AS bucket
               FROM hookline_policies WHERE name = $1
           ), free AS (
             SELECT LEAST(
                      GREATEST(coalesce((SELECT concurrency FROM p), 0)
                        - (SELECT count(*) FROM hookline_policy_slots WHERE policy = $1 AND lease_until > now()), 0),
                      coalesce(floor((SELECT bucket FROM p)), 2147483647)) AS n
           ), gone AS (
             DELETE FROM hookline_policy_slots WHERE policy = $1 AND lease_until <= now()
           )
           INSERT INTO hookline_policy_slots (policy, holder, owner, lease_until)
           SELECT $1, h.value::uuid, $2, now() + $4 * interval '1 millisecond'
             FROM jsonb_array_elements_text($3::text::jsonb) WITH ORDINALITY AS h(value, ord), free
            WHERE h.ord <= free.n
           ON CONFLICT (policy, holder) DO UPDATE SET owner = EXCLUDED.owner, lease_until = EXCLUDED.lease_until
           RETURNING holder`,
          [policy, owner, JSON.stringify(holders), leaseMs],
        );
        // A rated policy's bucket: what it held now, less what was taken (also when nothing was).
        await tx.query(
          `UPDATE hookline_policies SET
             tokens = LEAST(GREATEST(rate, 1), tokens + rate * GREATEST(extract(epoch FROM clock_timestamp() - refilled_at), 0)) - $2,
             refilled_at = clock_timestamp()
           WHERE name = $1 AND rate IS NOT NULL`,
          [policy, taken.length],
        );
        return taken;
      }),
    );
    return rows.map((r) => r.holder);
  }

  async getDelivery(id: string): Promise<Delivery | undefined> {
    if (!isUuid(id)) return undefined;
    const rows = await this.run("read a delivery", () =>
      this.db.query(`SELECT ${DELIVERY_COLUMNS} FROM hookline_deliveries WHERE id = $1`, [id]),
    );
    return rows[0] ? toDelivery(rows[0]) : undefined;
  }

  async listDeliveries(filter: DeliveryFilter): Promise<Delivery[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace("?", `$${params.length}`));
    };
    if (filter.webhook) add("webhook = ?", filter.webhook);
    if (filter.status) add("status = ?", filter.status);
    if (filter.since) add("created_at >= ?::timestamptz", filter.since);
    if (filter.until) add("created_at < ?::timestamptz", filter.until);
    if (filter.before && isUuid(filter.before))
      add("seq < (SELECT seq FROM hookline_deliveries WHERE id = ?)", filter.before);
    params.push(Math.min(Math.max(filter.limit ?? 100, 1), 1000));
    const rows = await this.run("list deliveries", () =>
      this.db.query(
        `SELECT ${DELIVERY_COLUMNS} FROM hookline_deliveries ${where.length ? `WHERE ${where.join(" AND ")}` : ""}
         ORDER BY seq DESC LIMIT $${params.length}`,
        params,
      ),
    );
    return rows.map(toDelivery);
  }

  async listAttempts(deliveryId: string): Promise<AttemptRecord[]> {
    if (!isUuid(deliveryId)) return [];
    const rows = await this.run("list attempts", () =>
      this.db.query("SELECT * FROM hookline_attempts WHERE delivery_id = $1 ORDER BY number", [deliveryId]),
    );
    return rows.map(toAttempt);
  }

  async retryDelivery(id: string, extraAttempts: number): Promise<Delivery | undefined> {
    if (!isUuid(id)) return undefined;
    const rows = await this.run("retry a delivery", () =>
      this.db.query(
        // A manual retry is a run of its own: a halt of the run it came from does not hold it back.
        `UPDATE hookline_deliveries SET status = 'pending', next_at = now(), max_attempts = attempts + $2,
                reason = NULL, run_id = $3, updated_at = now()
          WHERE id = $1 AND status IN ('failed', 'halted', 'succeeded')
        RETURNING ${DELIVERY_COLUMNS}`,
        [id, extraAttempts, `retry_${crypto.randomUUID()}`],
      ),
    );
    return rows[0] ? toDelivery(rows[0]) : undefined;
  }

  async nextDueAt(): Promise<string | undefined> {
    const rows = await this.run("find the next due delivery", () =>
      this.db.query<{ at: unknown }>(
        `SELECT LEAST(
           (SELECT min(next_at) FROM hookline_deliveries WHERE status = 'pending'),
           (SELECT min(lease_until) FROM hookline_deliveries WHERE status = 'in_flight')) AS at`,
      ),
    );
    return iso(rows[0]?.at);
  }

  async close(): Promise<void> {
    await this.db.close();
  }
}

/** Policies whose rate is given (a number or null) apart from those that leave it as stored. */
const byRateGiven = (policies: PolicyWrite[]): PolicyWrite[][] =>
  [policies.filter((p) => p.rate !== undefined), policies.filter((p) => p.rate === undefined)].filter(
    (g) => g.length > 0,
  );

/**
 * Inserts or updates policies in one statement. All of one group either give their rate (a number, or
 * null for none) or leave it out, and then an existing row keeps its rate: a writer that does not know
 * a policy's rate never clears it.
 */
async function upsertPolicies(
  tx: SqlExecutor,
  policies: PolicyWrite[],
  source: "config" | "api",
  onlyIf = "",
): Promise<void> {
  const keepRate = policies[0]!.rate === undefined;
  const rows = policies.map((p) => ({ name: p.name, concurrency: p.concurrency, rate: p.rate ?? null }));
  await tx.query(
    `INSERT INTO hookline_policies (name, concurrency, rate, source, updated_at)
     SELECT name, concurrency, rate, $2::text, clock_timestamp()
       FROM jsonb_to_recordset($1::text::jsonb) AS x(name text, concurrency int, rate double precision)
     ON CONFLICT (name) DO UPDATE SET concurrency = EXCLUDED.concurrency,
       ${keepRate ? "" : "rate = EXCLUDED.rate,"} source = EXCLUDED.source, updated_at = EXCLUDED.updated_at
     ${onlyIf}`,
    [JSON.stringify(rows), source],
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const isUuid = (s: string) => UUID.test(s);
