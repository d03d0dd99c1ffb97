import type { DeliveryResult, EndedDelivery, EndedRun } from "../contracts/delivery.ts";
import type { CompleteOptions } from "../contracts/queue.ts";
import type { SqlDriver, SqlExecutor } from "../contracts/sql.ts";
import { insertDeliveries } from "./enqueue.ts";
import type { OutcomeDispatch } from "./observers.ts";
import type { RunSteps } from "./run-health.ts";
import { streamsChanged, streamsOf, withStreams } from "./streams.ts";
import { run } from "./unavailable.ts";

/** What recording outcomes needs: the connection, run health's steps, and the observers. */
export interface OutcomeDeps {
  db: SqlDriver;
  runs: RunSteps;
  observers: OutcomeDispatch;
}

type Applied = { id: string; status: string; webhook: string; ordering_key: string | null };

/**
 * Records attempts and applies their outcomes. The common case — outcomes that halt, abort, pause,
 * follow up, order or notify nothing (no observer accepts them) — is one statement: deliveries updated where the lease still
 * holds, attempts inserted, throughput slots given back, the health of webhooks that succeeded reset.
 * Anything more runs in one transaction with it: halts first, then the outcomes, follow-ups (written
 * with the outcome they follow, or not at all), aborts, health, the fail branch of deliveries ended
 * with their run, observers (each under a savepoint), and the ordered streams' heads settled last.
 *
 * @example const aborted = await recordOutcomes({ db, runs, observers }, results, { abortAfter: 10 });
 */
export async function recordOutcomes(
  deps: OutcomeDeps,
  results: DeliveryResult[],
  options: CompleteOptions = {},
): Promise<EndedRun[]> {
  if (results.length === 0) return [];
  const { db, runs, observers } = deps;
  const halts = results
    .filter((r) => r.next.status === "halted")
    .map((r) => ({ webhook: r.webhook, run_id: r.runId, reason: (r.next as { reason: string }).reason }));
  const follow = results.flatMap((r) => r.followUps ?? []);
  // A delivery skipped for want of consent says nothing of its endpoint's health.
  const failing = results.some((r) => r.next.status !== "succeeded" && r.next.status !== "skipped");
  const alone =
    halts.length === 0 &&
    follow.length === 0 &&
    !observers.wants(results) &&
    !results.some((r) => r.orderingKey !== undefined) &&
    !(failing && (options.abortAfter || options.pauseAfterMs));
  if (alone) {
    await run(db, "record attempts", () => applyOutcomes(db, results, options));
    return [];
  }
  // Deliveries ended unsent with their run are read back only when someone will look at them.
  const wantEnded = Boolean(options.ended) || observers.active;
  const aborted: EndedRun[] = [];
  const committed: Array<() => void> = [];
  await run(db, "record attempts", () =>
    db.transaction((tx) =>
      withStreams(tx, async () => {
        const ended: EndedDelivery[] = [];
        if (halts.length > 0) ended.push(...(await runs.haltRuns(tx, halts, wantEnded)));
        const applied = await applyOutcomes(tx, results, options);
        await streamsChanged(tx, streamsOf(applied));
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
        const parents = new Map<string, { id: string; status: string }>();
        for (const r of results)
          for (const f of r.followUps ?? []) parents.set(f.id, { id: r.deliveryId, status: r.next.status });
        if (follow.length > 0) await insertDeliveries(tx, follow, parents);
        if (options.abortAfter) {
          const abort = await runs.countFailures(tx, results, options.abortAfter, wantEnded);
          aborted.push(...abort.runs);
          ended.push(...abort.ended);
        }
        if (options.pauseAfterMs)
          aborted.push(...(await runs.trackHealth(tx, results, options.pauseAfterMs)));
        if (ended.length > 0 && options.ended) {
          const branch = options.ended(ended);
          if (branch.length > 0) await insertDeliveries(tx, branch);
        }
        if (observers.active) await observers.notify(tx, results, applied, ended, committed);
      }),
    ),
  );
  observers.runCommitted(committed);
  return aborted;
}

