/** @jsxImportSource hono/jsx */
import type { Context } from "hono";
import { z } from "zod";
import type { ConsoleSection } from "../contracts/console.ts";
import type { AttemptRecord, Delivery } from "../contracts/delivery.ts";
import { HttpError } from "../errors.ts";
import type { AdminApp } from "../http/admin-app.ts";
import { ago, BASE, Csrf, tone, type Viewer } from "./layout.tsx";

/** Deliveries a page of the list shows. */
export const PAGE_SIZE = 50;

export const STATUSES = [
  "pending",
  "waiting",
  "paused",
  "in_flight",
  "succeeded",
  "failed",
  "halted",
  "aborted",
] as const;

// An empty field of the filter form is no filter: browsers send every field, filled or not.
const blank = (v: unknown) => (v === "" ? undefined : v);

/** The list's filter, as the form's query string carries it. */
export const DeliveryFilterQuery = z.object({
  webhook: z.preprocess(blank, z.string().max(200).optional()),
  status: z.preprocess(blank, z.enum(STATUSES, { error: `one of ${STATUSES.join(", ")}` }).optional()),
  run: z.preprocess(blank, z.string().max(200).optional()),
  before: z.preprocess(blank, z.uuid("a delivery id (UUID) from the previous page").optional()),
});
export type DeliveryFilterQuery = z.infer<typeof DeliveryFilterQuery>;

const withQuery = (q: Record<string, string | undefined>) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v) p.set(k, v);
  const s = p.toString();
  return `${BASE}/deliveries${s ? `?${s}` : ""}`;
};

/**
 * The deliveries list: the filter form (webhook, status, run), a page newest first, and a link to
 * the next page (keyset paging with `before`, as `GET /v1/deliveries` pages).
 */
export function DeliveriesPage(props: {
  filter: DeliveryFilterQuery;
  webhooks: readonly string[];
  deliveries: Delivery[];
  error?: string;
  now?: number;
}) {
  const { filter, deliveries } = props;
  const now = props.now ?? Date.now();
  const last = deliveries.at(-1);
  const next =
    deliveries.length === PAGE_SIZE && last ? withQuery({ ...filter, before: last.id }) : undefined;
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
          Run
          <input name="run" value={filter.run ?? ""} placeholder="run id" size={38} />
        </label>
        <button type="submit">Filter</button>
        {filter.webhook || filter.status || filter.run ? <a href={`${BASE}/deliveries`}>Clear</a> : null}
      </form>
      {props.error ? (
        <p class="notice error" role="alert">
          {props.error}
        </p>
      ) : null}
      {deliveries.length === 0 ? (
        <p class="muted">No deliveries match.</p>
      ) : (
        <table class="card">
          <thead>
            <tr>
              <th>Delivery</th>
              <th>Webhook</th>
              <th>Status</th>
              <th class="hide-narrow">Event</th>
              <th class="hide-narrow">Customer</th>
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
                <td class="hide-narrow">{d.customerId ?? ""}</td>
                <td>{ago(d.createdAt, now)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <nav class="pager" aria-label="Pages">
        {filter.before ? <a href={withQuery({ ...filter, before: undefined })}>Newest</a> : null}
        {next ? <a href={next}>Older →</a> : null}
      </nav>
    </>
  );
}

const ENDED = new Set(["succeeded", "failed", "halted", "aborted"]);

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

/**
 * One delivery: what it is, its event data, every attempt with its request and response (headers
 * and bodies as the store recorded them, credentials already masked), and "Retry" for those whose
 * role may retry an ended delivery.
 */
export function DeliveryPage(props: {
  delivery: Delivery;
  attempts: AttemptRecord[];
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
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}
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
 * The console's Deliveries section: the filtered list, one delivery with its attempts, and retrying
 * one (as `POST /v1/deliveries/:id/retry` does, for the roles that route allows).
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
      const deliveries = await app.store.listDeliveries({ ...filter, limit: PAGE_SIZE });
      return c.html(
        <kit.Layout c={c} title="Deliveries" active="deliveries">
          <DeliveriesPage
            filter={filter}
            webhooks={[...app.webhooks.keys()].sort()}
            deliveries={deliveries}
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
      return c.html(
        <kit.Layout c={c} title={`Delivery ${id.slice(0, 8)}`} active="deliveries">
          <DeliveryPage
            delivery={delivery}
            attempts={await app.store.listAttempts(id)}
            viewer={kit.viewer(c)}
            canRetry={kit.may(c, "POST", `/v1/deliveries/${id}/retry`)}
            notice={notice}
          />
        </kit.Layout>,
        status,
      );
    };
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
        const existing = await app.store.getDelivery(id);
        if (!existing) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no delivery ${id}`);
        const retried = await app.store.retryDelivery(
          id,
          existing.maxAttempts > 0 ? Math.max(1, existing.maxAttempts) : 4,
        );
        if (!retried)
          return show(c, id, `It is ${existing.status}: only an ended delivery can be retried.`, 409);
        app.worker.wake();
        return c.redirect(`${BASE}/deliveries/${encodeURIComponent(id)}`, 303);
      },
    );
  },
});
