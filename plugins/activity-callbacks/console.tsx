/** @jsxImportSource hono/jsx */
import type { ConsoleSection, PluginHost } from "../../core/plugin/index.ts";
import {
  type AttemptSummary,
  listSubscribers,
  type Subscriber,
  type SubscriberQueue,
  subscriberQueue,
} from "./repository.ts";
import { webhookOf } from "./webhooks.ts";

/** How often the page fetches the subscribers' cards again. */
const REFRESH_SECONDS = 5;

/** A span of seconds in words ("42 s", "7 min", "3 h"). */
function span(s: number): string {
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  if (s < 86_400) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

const At = (props: { iso: string; now: number }) => {
  const s = (Date.parse(props.iso) - props.now) / 1000;
  return (
    <time datetime={props.iso} title={props.iso}>
      {s > 0 ? `in ${span(s)}` : `${span(-s)} ago`}
    </time>
  );
};

/** When the head batch goes out next, in words. */
function NextAttempt(props: { head: NonNullable<SubscriberQueue["head"]>; now: number }) {
  const { head } = props;
  if (head.status === "in_flight") return <span class="warn">sending now</span>;
  if (head.status === "paused") return <span class="bad">paused (its webhook is paused)</span>;
  if (head.status === "waiting") return <span class="warn">waiting behind another delivery</span>;
  if (Date.parse(head.nextAt) <= props.now) return <span>due now</span>;
  return <At iso={head.nextAt} now={props.now} />;
}

function Failure(props: { a: AttemptSummary; now: number; host: PluginHost }) {
  const { a } = props;
  const what = a.status !== null ? `HTTP ${a.status}` : (a.errorClass ?? "failed");
  return (
    <>
      <span class="bad">{what}</span>
      {a.error ? `: ${props.host.redactor.redact(a.error)}` : ""} · <At iso={a.startedAt} now={props.now} />
      {a.responseBody ? (
        <pre data-part="response-body">{props.host.redactor.redact(a.responseBody)}</pre>
      ) : null}
    </>
  );
}

/** One subscriber's card: where its callbacks go, its queue, the head batch and the latest failure. */
function SubscriberCard(props: {
  base: string;
  s: Subscriber;
  q: SubscriberQueue;
  now: number;
  host: PluginHost;
}) {
  const { s, q, now, base } = props;
  const head = q.head;
  const sent = head?.lastAttempt?.batchSize;
  return (
    <section class="card" data-subscriber={s.name} aria-label={`subscriber ${s.name}`}>
      <h2>
        {s.name} <span class="tag">{s.source === "config" ? "config" : "API"}</span>
      </h2>
      <p class="muted">
        <code>{props.host.redactor.redact(s.url)}</code>
      </p>
      <dl class="counts">
        <dt>Queue</dt>
        <dd data-part="queued" class={q.queued > 0 ? "warn" : "ok"}>
          {q.queued} {q.queued === 1 ? "activity" : "activities"}
        </dd>
        <dt>Head batch</dt>
        <dd data-part="head">
          {head ? (
            <>
              <a href={`${base}/deliveries/${encodeURIComponent(head.id)}`}>{head.id.slice(0, 8)}</a>
              {sent
                ? ` · ${sent} ${sent === 1 ? "activity" : "activities"} last sent`
                : ` · up to ${Math.min(s.batchSize, q.queued)} activities`}
              {" · queued "}
              <At iso={head.queuedAt} now={now} />
            </>
          ) : (
            "none: nothing waits"
          )}
        </dd>
        {head ? (
          <>
            <dt>Attempts</dt>
            <dd data-part="attempts">{head.attempts}</dd>
            <dt>Next attempt</dt>
            <dd data-part="next">
              <NextAttempt head={head} now={now} />
            </dd>
          </>
        ) : null}
        <dt>Last error</dt>
        <dd data-part="last-error">
          {q.lastError ? <Failure a={q.lastError} now={now} host={props.host} /> : "none"}
        </dd>
        <dt>Statuses</dt>
        <dd>{s.statuses ? s.statuses.join(", ") : "all"}</dd>
      </dl>
      <p>
        <a href={`${base}/deliveries?webhook=${encodeURIComponent(webhookOf(s.name))}`}>Its deliveries →</a>
      </p>
    </section>
  );
}

/** Every subscriber's card (the fragment the page polls). */
export function SubscriberCards(props: {
  base: string;
  list: Array<{ s: Subscriber; q: SubscriberQueue }>;
  now: number;
  host: PluginHost;
}) {
  if (props.list.length === 0)
    return (
      <p class="muted">
        No subscriber: add one under <code>subscribers:</code> in the config file, or with{" "}
        <code>PUT /v1/subscribers/:name</code>.
      </p>
    );
  return (
    <div class="grid">
      {props.list.map(({ s, q }) => (
        <SubscriberCard base={props.base} s={s} q={q} now={props.now} host={props.host} />
      ))}
    </div>
  );
}

/** Every subscriber with its queue (one query per subscriber: they are few). */
async function read(host: PluginHost) {
  const subscribers = await listSubscribers(host.sql);
  return Promise.all(
    subscribers.map(async (s) => ({ s, q: await subscriberQueue(host.sql, webhookOf(s.name)) })),
  );
}

/**
 * The activity-callbacks plugin's console section, "Subscribers" (`/console/subscribers`): each
 * subscriber with its queue depth, the batch at the head of its queue with its next attempt time,
 * and its latest error, fetched again every few seconds (`/console/subscribers/live`). Read-only:
 * subscribers are edited in the config file or through the admin API; a failed head is retried from
 * its delivery's page.
 *
 * @example routes.console = () => subscribersConsole()
 */
export function subscribersConsole(): ConsoleSection[] {
  return [
    {
      path: "subscribers",
      label: "Subscribers",
      order: 70,
      mount(pages, kit) {
        pages.get(
          "/",
          kit.page("The console's activity-status subscribers, with their queues"),
          async (c) => {
            kit.allow(c, "GET", "/v1/subscribers");
            const list = await read(kit.host);
            return c.html(
              <kit.Layout c={c} title="Subscribers" active="subscribers">
                <h1>Subscribers</h1>
                <p class="muted">
                  Activity-status callbacks out: each subscriber's activities go as ordered batches; the batch
                  at the head is retried while the rest wait behind it.
                </p>
                <div
                  id="live"
                  hx-get={`${kit.base}/subscribers/live`}
                  hx-trigger={`every ${REFRESH_SECONDS}s`}
                  hx-swap="innerHTML"
                  aria-live="polite"
                >
                  <SubscriberCards base={kit.base} list={list} now={Date.now()} host={kit.host} />
                </div>
              </kit.Layout>,
            );
          },
        );
        pages.get(
          "/live",
          kit.page("The subscribers' live cards (an HTML fragment htmx polls)"),
          async (c) => {
            kit.allow(c, "GET", "/v1/subscribers");
            return c.html(
              <SubscriberCards
                base={kit.base}
                list={await read(kit.host)}
                now={Date.now()}
                host={kit.host}
              />,
            );
          },
        );
      },
    },
  ];
}