/**
 * The one statement every recording makes: each delivery updated where its lease still holds (a
 * retry of a halted run ends halted; an ordered stream's retry goes back to `waiting`, and its head is
 * settled by the caller), its run's tally of ended deliveries added to, its attempt inserted, the slots of throughput policies given back, and the
 * failing clock of webhooks with a success stopped (when health is tracked). Returns the applied
 * outcomes, a stream's retry reported as `pending`.
 */
function applyOutcomes(
  tx: SqlExecutor,
  results: DeliveryResult[],
  options: CompleteOptions,
): Promise<Applied[]> {
  const outcomes = results.map((r) => ({
    id: r.deliveryId,
    lease_owner: r.leaseOwner,
    status: r.next.status,
    delay_ms: r.next.status === "pending" ? Math.max(0, Math.round(r.next.delayMs)) : 0,
    reason: r.next.status === "succeeded" ? undefined : r.next.reason,
    last_status: r.attempt.status,
  }));
  // A skipped delivery was not attempted: its result records no attempt (and takes back the one its claim counted).
  const attempts = results
    .filter((r) => r.next.status !== "skipped")
    .map((r) => ({
      delivery_id: r.deliveryId,
      number: r.attempt.number,
      started_at: r.attempt.startedAt,
      duration_ms: Math.round(r.attempt.durationMs),
      request: r.attempt.request,
      status: r.attempt.status,
      response_headers: r.attempt.responseHeaders,
      response_body: r.attempt.responseBody,
      response_truncated: r.attempt.responseTruncated ?? false,
      error_class: r.attempt.errorClass,
      error: r.attempt.error,
      outcome: r.attempt.outcome,
    }));
  const slots = results.filter((r) => r.policy !== undefined).map((r) => r.deliveryId);
  const healthy = options.pauseAfterMs
    ? [...new Set(results.filter((r) => r.next.status === "succeeded").map((r) => r.webhook))]
    : [];
  return tx.query<Applied>(
    `WITH x AS (
       SELECT * FROM jsonb_to_recordset($1::text::jsonb)
         AS x(id uuid, lease_owner text, status text, delay_ms int, reason text, last_status int)
     ), upd AS (
       UPDATE hookline_delivery_state d SET
         status = CASE WHEN x.status = 'pending' AND EXISTS (
                    SELECT 1 FROM hookline_halted_runs h WHERE h.webhook = d.webhook AND h.run_id = d.run_id)
                  THEN 'halted'
                  WHEN x.status = 'pending' AND d.ordering_key IS NOT NULL THEN 'waiting'
                  ELSE x.status END,
         next_at = CASE WHEN x.status = 'pending' THEN now() + x.delay_ms * interval '1 millisecond' ELSE d.next_at END,
         lease_owner = NULL, lease_until = NULL, reason = x.reason, last_status = x.last_status,
         attempts = CASE WHEN x.status = 'skipped' THEN GREATEST(d.attempts - 1, 0) ELSE d.attempts END,
         updated_at = now()
       FROM x WHERE d.id = x.id AND d.lease_owner = x.lease_owner AND d.status = 'in_flight'
       RETURNING d.id, d.status, d.webhook, d.ordering_key, d.run_id
     ), tally AS (
       INSERT INTO hookline_run_tallies (run_id, webhook, status, n)
       SELECT run_id, webhook, status, count(*) FROM upd
        WHERE status IN ('succeeded', 'failed', 'halted', 'aborted', 'skipped') GROUP BY run_id, webhook, status
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
     ), slots AS (
       -- Only where the outcome applied (its lease held): a late result of a lost lease must not free
       -- the slot the delivery's new holder took.
       DELETE FROM hookline_policy_slots
        WHERE holder IN (SELECT value::uuid FROM jsonb_array_elements_text($3::text::jsonb))
          AND holder IN (SELECT id FROM upd)
     ), healthy AS (
       UPDATE hookline_webhook_health SET failing_since = NULL
        WHERE failing_since IS NOT NULL AND webhook IN (SELECT value FROM jsonb_array_elements_text($4::text::jsonb))
     )
     SELECT id::text AS id, CASE status WHEN 'waiting' THEN 'pending' ELSE status END AS status, webhook, ordering_key
       FROM upd`,
    [JSON.stringify(outcomes), JSON.stringify(attempts), JSON.stringify(slots), JSON.stringify(healthy)],
  );
}
