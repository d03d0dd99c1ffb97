/** @jsxImportSource hono/jsx */
import type { Context } from "hono";
import { PolicyConfig } from "../config/schema.ts";
import type { ConsoleKit, ConsoleSection } from "../contracts/console.ts";
import type { SqlExecutor } from "../contracts/sql.ts";
import type { AdminApp } from "../http/admin-app.ts";
import { cached } from "../telemetry/prometheus.ts";
import { BASE } from "./layout.tsx";

/** How often the page's numbers are fetched again. */
export const REFRESH_SECONDS = 5;
/** How long one read serves every console polling it on this process (as the overview's). */
const CACHE_MS = 2_000;
/** Deliveries waiting on a policy counted at most: past it the page says "1000+". */
export const WAITING_CAP = 1000;

/** One throughput policy as the page shows it. */
export interface PolicyView {
  name: string;
  concurrency: number;
  rate?: number;
  /** Where its limits come from: the config file, or set through the API (or this page). */
  source: "config" | "api";
  /** Slots held now, across processes (a slot is a leased row: an expired lease is free). */
  inUse: number;
  /** Deliveries due under it that have no slot yet (at most `WAITING_CAP`). */
  waiting: number;
}

// Slots are numbered 1..concurrency per policy, so counting them reads at most the limits' sum; the
// waiting deliveries are read through the due-per-policy partial index (migration 10), each policy's
// apart and stopping at the cap: the queue, never the history.
const READ = `
SELECT p.name, p.concurrency, p.rate, p.source,
       (SELECT count(*) FROM hookline_policy_slots s WHERE s.policy = p.name AND s.lease_until > now())::int AS in_use,
       (SELECT count(*) FROM (SELECT 1 FROM hookline_delivery_state d
                               WHERE d.status = 'pending' AND d.policy = p.name AND d.bulk IN (false, true) AND d.next_at <= now()
                               LIMIT $1) w)::int AS waiting
  FROM hookline_policies p ORDER BY p.name`;

/**
 * Every throughput policy with its limits, where they come from, the slots in use and the deliveries
 * waiting on it, in one statement.
 *
 * @example const [crm] = await readPolicies(host.sql); // { name: "crm", concurrency: 4, inUse: 4, waiting: 12, … }
 */
export async function readPolicies(sql: SqlExecutor, cap = WAITING_CAP): Promise<PolicyView[]> {
  const rows = await sql.query<{
    name: string;
    concurrency: number;
    rate: number | null;
    source: string;
    in_use: number;
    waiting: number;
  }>(READ, [cap]);
  return rows.map((r) => ({
    name: r.name,
    concurrency: Number(r.concurrency),
    ...(r.rate === null ? {} : { rate: Number(r.rate) }),
    source: r.source === "api" ? "api" : "config",
    inUse: Number(r.in_use),
    waiting: Number(r.waiting),
  }));
}

/** An element id for a policy's live numbers (a name may hold `.`, which a CSS id selector would misread). */
const liveId = (name: string) =>
  `policy-${[...new TextEncoder().encode(name)].map((b) => b.toString(16).padStart(2, "0")).join("")}`;

const perSecond = (rate: number | undefined) =>
  rate === undefined ? "no limit" : `${Number(rate.toPrecision(6))} per second`;

/** A policy's live numbers; `oob` marks it for htmx to swap into the page by its id. */
export function PolicyLive(props: { policy: PolicyView; oob?: boolean }) {
  const p = props.policy;
  const full = p.inUse >= p.concurrency;
  return (
    <div id={liveId(p.name)} hx-swap-oob={props.oob ? "true" : undefined}>
      <progress
        max={p.concurrency}
        value={Math.min(p.inUse, p.concurrency)}
        aria-label={`${p.name}: slots in use`}
      />
      <p>
        <strong class={full ? "warn" : undefined} data-in-use={p.inUse}>
          {p.inUse}
        </strong>{" "}
        of <span data-limit={p.concurrency}>{p.concurrency}</span> slots in use
        {p.inUse > p.concurrency ? <span class="muted"> (over the limit until they end)</span> : null}
      </p>
      <dl class="counts">
        <dt>Rate</dt>
        <dd data-rate>{perSecond(p.rate)}</dd>
        <dt>Waiting</dt>
        <dd data-waiting={p.waiting} class={p.waiting > 0 ? "warn" : undefined}>
          {p.waiting >= WAITING_CAP ? `${WAITING_CAP}+` : p.waiting} due, without a slot yet
        </dd>
      </dl>
    </div>
  );
}

