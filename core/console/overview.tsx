/** @jsxImportSource hono/jsx */
import type { SqlExecutor } from "../contracts/sql.ts";
import type { AdminApp } from "../http/admin-app.ts";
import { readGauges } from "../store/gauges.ts";
import { ago, BASE, seconds, tone } from "./layout.tsx";

/** Deliveries an hour's count reads at most per outcome: past it the page says "1000+". */
export const HOUR_CAP = 1000;
/** How often the overview's live part is fetched again. */
export const REFRESH_SECONDS = 5;

const ENDED = ["succeeded", "failed", "halted", "aborted"] as const;

/** What the overview shows, read from the store in one go. */
export interface OverviewData {
  lastHour: Record<(typeof ENDED)[number], number>;
  backlog: { total: number; due: number; scheduled: number; inFlight: number; oldestDueAge: number };
  runs: Awaited<ReturnType<AdminApp["store"]["listRuns"]>>;
  paused: Awaited<ReturnType<AdminApp["store"]["pausedWebhooks"]>>;
  failures: Awaited<ReturnType<AdminApp["store"]["listDeliveries"]>>;
}

/**
 * Reads the overview: the last hour's ended deliveries by outcome (each counted up to `HOUR_CAP`),
 * the queue (the metrics' gauges: each state through its partial index), runs in progress, paused
 * webhooks and the latest failures.
 *
 * @example const data = await readOverview(app, host.sql);
 */
export async function readOverview(app: AdminApp, sql: SqlExecutor, now = Date.now()): Promise<OverviewData> {
  const since = new Date(now - 3_600_000).toISOString();
  const [counts, gauges, runs, paused, failures] = await Promise.all([
    Promise.all(ENDED.map((status) => app.store.listDeliveries({ status, since, limit: HOUR_CAP }))),
    readGauges(sql),
    app.store.listRuns({ limit: 50 }),
    app.store.pausedWebhooks(),
    app.store.listDeliveries({ status: "failed", limit: 10 }),
  ]);
  const lastHour = Object.fromEntries(
    ENDED.map((s, i) => [s, counts[i]?.length ?? 0]),
  ) as OverviewData["lastHour"];
  const backlog = { total: 0, due: 0, scheduled: 0, inFlight: 0, oldestDueAge: 0 };
  for (const q of gauges.queue) {
    backlog.due += q.due;
    backlog.scheduled += q.scheduled;
    backlog.inFlight += q.inFlight;
    backlog.total += q.due + q.scheduled + q.waiting + q.paused + q.inFlight;
    backlog.oldestDueAge = Math.max(backlog.oldestDueAge, q.oldestDueAge);
  }
  return { lastHour, backlog, runs: runs.filter((r) => r.state === "running"), paused, failures };
}

const count = (n: number) => (n >= HOUR_CAP ? `${HOUR_CAP}+` : String(n));

/** The overview's cards: what `GET /console/overview/live` answers and the page embeds. */
export function OverviewCards(props: { data: OverviewData; now?: number }) {
  const { lastHour, backlog, runs, paused, failures } = props.data;
  const now = props.now ?? Date.now();
  return (
    <div class="grid">
      <section class="card" aria-labelledby="h-hour">
        <h2 id="h-hour">Last hour</h2>
        <dl class="counts">
          {ENDED.map((s) => (
            <>
              <dt>{s}</dt>
              <dd class={lastHour[s] > 0 ? tone(s) : undefined} data-outcome={s}>
                {count(lastHour[s])}
              </dd>
            </>
          ))}
        </dl>
      </section>
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
