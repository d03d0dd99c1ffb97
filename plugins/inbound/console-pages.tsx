/** @jsxImportSource hono/jsx */
import type { InboundEndpoint, ProfileUpdateEndpoint } from "./config.ts";
import type { CompiledEndpoint } from "./registry.ts";
import type { ProfileUpdateReceipt, RefusalCount, StoredActivity } from "./repository.ts";

// The Inbound pages' parts (plugins/inbound/console.tsx mounts them): every value a sender wrote is
// rendered as text by hono/jsx.

/** Activities a page shows; profile updates shown. */
export const PAGE_SIZE = 50;
/** How far back the lists reach (as `GET /v1/inbound/:name/activities` does by default). */
export const WINDOW_MS = 86_400_000;

/** How long ago an ISO time was ("42 s ago"). */
function ago(iso: string, now: number): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

const At = (props: { iso: string; now: number }) => (
  <time datetime={props.iso} title={props.iso}>
    {ago(props.iso, props.now)}
  </time>
);

/** What an endpoint keeps of what it receives, in a sentence. */
function stores(config: InboundEndpoint): string {
  if (config.kind === "activity-status")
    return "activities (eSputnik format), each once by its key; each fires an activity.<status> event";
  const p = config as ProfileUpdateEndpoint;
  const targets = [...new Set(p.mappings.map((m) => m.to))];
  return [
    `${p.createProfiles ? "creates or updates" : "updates"} the profile whose ${p.identifier.property} is given`,
    targets.length > 0 ? `properties ${targets.join(", ")}` : "no property (no mappings)",
    p.timeline.length > 0 ? `timeline events ${p.timeline.map((t) => t.type).join(", ")}` : "",
  ]
    .filter(Boolean)
    .join("; ");
}

/** A byte count as the config would write it ("1mb", "512kb"). */
const size = (n: number) =>
  n % 1_048_576 === 0 ? `${n / 1_048_576} MB` : n % 1024 === 0 ? `${n / 1024} KB` : `${n} bytes`;

/** The tone an activity status reads in. */
const statusTone = (s: unknown) =>
  s === "DELIVERED" || s === "READ" || s === "CLICKED"
    ? "ok"
    : s === "UNDELIVERED" || s === "SPAM" || s === "UNSUBSCRIBED"
      ? "bad"
      : "warn";

/** A value a sender wrote, as text (an object as JSON); empty when absent. */
const text = (v: unknown) =>
  v === undefined || v === null ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);