function PolicyCard(props: {
  c: Context;
  kit: ConsoleKit;
  policy: PolicyView;
  webhooks: readonly string[];
  error?: string;
}) {
  const { c, kit, policy: p } = props;
  const headingId = `${liveId(p.name)}-h`;
  return (
    <section class="card" aria-labelledby={headingId} data-policy={p.name}>
      <h2 id={headingId}>
        {p.name} <span class="tag">{p.source === "config" ? "config file" : "set through the API"}</span>
      </h2>
      <PolicyLive policy={p} />
      <h3>Webhooks</h3>
      {props.webhooks.length === 0 ? (
        <p class="muted">No webhook names it.</p>
      ) : (
        <ul>
          {props.webhooks.map((w) => (
            <li>
              <a href={`${BASE}/webhooks/${encodeURIComponent(w)}`}>{w}</a>{" "}
              <a
                class="hint"
                href={`${BASE}/deliveries?webhook=${encodeURIComponent(w)}&status=pending`}
                aria-label={`${w}: pending deliveries`}
              >
                pending
              </a>
            </li>
          ))}
        </ul>
      )}
      {kit.may(c, "PUT", `/v1/policies/${p.name}`) ? (
        <form
          class="stack"
          method="post"
          action={`${BASE}/policies/${encodeURIComponent(p.name)}`}
          aria-label={`Limits of ${p.name}`}
        >
          <kit.Csrf c={c} />
          <div class="fields">
            <label>
              Concurrency
              <input
                type="number"
                name="concurrency"
                min={1}
                max={10000}
                step={1}
                required
                value={p.concurrency}
              />
              <span class="hint">requests in flight at once, across processes</span>
            </label>
            <label>
              Rate per second
              <input
                type="number"
                name="rate"
                min={0}
                step="any"
                placeholder="no limit"
                value={p.rate ?? ""}
              />
              <span class="hint">requests started per second; empty: no limit</span>
            </label>
          </div>
          {p.source === "config" ? (
            <p class="hint">
              Declared in the config file: limits saved here replace the file's, also after a restart.
            </p>
          ) : null}
          {props.error ? (
            <p class="error" role="alert">
              {props.error}
            </p>
          ) : null}
          <div class="actions">
            <button type="submit">Save limits</button>
          </div>
        </form>
      ) : (
        <p class="hint">Only an admin may change its limits.</p>
      )}
    </section>
  );
}

// An empty field is no value: browsers send every field of the form, filled or not.
const numberOf = (v: unknown) => (typeof v === "string" && v.trim() !== "" ? Number(v) : undefined);

/**
 * The console's Policies section: every throughput policy with its slots in use against its limit,
 * its rate and the deliveries waiting on it (refreshed every `REFRESH_SECONDS` from one read per
 * process), the webhooks that name it, and a form for its limits for the roles `PUT
 * /v1/policies/:name` allows (the config file's policies too: the API sets them alike).
 *
 * @example consoleRoutes(app, { sections: [policiesSection(app)] })
 */
export const policiesSection = (app: AdminApp): ConsoleSection => ({
  path: "policies",
  label: "Policies",
  order: 50,
  mount(r, kit) {
    const read = () => readPolicies(kit.host.sql);
    let live = cached(read, CACHE_MS);
    const users = (name: string) =>
      [...app.webhooks.values()]
        .filter((w) => w.config.policy === name)
        .map((w) => w.name)
        .sort();

    const page = async (c: Context, status: 200 | 400 = 200, failed?: { name: string; error: string }) => {
      const policies = await live();
      const saved = c.req.query("saved");
      const notice = policies.find((p) => p.name === saved);
      return c.html(
        <kit.Layout c={c} title="Policies" active="policies">
          <h1>Policies</h1>
          <p class="muted">
            A throughput policy caps the requests in flight at once (and, with a rate, started per second) for
            every webhook that names it, across all processes. The numbers refresh every {REFRESH_SECONDS} s.
          </p>
          {notice ? (
            <p class="notice" role="status">
              Saved the limits of {notice.name}: {notice.concurrency} at once, {perSecond(notice.rate)}. They
              apply to what starts next, in every process.
            </p>
          ) : null}
          {policies.length === 0 ? (
            <p class="muted">
              No throughput policies. Declare one under <code>policies:</code> in hookline.yaml (or PUT
              /v1/policies/NAME) and name it in a webhook's <code>policy:</code>.
            </p>
          ) : (
            <>
              <div
                hx-get={`${BASE}/policies/live`}
                hx-trigger={`every ${REFRESH_SECONDS}s`}
                hx-swap="none"
                hidden
              />
              <div class="grid">
                {policies.map((p) => (
                  <PolicyCard
                    c={c}
                    kit={kit}
                    policy={p}
                    webhooks={users(p.name)}
                    error={failed?.name === p.name ? failed.error : undefined}
                  />
                ))}
              </div>
            </>
          )}
        </kit.Layout>,
        status,
      );
    };

    r.get("/", kit.page("The console's throughput policies"), (c) => page(c));
    r.get(
      "/live",
      kit.page("Each policy's live numbers (an HTML fragment htmx polls, swapped in by id)"),
      async (c) => {
        const policies = await live();
        return c.html(
          // biome-ignore lint/complexity/noUselessFragments: c.html takes one node; htmx swaps each in by its id
          <>
            {policies.map((p) => (
              <PolicyLive policy={p} oob />
            ))}
          </>,
        );
      },
    );
    // As `PUT /v1/policies/:name` does: the limits apply to what starts next, in every process.
    r.post(
      "/:name",
      kit.page("Sets a policy's limits (admins)", {
        params: { name: "the policy's name" },
        answers: {
          303: { description: "back to the policies" },
          400: { description: "the form with what is wrong" },
        },
      }),
      async (c) => {
        const name = c.req.param("name");
        kit.allow(c, "PUT", `/v1/policies/${name}`);
        const form = await c.req.parseBody();
        const rate = numberOf(form.rate);
        const parsed = PolicyConfig.safeParse({
          concurrency: numberOf(form.concurrency),
          rate: rate ?? null,
        });
        if (!parsed.success) {
          const error = parsed.error.issues
            .map((i) => `${i.path.join(".") || "limits"}: ${i.message}`)
            .join("; ");
          return page(c, 400, { name, error: `Not saved. ${error}` });
        }
        await app.store.setPolicy({
          name,
          concurrency: parsed.data.concurrency,
          rate: parsed.data.rate ?? null,
        });
        // What this process shows next is read again, not the cached read from before the change.
        live = cached(read, CACHE_MS);
        return c.redirect(`${BASE}/policies?saved=${encodeURIComponent(name)}`, 303);
      },
    );
  },
});
