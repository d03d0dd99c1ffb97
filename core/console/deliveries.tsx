/** @jsxImportSource hono/jsx */
import type { Context } from "hono";
import type { ConsoleSection } from "../contracts/console.ts";
import type { AttemptRecord, Delivery } from "../contracts/delivery.ts";
import { HttpError } from "../errors.ts";
import type { AdminApp } from "../http/admin-app.ts";
import { retryOne } from "../http/runs.ts";
import { mountBulkRetry } from "./bulk-retry.tsx";
import {
  DeliveryFilterQuery,
  filtering,
  listUrl,
  retryFilterOf,
  STATUSES,
  storeFilter,
} from "./delivery-filter.ts";
import { ago, BASE, Csrf, Notices, tone, type Viewer } from "./layout.tsx";

/** Deliveries a page of the list shows. */
export const PAGE_SIZE = 50;

const WINDOW_LABELS = { hour: "last hour", day: "last day", week: "last week" } as const;

/** A form field's value for a UTC instant (`datetime-local` shows no offset: the label says UTC). */
const localValue = (iso?: string) => (iso ? new Date(iso).toISOString().slice(0, 16) : "");

/**
 * The deliveries list: the filter form (webhook, status, run, customer, time), a page newest first,
 * a link to the next page (keyset paging with `before`, as `GET /v1/deliveries` pages) and, for the
 * roles that may bulk-retry, "Retry everything this filter matches".
 */