export function RefusalTable(props: { rows: RefusalCount[]; now: number; base?: string }) {
  if (props.rows.length === 0) return <p class="muted">No request refused in the last day.</p>;
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            {props.base ? <th>Endpoint</th> : null}
            <th>Reason (status)</th>
            <th>Last hour</th>
            <th>Last day</th>
            <th class="hide-narrow">Latest minute</th>
          </tr>
        </thead>
        <tbody>
          {props.rows.map((r) => (
            <tr data-reason={r.code}>
              {props.base ? (
                <td>
                  <a href={`${props.base}/inbound/${encodeURIComponent(r.endpoint)}`}>{r.endpoint}</a>
                </td>
              ) : null}
              <td>
                <code>{r.code}</code> ({r.status})
              </td>
              <td data-count="hour">{r.lastHour}</td>
              <td data-count="day">{r.lastDay}</td>
              <td class="hide-narrow">
                <At iso={r.latest} now={props.now} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** The Inbound page: every endpoint, and the last day's refusals by endpoint and reason. */
export function InboundPage(props: {
  base: string;
  endpoints: readonly CompiledEndpoint[];
  refusals: RefusalCount[];
  now: number;
}) {
  const refused = new Map<string, { hour: number; day: number }>();
  for (const r of props.refusals) {
    const t = refused.get(r.endpoint) ?? { hour: 0, day: 0 };
    refused.set(r.endpoint, { hour: t.hour + r.lastHour, day: t.day + r.lastDay });
  }
  return (
    <>
      <h1>Inbound</h1>
      <p class="muted">
        Endpoints senders post to (<code>{"/in/<path>"}</code>), from the config file and the admin API.
      </p>
      <div class="grid">
        {props.endpoints.length === 0 ? (
          <p class="muted wide">
            No inbound endpoint: add one under <code>inbound.endpoints</code> in the config file, or with{" "}
            <code>PUT /v1/inbound/:name</code>.
          </p>
        ) : (
          <div class="card wide table-wrap">
            <table>
              <thead>
                <tr>
                  <th>Endpoint</th>
                  <th class="hide-narrow">URL</th>
                  <th>Kind</th>
                  <th class="hide-narrow">Auth</th>
                  <th class="hide-narrow">Stores</th>
                  <th>Refused (hour / day)</th>
                </tr>
              </thead>
              <tbody>
                {props.endpoints.map((e) => {
                  const r = refused.get(e.name);
                  return (
                    <tr data-endpoint={e.name}>
                      <td>
                        <a href={`${props.base}/inbound/${encodeURIComponent(e.name)}`}>{e.name}</a>
                        {e.source === "api" ? <span class="tag">API</span> : null}
                      </td>
                      <td class="hide-narrow">
                        <code>/in/{e.path}</code>
                      </td>
                      <td>{e.config.kind}</td>
                      <td class="hide-narrow">{e.config.auth.kind}</td>
                      <td class="hide-narrow">{stores(e.config)}</td>
                      <td class={r && r.hour > 0 ? "bad" : ""}>{r ? `${r.hour} / ${r.day}` : "0 / 0"}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        )}
        <section class="card wide">
          <h2>Refusals by reason</h2>
          <RefusalTable rows={props.refusals} now={props.now} base={props.base} />
        </section>
      </div>
    </>
  );
}

export function Definition(props: { e: CompiledEndpoint }) {
  const { config } = props.e;
  const profile = config.kind === "profile-update" ? (config as ProfileUpdateEndpoint) : undefined;
  return (
    <section class="card">
      <h2>Definition</h2>
      <dl class="counts">
        <dt>URL</dt>
        <dd>
          <code>/in/{props.e.path}</code>
        </dd>
        <dt>Kind</dt>
        <dd>{config.kind}</dd>
        <dt>Authentication</dt>
        <dd>{config.auth.kind}</dd>
        <dt>Defined in</dt>
        <dd>{props.e.source === "config" ? "the config file" : "the admin API"}</dd>
        <dt>Addresses</dt>
        <dd>{config.ipAllowlist ? config.ipAllowlist.join(", ") : "any"}</dd>
        <dt>Replays</dt>
        <dd>dedupe {config.dedupe}</dd>
        <dt>Body limit</dt>
        <dd>{size(config.bodyLimit)}</dd>
        <dt>Stores</dt>
        <dd>{stores(config)}</dd>
        {profile ? (
          <>
            <dt>Identifier</dt>
            <dd>
              {profile.identifier.property} from ?{profile.identifier.query ?? profile.identifier.property}
              {profile.identifier.from ? ` or ${profile.identifier.from}` : ""}
            </dd>
          </>
        ) : null}
      </dl>
      {profile && profile.mappings.length > 0 ? (
        <table>
          <thead>
            <tr>
              <th>From</th>
              <th>To property</th>
              <th>Mode</th>
            </tr>
          </thead>
          <tbody>
            {profile.mappings.map((m) => (
              <tr>
                <td>
                  <code>{m.from}</code>
                </td>
                <td>{typeof m.to === "string" ? m.to : `consent: ${m.to.consent}`}</td>
                <td>{"mode" in m ? m.mode : "grant or withdraw"}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

export function Activities(props: {
  base: string;
  name: string;
  rows: StoredActivity[];
  before?: string;
  now: number;
}) {
  const href = `${props.base}/inbound/${encodeURIComponent(props.name)}`;
  const last = props.rows.at(-1);
  return (
    <section class="card wide" aria-label="Recent activities">
      <h2>Recent activities</h2>
      {props.rows.length === 0 ? (
        <p class="muted">No activity received in the last 24 hours{props.before ? " before these" : ""}.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Status</th>
                <th>Customer</th>
                <th>Email / phone</th>
                <th class="hide-narrow">Activity time</th>
                <th>Received</th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map(({ activity: a, receivedAt }) => (
                <tr>
                  <td class={statusTone(a.activityStatus)}>{text(a.activityStatus)}</td>
                  <td>{text(a.contactId ?? a.externalCustomerId)}</td>
                  <td data-part="contact">{text(a.email ?? a.sms)}</td>
                  <td class="hide-narrow">{text(a.activityDateTime)}</td>
                  <td>
                    <At iso={receivedAt} now={props.now} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        {props.before ? <a href={href}>Newest</a> : null}
        {props.rows.length === PAGE_SIZE && last ? (
          <a href={`${href}?before=${encodeURIComponent(last.seq)}`}>Older →</a>
        ) : null}
      </nav>
    </section>
  );
}

export function ProfileUpdates(props: { rows: ProfileUpdateReceipt[]; property: string; now: number }) {
  return (
    <section class="card wide" aria-label="Recent profile updates">
      <h2>Recent profile updates</h2>
      {props.rows.length === 0 ? (
        <p class="muted">No profile update in the last 24 hours.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Received</th>
                <th>{props.property}</th>
                <th class="hide-narrow">Profile</th>
                <th>Result</th>
              </tr>
            </thead>
            <tbody>
              {props.rows.map((u) => {
                const result = (u.response.result ?? {}) as {
                  profileId?: string;
                  created?: boolean;
                  changed?: string[];
                };
                const errors = (u.response.errors ?? []) as Array<{ code?: string; description?: string }>;
                const changed = result.changed ?? [];
                return (
                  <tr>
                    <td>
                      <At iso={u.receivedAt} now={props.now} />
                    </td>
                    <td>{u.identifier ?? ""}</td>
                    <td class="hide-narrow">
                      <code>{result.profileId ?? ""}</code>
                    </td>
                    <td>
                      {result.created ? "created; " : ""}
                      {changed.length > 0
                        ? `changed ${changed.join(", ")}`
                        : result.profileId
                          ? "no change"
                          : ""}
                      {errors.map((e) => (
                        <div class="bad">
                          {text(e.code)}: {text(e.description)}
                        </div>
                      ))}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
