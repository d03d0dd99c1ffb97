/** @jsxImportSource hono/jsx */
import type { Hono } from "hono";
import type { Child } from "hono/jsx";
import type { ConsoleKit } from "../contracts/console.ts";
import type { RetryFilter, RunSummary } from "../contracts/runs.ts";
import { HttpError } from "../errors.ts";
import type { AdminApp } from "../http/admin-app.ts";
import { RetryFilterSchema, startBulkRetry } from "../http/runs.ts";
import { countDeliveries } from "../store/delivery-log.ts";
import { DeliveryFilterQuery, describeFilter, listUrl, retryFilterOf } from "./delivery-filter.ts";
import { BASE, seconds } from "./layout.tsx";

/** Deliveries the confirmation counts at most per status (past it: "10,000 or more"). */
export const CONFIRM_CAP = 10_000;
/** How often a run's progress is fetched again while it runs. */
export const PROGRESS_SECONDS = 1;

const API = "/v1/deliveries/retry";

/** The confirmation: what will be retried (the filter in words, how many match now), and Start. */
function ConfirmRetry(props: {
  filter: RetryFilter;
  matching: number;
  capped: boolean;
  back: string;
  csrf: Child;
}) {
  const f = props.filter;
  return (
    <>
      <p>
        <a href={props.back}>← Deliveries</a>
      </p>
      <h1>Retry everything this filter matches</h1>
      <section class="card" aria-labelledby="h-confirm">
        <h2 id="h-confirm">
          <span data-matching={props.matching}>
            {props.capped
              ? `${props.matching.toLocaleString("en")} or more`
              : props.matching.toLocaleString("en")}
          </span>{" "}
          {props.matching === 1 ? "delivery matches" : "deliveries match"} now
        </h2>
        <ul>
          {describeFilter(f).map((line) => (
            <li>{line}</li>
          ))}
        </ul>
        <p class="muted">
          Each is sent again with a fresh set of attempts and its own idempotency key, in one run. The count
          is of now: a delivery that comes to match before the run reaches it is retried too.
        </p>
        <form method="post" action={`${BASE}/deliveries/retry`} class="actions">
          {props.csrf}
          {(f.statuses ?? []).map((s) => (
            <input type="hidden" name="statuses" value={s} />
          ))}
          {(["webhook", "run", "customer", "since", "until"] as const).map((k) =>
            f[k] ? <input type="hidden" name={k} value={f[k]} /> : null,
          )}
          <button type="submit" disabled={props.matching === 0}>
            Start the retry
          </button>
          <a href={props.back}>Cancel</a>
        </form>
      </section>
    </>
  );
}

/**
 * A bulk retry's progress: a bar of the deliveries ended out of those it has selected, counts by
 * outcome. While it runs, htmx fetches it again every `PROGRESS_SECONDS` (it replaces itself); the
 * finished one carries no trigger, so polling stops.
 */
export function RunProgress(props: { run: RunSummary }) {
  const { run } = props;
  const { counts } = run;
  const ended = counts.total - counts.queued;
  const selecting = run.job?.state === "running";
  const live = run.state === "running";
  return (
    <section
      id="run-progress"
      class="card"
      data-state={run.state}
      aria-live="polite"
      {...(live
        ? {
            "hx-get": `${BASE}/deliveries/runs/${encodeURIComponent(run.id)}/live`,
            "hx-trigger": `every ${PROGRESS_SECONDS}s`,
            "hx-swap": "outerHTML",
          }
        : {})}
    >
      <h2>
        {run.state === "running" ? "Running" : run.state === "cancelled" ? "Cancelled" : "Finished"}
        {selecting ? " (still selecting deliveries)" : ""}
      </h2>
      <progress
        max={Math.max(1, counts.total)}
        value={live ? ended : Math.max(1, counts.total)}
        aria-label="retried deliveries ended"
      />
      <p>
        <span data-ended>{ended}</span> of <span data-total>{counts.total}</span> ended
        {live && run.perSecond > 0 ? ` · ${run.perSecond.toFixed(1)}/s` : ""}
        {live && run.etaSeconds !== undefined ? ` · ${seconds(run.etaSeconds)} left` : ""}
      </p>
      <dl class="counts">
        {(["succeeded", "failed", "halted", "aborted", "skipped", "queued"] as const).map((k) => (
          <>
            <dt>{k}</dt>
            <dd data-outcome={k}>{counts[k]}</dd>
          </>
        ))}
      </dl>
      {!live && counts.total === 0 ? <p class="muted">Nothing matched: no delivery was retried.</p> : null}
      <p>
        <a href={listUrl({ run: run.id })}>Its deliveries</a>
      </p>
    </section>
  );
}