export function DeliveriesPage(props: {
  filter: DeliveryFilterQuery;
  webhooks: readonly string[];
  deliveries: Delivery[];
  canRetryAll: boolean;
  error?: string;
  now?: number;
}) {
  const { filter, deliveries } = props;
  const now = props.now ?? Date.now();
  const last = deliveries.at(-1);
  const next = deliveries.length === PAGE_SIZE && last ? listUrl({ ...filter, before: last.id }) : undefined;
  const retryable = props.canRetryAll && deliveries.length > 0 && retryFilterOf(filter) !== undefined;
  return (
    <>
      <h1>Deliveries</h1>
      <form class="filters" method="get" action={`${BASE}/deliveries`} aria-label="Filter">
        <label>
          Webhook
          <select name="webhook">
            <option value="">any</option>
            {props.webhooks.map((w) => (
              <option value={w} selected={filter.webhook === w}>
                {w}
              </option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select name="status">
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option value={s} selected={filter.status === s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Customer
          <input name="customer" value={filter.customer ?? ""} placeholder="customer id" size={16} />
        </label>
        <label>
          Created
          <select name="window">
            <option value="">any time</option>
            {(Object.keys(WINDOW_LABELS) as Array<keyof typeof WINDOW_LABELS>).map((w) => (
              <option value={w} selected={filter.window === w}>
                {WINDOW_LABELS[w]}
              </option>
            ))}
          </select>
        </label>
        <label>
          From (UTC)
          <input type="datetime-local" name="from" value={localValue(filter.from)} />
        </label>
        <label>
          To (UTC)
          <input type="datetime-local" name="to" value={localValue(filter.to)} />
        </label>
        <label>
          Run
          <input name="run" value={filter.run ?? ""} placeholder="run id" size={20} />
        </label>
        <button type="submit">Filter</button>
        {filtering(filter) ? <a href={`${BASE}/deliveries`}>Clear</a> : null}
      </form>
      {props.error ? (
        <p class="notice error" role="alert">
          {props.error}
        </p>
      ) : null}
      {retryable ? (
        <form class="actions" method="get" action={`${BASE}/deliveries/retry`}>
          {(["webhook", "status", "run", "customer", "window", "from", "to"] as const).map((k) =>
            filter[k] ? <input type="hidden" name={k} value={filter[k]} /> : null,
          )}
          <button type="submit" class="secondary">
            Retry everything this filter matches…
          </button>
          {filter.status ? null : <span class="hint">(those that failed, halted or aborted)</span>}
        </form>
      ) : null}
      {deliveries.length === 0 ? (
        <p class="muted">No deliveries match.</p>
      ) : (
        <div class="table-wrap">
          <table class="card">
            <thead>
              <tr>
                <th>Delivery</th>
                <th>Webhook</th>
                <th>Status</th>
                <th class="hide-narrow">Event</th>
                <th>Customer</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((d) => (
                <tr>
                  <td>
                    <a href={`${BASE}/deliveries/${encodeURIComponent(d.id)}`}>{d.id.slice(0, 8)}</a>
                  </td>
                  <td>{d.webhook}</td>
                  <td>
                    <span class={tone(d.status)}>{d.status}</span>
                    {d.lastStatus ? <span class="muted"> ({d.lastStatus})</span> : null}
                  </td>
                  <td class="hide-narrow">{d.eventType}</td>
                  <td>{d.customerId ?? ""}</td>
                  <td title={d.createdAt}>{ago(d.createdAt, now)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        {filter.before ? <a href={listUrl({ ...filter, before: undefined })}>Newest</a> : null}
        {next ? <a href={next}>Older →</a> : null}
      </nav>
    </>
  );
}

const ENDED = new Set(["succeeded", "failed", "halted", "aborted", "skipped"]);

const Headers = (props: { headers?: Record<string, string> }) =>
  props.headers && Object.keys(props.headers).length > 0 ? (
    <pre>
      {Object.entries(props.headers)
        .map(([k, v]) => `${k}: ${v}`)
        .join("\n")}
    </pre>
  ) : (
    <p class="muted">none</p>
  );

function Attempt(props: { a: AttemptRecord }) {
  const { a } = props;
  const body =
    a.request.body ??
    (a.request.bodyBytes !== undefined
      ? `(not kept: ${a.request.bodyBytes} bytes, ${a.request.bodyHash ?? "no hash"} — a successful attempt keeps only its size and hash)`
      : "");
  return (
    <section class="card wide attempt" aria-label={`attempt ${a.number}`}>
      <h2>
        Attempt {a.number}: <span class={tone(a.outcome)}>{a.outcome}</span>
        {a.status !== undefined ? ` · HTTP ${a.status}` : ""} · {a.durationMs} ms
      </h2>
      <p class="muted">
        {a.startedAt}
        {a.errorClass ? ` · ${a.errorClass}` : ""}
        {a.error ? `: ${a.error}` : ""}
      </p>
      <div class="grid">
        <div>
          <h3>Request</h3>
          <p>
            <code>
              {a.request.method} {a.request.url}
            </code>
          </p>
          <Headers headers={a.request.headers} />
          <pre data-part="request-body">{body}</pre>
        </div>
        <div>
          <h3>Response</h3>
          <Headers headers={a.responseHeaders} />
          <pre data-part="response-body">
            {a.responseBody ?? ""}
            {a.responseTruncated ? "\n… (truncated)" : ""}
          </pre>
        </div>
      </div>
    </section>
  );
}

/** A delivery's request rendered again, or why it is not (as `GET /v1/deliveries/:id/request` says). */
export type RenderedAgain =
  | { request: AttemptRecord["request"]; matchesRecorded?: boolean }
  | { unavailable: string };

/**
 * Renders a delivery's request again with what `GET /v1/deliveries/:id/request` calls (the webhook as
 * it is now, `deliverer.rerender`: credentials masked, nothing authorized), or says why it cannot.
 */
export function renderAgain(app: AdminApp, delivery: Delivery, attempts: AttemptRecord[]): RenderedAgain {
  const hook = app.catalogue.webhooks.get(delivery.webhook);
  if (!hook) return { unavailable: `webhook "${delivery.webhook}" is no longer configured` };
  if (hook.config.batch)
    return {
      unavailable: `webhook "${delivery.webhook}" sends batches: its request is rendered from a whole batch`,
    };
  try {
    const { request, bodyHash } = app.deliverer.rerender(hook, delivery);
    const recorded = attempts.findLast(
      (a) => a.request.bodyHash !== undefined || a.request.body !== undefined,
    )?.request;
    return {
      request,
      matchesRecorded:
        recorded === undefined
          ? undefined
          : recorded.bodyHash !== undefined
            ? recorded.bodyHash === bodyHash
            : recorded.body === request.body,
    };
  } catch (e) {
    return { unavailable: (e as Error).message };
  }
}

function RenderedRequest(props: { rendered: RenderedAgain }) {
  const r = props.rendered;
  return (
    <section class="card wide" aria-labelledby="h-request">
      <h2 id="h-request">Request</h2>
      {"unavailable" in r ? (
        <p class="muted">Not rendered again: {r.unavailable}</p>
      ) : (
        <>
          <p class="muted">
            Rendered now from the event data and the webhook as it is, credentials masked
            {r.matchesRecorded === true
              ? "; its body is the one the last attempt sent."
              : r.matchesRecorded === false
                ? "; its body differs from the one the last attempt sent (the webhook changed since)."
                : "."}
          </p>
          <p>
            <code data-part="rendered-line">
              {r.request.method} {r.request.url}
            </code>
          </p>
          <div data-part="rendered-headers">
            <Headers headers={r.request.headers} />
          </div>
          <pre data-part="rendered-body">{r.request.body ?? ""}</pre>
        </>
      )}
    </section>
  );
}

/**
 * One delivery: what it is, its event data, every attempt with its request and response (headers
 * and bodies as the store recorded them, credentials already masked), and "Retry" for those whose
 * role may retry an ended delivery.
 */
export function DeliveryPage(props: {
  delivery: Delivery;
  attempts: AttemptRecord[];
  rendered: RenderedAgain;
  viewer: Viewer;
  canRetry: boolean;
  notice?: string;
}) {
  const d = props.delivery;
  return (
    <>
      <p>
        <a href={`${BASE}/deliveries`}>← Deliveries</a>
      </p>
      <h1>
        Delivery <code>{d.id}</code>
      </h1>
      <Notices notice={props.notice} />
      <div class="grid">
        <section class="card">
          <dl class="counts">
            <dt>Status</dt>
            <dd class={tone(d.status)} data-status={d.status}>
              {d.status}
            </dd>
            <dt>Webhook</dt>
            <dd>{d.webhook}</dd>
            <dt>Run</dt>
            <dd>
              <a href={`${BASE}/deliveries?run=${encodeURIComponent(d.runId)}`}>{d.runId}</a>
            </dd>
            <dt>Event</dt>
            <dd>{d.eventType}</dd>
            <dt>Customer</dt>
            <dd>{d.customerId ?? ""}</dd>
            <dt>Attempts</dt>
            <dd>
              {d.attempts} of {d.maxAttempts}
            </dd>
            <dt>Created</dt>
            <dd>{d.createdAt}</dd>
            {d.reason ? (
              <>
                <dt>Reason</dt>
                <dd>{d.reason}</dd>
              </>
            ) : null}
          </dl>
          {props.canRetry && ENDED.has(d.status) ? (
            <form method="post" action={`${BASE}/deliveries/${encodeURIComponent(d.id)}/retry`}>
              <Csrf token={props.viewer.csrf} />
              <p>
                <button type="submit">Retry</button>
              </p>
            </form>
          ) : null}
        </section>
        <section class="card">
          <h2>Event data</h2>
          <pre data-part="context">{JSON.stringify(d.context, null, 2)}</pre>
        </section>
        <RenderedRequest rendered={props.rendered} />
        {props.attempts.length === 0 ? (
          <p class="muted wide">No attempt yet.</p>
        ) : (
          props.attempts.map((a) => <Attempt a={a} />)
        )}
      </div>
    </>
  );
}

const deliveryId = { id: "the delivery's id" };

/**
 * The console's Deliveries section: the filtered list, one delivery with its request and attempts,
 * retrying one (as `POST /v1/deliveries/:id/retry` does, for the roles that route allows) and
 * retrying everything a filter matches (the bulk retry, with its progress: bulk-retry.tsx).
 *
 * @example consoleRoutes(app, { sections: [deliveriesSection(app)] })
 */
export const deliveriesSection = (app: AdminApp): ConsoleSection => ({
  path: "deliveries",
  label: "Deliveries",
  order: 10,
  mount(r, kit) {
    r.get("/", kit.page("The console's deliveries list"), async (c) => {
      const parsed = DeliveryFilterQuery.safeParse(c.req.query());
      const filter = parsed.success ? parsed.data : {};
      const deliveries = await app.store.listDeliveries({ ...storeFilter(filter), limit: PAGE_SIZE });
      return c.html(
        <kit.Layout c={c} title="Deliveries" active="deliveries">
          <DeliveriesPage
            filter={filter}
            webhooks={[...app.webhooks.keys()].sort()}
            deliveries={deliveries}
            // Not on a filter that did not parse: the list shows everything then.
            canRetryAll={parsed.success && kit.may(c, "POST", "/v1/deliveries/retry")}
            error={
              parsed.success
                ? undefined
                : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")
            }
          />
        </kit.Layout>,
        parsed.success ? 200 : 400,
      );
    });

    const show = async (c: Context, id: string, notice?: string, status: 200 | 409 = 200) => {
      const delivery = await app.store.getDelivery(id);
      if (!delivery) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no delivery ${id}`);
      const attempts = await app.store.listAttempts(id);
      return c.html(
        <kit.Layout c={c} title={`Delivery ${id.slice(0, 8)}`} active="deliveries">
          <DeliveryPage
            delivery={delivery}
            attempts={attempts}
            rendered={renderAgain(app, delivery, attempts)}
            viewer={kit.viewer(c)}
            canRetry={kit.may(c, "POST", `/v1/deliveries/${id}/retry`)}
            notice={notice}
          />
        </kit.Layout>,
        status,
      );
    };
    // Before "/:id": "/retry" and "/runs/…" are the bulk retry's.
    mountBulkRetry(r, kit, app);
    r.get("/:id", kit.page("One delivery and its attempts", { params: deliveryId }), (c) =>
      show(c, c.req.param("id")),
    );
    // As `POST /v1/deliveries/:id/retry` does: a fresh set of attempts, the worker woken.
    r.post(
      "/:id/retry",
      kit.page("Retries an ended delivery (admins)", {
        params: deliveryId,
        answers: { 303: { description: "back to the delivery" } },
      }),
      async (c) => {
        const id = c.req.param("id");
        kit.allow(c, "POST", `/v1/deliveries/${id}/retry`);
        const { existing, retried } = await retryOne(app, id);
        if (!retried)
          return show(c, id, `It is ${existing.status}: only an ended delivery can be retried.`, 409);
        return c.redirect(`${BASE}/deliveries/${encodeURIComponent(id)}`, 303);
      },
    );
  },
});
