/** @jsxImportSource hono/jsx */
import type { SqlExecutor } from "../contracts/sql.ts";
import type { AdminApp } from "../http/admin-app.ts";
import { OUTCOMES, type OutcomeCounts, readGauges, readOutcomes } from "../store/gauges.ts";
import { ago, BASE, seconds, tone } from "./layout.tsx";

/** How often the overview's live part is fetched again. */
export const REFRESH_SECONDS = 5;

/** What the overview shows, read from the store in one go. */
export interface OverviewData {
  /** Deliveries ended in the last hour and the last day, by outcome (exact). */
  lastHour: OutcomeCounts;
  lastDay: OutcomeCounts;
  backlog: { total: number; due: number; scheduled: number; inFlight: number; oldestDueAge: number };
  runs: Awaited<ReturnType<AdminApp["store"]["listRuns"]>>;
  paused: Awaited<ReturnType<AdminApp["store"]["pausedWebhooks"]>>;
  failures: Awaited<ReturnType<AdminApp["store"]["listDeliveries"]>>;
}

/**
 * Reads the overview: the deliveries ended in the last hour and the last day by outcome (`readOutcomes`:
 * a day's per-minute counts, whatever the number of deliveries),
 * the queue (the metrics' gauges: each state through its partial index), runs in progress, paused
 * webhooks and the latest failures.
 *
 * @example const data = await readOverview(app, host.sql);
 */
export async function readOverview(app: AdminApp, sql: SqlExecutor): Promise<OverviewData> {
  const [outcomes, gauges, runs, paused, failures] = await Promise.all([
    readOutcomes(sql),
    readGauges(sql),
    app.store.listRuns({ limit: 50 }),
    app.store.pausedWebhooks(),
    app.store.listDeliveries({ status: "failed", limit: 10 }),
  ]);
  const backlog = { total: 0, due: 0, scheduled: 0, inFlight: 0, oldestDueAge: 0 };
  for (const q of gauges.queue) {
    backlog.due += q.due;
    backlog.scheduled += q.scheduled;
    backlog.inFlight += q.inFlight;
    backlog.total += q.due + q.scheduled + q.waiting + q.paused + q.inFlight;
    backlog.oldestDueAge = Math.max(backlog.oldestDueAge, q.oldestDueAge);
  }
  return {
    lastHour: outcomes.hour,
    lastDay: outcomes.day,
    backlog,
    runs: runs.filter((r) => r.state === "running"),
    paused,
    failures,
  };
}

/** Ended deliveries by outcome over a window: one card. */
function Outcomes(props: { id: string; title: string; counts: OutcomeCounts; window: string }) {
  return (
    <section class="card" aria-labelledby={props.id} data-window={props.window}>
      <h2 id={props.id}>{props.title}</h2>
      <dl class="counts">
        {OUTCOMES.map((s) => (
          <>
            <dt>{s}</dt>
            <dd class={props.counts[s] > 0 ? tone(s) : undefined} data-outcome={s}>
              {props.counts[s].toLocaleString("en")}
            </dd>
          </>
        ))}
      </dl>
    </section>
  );
}

/** The overview's cards: what `GET /console/overview/live` answers and the page embeds. */
export function OverviewCards(props: { data: OverviewData; now?: number }) {
  const { lastHour, lastDay, backlog, runs, paused, failures } = props.data;
  const now = props.now ?? Date.now();
  return (
    <div class="grid">
      <Outcomes id="h-hour" title="Last hour" counts={lastHour} window="hour" />
      <Outcomes id="h-day" title="Last day" counts={lastDay} window="day" />
      <section class="card" aria-labelledby="h-backlog">
        <h2 id="h-backlog">Backlog</h2>
        <div class="stat" data-backlog>
          {backlog.total}
        </div>
        <p class="muted">
          {backlog.due} due, {backlog.scheduled} scheduled, {backlog.inFlight} in flight
          {backlog.oldestDueAge > 0 ? `; oldest due ${seconds(backlog.oldestDueAge)}` : ""}
        </p>
      </section>
      <section class="card" aria-labelledby="h-paused">
        <h2 id="h-paused">Paused webhooks</h2>
        {paused.length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <ul>
            {paused.map((p) => (
              <li>
                <strong>{p.webhook}</strong> <span class="muted">{ago(p.pausedAt, now)}</span>
                <br />
                <span class="muted">{p.reason}</span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <section class="card wide" aria-labelledby="h-runs">
        <h2 id="h-runs">Runs in progress</h2>
        {runs.length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Run</th>
                <th>Kind</th>
                <th>Progress</th>
                <th class="hide-narrow">Rate</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => {
                const done = r.counts.total - r.counts.queued;
                return (
                  <tr>
                    <td>
                      <a href={`${BASE}/deliveries?run=${encodeURIComponent(r.id)}`}>{r.id.slice(0, 12)}</a>
                      <div class="muted">{ago(r.startedAt, now)}</div>
                    </td>
                    <td>{r.kind}</td>
                    <td>
                      <progress max={Math.max(1, r.counts.total)} value={done} aria-label={`run ${r.id}`} />
                      <div class="muted">
                        {done}/{r.counts.total} · ok {r.counts.succeeded} · failed{" "}
                        {r.counts.failed + r.counts.halted}
                      </div>
                    </td>
                    <td class="hide-narrow">
                      {r.perSecond.toFixed(1)}/s
                      {r.etaSeconds !== undefined ? ` · ${seconds(r.etaSeconds)} left` : ""}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
      </section>
      <section class="card wide" aria-labelledby="h-failures">
        <h2 id="h-failures">Recent failures</h2>
        {failures.length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <table>
            <thead>
              <tr>
                <th>Delivery</th>
                <th>Webhook</th>
                <th>Reason</th>
                <th class="hide-narrow">When</th>
              </tr>
            </thead>
            <tbody>
              {failures.map((d) => (
                <tr>
                  <td>
                    <a href={`${BASE}/deliveries/${encodeURIComponent(d.id)}`}>{d.id.slice(0, 8)}</a>
                  </td>
                  <td>{d.webhook}</td>
                  <td>{d.reason ?? ""}</td>
                  <td class="hide-narrow">{ago(d.updatedAt, now)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </div>
  );
}

/** The overview page: its cards, fetched again every `REFRESH_SECONDS` by htmx. */
export function OverviewPage(props: { data: OverviewData }) {
  return (
    <>
      <h1>Overview</h1>
      <div
        id="live"
        hx-get={`${BASE}/overview/live`}
        hx-trigger={`every ${REFRESH_SECONDS}s`}
        hx-swap="innerHTML"
        aria-live="polite"
      >
        <OverviewCards data={props.data} />
      </div>
    </>
  );
}