/**
 * The bulk retry's pages under the Deliveries section: the confirmation (`GET /retry` with the
 * list's filter), starting it (`POST /retry`, as `POST /v1/deliveries/retry` does, for the roles
 * that route allows) and the run's live progress (`/runs/:id`).
 *
 * @example mountBulkRetry(pages, kit, app)
 */
export function mountBulkRetry(r: Hono, kit: ConsoleKit, app: AdminApp): void {
  r.get("/retry", kit.page("Confirms a bulk retry of what the list's filter matches"), async (c) => {
    kit.allow(c, "POST", API);
    const parsed = DeliveryFilterQuery.safeParse(c.req.query());
    const filter = parsed.success ? retryFilterOf(parsed.data) : undefined;
    if (!parsed.success || !filter)
      throw new HttpError(
        "HOOKLINE_HTTP_PARAM",
        parsed.success
          ? "only ended deliveries (succeeded, failed, halted, aborted, skipped) can be retried: change the status filter"
          : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
      );
    const { statuses = [], ...rest } = filter;
    const counts = await Promise.all(
      statuses.map((status) => countDeliveries(kit.host.sql, { ...rest, status }, CONFIRM_CAP)),
    );
    const { before: _before, ...shown } = c.req.query();
    return c.html(
      <kit.Layout c={c} title="Retry deliveries" active="deliveries">
        <ConfirmRetry
          filter={filter}
          matching={counts.reduce((a, b) => a + b, 0)}
          capped={counts.some((n) => n >= CONFIRM_CAP)}
          back={listUrl(shown)}
          csrf={<kit.Csrf c={c} />}
        />
      </kit.Layout>,
    );
  });

  r.post(
    "/retry",
    kit.page("Starts a bulk retry (the roles POST /v1/deliveries/retry allows)", {
      answers: { 303: { description: "to the retry's progress" } },
    }),
    async (c) => {
      kit.allow(c, "POST", API);
      const form = await c.req.parseBody({ all: true });
      const one = (k: string) => (typeof form[k] === "string" && form[k] !== "" ? form[k] : undefined);
      const statuses = ([] as unknown[]).concat(form.statuses ?? []);
      const parsed = RetryFilterSchema.safeParse({
        statuses,
        webhook: one("webhook"),
        run: one("run"),
        customer: one("customer"),
        since: one("since"),
        until: one("until"),
      });
      if (!parsed.success)
        throw new HttpError(
          "HOOKLINE_HTTP_INVALID",
          parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
        );
      const run = await startBulkRetry(app, parsed.data);
      return c.redirect(`${BASE}/deliveries/runs/${encodeURIComponent(run.id)}`, 303);
    },
  );

  const runOf = async (id: string) => {
    const run = await app.store.getRun(id);
    if (!run) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no run ${id}`);
    return run;
  };
  const params = { id: "the run's id" };
  r.get("/runs/:id", kit.page("A run's progress", { params }), async (c) => {
    const id = c.req.param("id");
    kit.allow(c, "GET", `/v1/runs/${id}`);
    const run = await runOf(id);
    return c.html(
      <kit.Layout c={c} title={`Run ${id.slice(0, 14)}`} active="deliveries">
        <p>
          <a href={`${BASE}/deliveries`}>← Deliveries</a>
        </p>
        <h1>
          {run.kind === "retry" ? "Retry" : "Run"} <code>{run.id}</code>
        </h1>
        {run.job?.filter ? <p class="muted">{describeFilter(run.job.filter).join(" · ")}</p> : null}
        <RunProgress run={run} />
      </kit.Layout>,
    );
  });
  r.get(
    "/runs/:id/live",
    kit.page("A run's progress (an HTML fragment htmx polls)", { params }),
    async (c) => {
      const id = c.req.param("id");
      kit.allow(c, "GET", `/v1/runs/${id}`);
      return c.html(<RunProgress run={await runOf(id)} />);
    },
  );
}
