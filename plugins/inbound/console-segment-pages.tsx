/** @jsxImportSource hono/jsx */
import type { Context } from "hono";
import type { z } from "zod";
import type { ConsoleKit } from "../../core/plugin/index.ts";
import type { DefinedSegment } from "./segments/definitions.ts";

// The Segments section's views (console-segments.tsx mounts them): the list, and one segment's
// filter, send form and members.

/** Properties of a member the preview shows (the rest is on its profile). */
const SHOWN_PROPERTIES = 4;

/** An issue as a form shows it: where (`filter.and.1.gt`) and what. */
export type Problem = { path: string; message: string };

/** A zod error's issues as the forms say them. */
export const problemsOf = (error: z.ZodError): Problem[] =>
  error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));

/** A segment's page (`/console/segments/vip`). */
export const segmentUrl = (base: string, name: string) => `${base}/segments/${encodeURIComponent(name)}`;

/** The first few properties of a member, as short `key: value` text. */
function someProperties(properties: Record<string, unknown>): string {
  return Object.entries(properties)
    .slice(0, SHOWN_PROPERTIES)
    .map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" · ");
}

function Problems(props: { title: string; problems: readonly Problem[] }) {
  if (props.problems.length === 0) return null;
  return (
    <div class="notice error" role="alert" data-part="problems">
      <p>{props.title}</p>
      <ul>
        {props.problems.map((p) => (
          <li data-path={p.path}>
            {p.path ? <code>{p.path}</code> : null}
            {p.path ? ": " : ""}
            {p.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * The page of every segment: name, where it is defined, description, and its members now, each count
 * loaded into its cell after the page (`<base>/segments/:name/count`).
 */
export function SegmentList(props: { base: string; segments: readonly DefinedSegment[] }) {
  return (
    <>
      <h1>Segments</h1>
      <p class="muted">
        Audiences over the profiles' properties and consents: a trigger may require one, a schedule or a send
        targets one.
      </p>
      {props.segments.length === 0 ? (
        <p class="muted">
          No segment: add one under <code>segments:</code> in the config file, or with{" "}
          <code>PUT /v1/segments/:name</code>.
        </p>
      ) : (
        <div class="table-wrap">
          <table class="card">
            <thead>
              <tr>
                <th>Segment</th>
                <th>Members</th>
                <th class="hide-narrow">Description</th>
              </tr>
            </thead>
            <tbody>
              {props.segments.map((s) => (
                <tr data-segment={s.name}>
                  <td>
                    <a href={segmentUrl(props.base, s.name)}>{s.name}</a>{" "}
                    <span class="tag">{s.source === "config" ? "config" : "API"}</span>
                  </td>
                  <td
                    data-part="count"
                    hx-get={`${segmentUrl(props.base, s.name)}/count`}
                    hx-trigger="load"
                    hx-swap="innerHTML"
                  >
                    <span class="muted">counting…</span>
                  </td>
                  <td class="hide-narrow">{s.description ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

/** What one segment's page shows besides the segment: the preview page and the forms' state. */
export interface SegmentPageProps {
  kit: ConsoleKit;
  c: Context;
  s: DefinedSegment;
  count: number;
  members: Array<{ id: string; properties: Record<string, unknown> }>;
  after?: string;
  next?: string;
  /** The edit form's text and problems (after a refused save). */
  edit?: { filter: string; description: string; problems: Problem[] };
  send?: { webhook: string; sendId: string; consent: string; problems: Problem[] };
}

/**
 * One segment's page: its filter (an edit form for an API segment and the roles that may PUT it),
 * the send form (for the roles that may send) and a page of its members.
 *
 * @example c.html(<kit.Layout c={c} title="Segment vip"><SegmentPage kit={kit} c={c} {...preview} /></kit.Layout>)
 */
export function SegmentPage(props: SegmentPageProps) {
  const { kit, c, s } = props;
  const url = segmentUrl(kit.base, s.name);
  const editable = s.source === "api" && kit.may(c, "PUT", `/v1/segments/${s.name}`);
  const sendable = kit.may(c, "POST", `/v1/segments/${s.name}/send`);
  const webhooks = [...kit.host.catalogue.webhooks.keys()].sort();
  const send = props.send ?? { webhook: "", sendId: "", consent: "", problems: [] };
  return (
    <>
      <p>
        <a href={`${kit.base}/segments`}>← Segments</a>
      </p>
      <h1>
        Segment <code>{s.name}</code> <span class="tag">{s.source === "config" ? "config" : "API"}</span>
      </h1>
      {s.description ? <p class="muted">{s.description}</p> : null}
      <div class="grid">
        <section class="card" aria-labelledby="h-filter">
          <h2 id="h-filter">Filter</h2>
          {editable ? (
            <form method="post" action={url} class="fields">
              <kit.Csrf c={c} />
              <Problems title="The segment was not saved:" problems={props.edit?.problems ?? []} />
              <div class="full">
                <label for="f-filter">
                  Filter (JSON)
                  <textarea id="f-filter" name="filter" spellcheck={false} data-part="filter">
                    {props.edit?.filter ?? JSON.stringify(s.filter, null, 2)}
                  </textarea>
                </label>
                <p class="hint">
                  The filter language is in docs/campaigns.md (equals, in, exists, gt, and, or, …).
                </p>
              </div>
              <div class="full">
                <label for="f-description">
                  Description
                  <input
                    id="f-description"
                    name="description"
                    value={props.edit?.description ?? s.description ?? ""}
                  />
                </label>
              </div>
              <div class="actions full">
                <button type="submit">Save the segment</button>
              </div>
            </form>
          ) : (
            <>
              <pre data-part="filter">{JSON.stringify(s.filter, null, 2)}</pre>
              {s.source === "config" ? (
                <p class="muted">Defined in the config file (segments:): change it there.</p>
              ) : null}
            </>
          )}
        </section>
        {sendable ? (
          <section class="card" aria-labelledby="h-send">
            <h2 id="h-send">Send</h2>
            <p class="muted">
              One delivery per member (a batch webhook's in batches), as one run with progress.
            </p>
            <form method="post" action={`${url}/send`} class="fields">
              <kit.Csrf c={c} />
              <Problems title="The send was not started:" problems={send.problems} />
              <div>
                <label for="f-webhook">
                  Webhook
                  <select id="f-webhook" name="webhook" required>
                    <option value="">—</option>
                    {webhooks.map((w) => (
                      <option value={w} selected={w === send.webhook}>
                        {w}
                      </option>
                    ))}
                  </select>
                </label>
              </div>
              <div>
                <label for="f-sendId">
                  Send id
                  <input id="f-sendId" name="sendId" value={send.sendId} placeholder="spring-sale" />
                </label>
                <p class="hint">Optional: the same id again writes nothing twice.</p>
              </div>
              <div class="full">
                <label for="f-consent">
                  Consent objectives
                  <input
                    id="f-consent"
                    name="consent"
                    value={send.consent}
                    placeholder="marketing-email, sms"
                  />
                </label>
                <p class="hint">
                  Comma-separated, beyond the webhook's own; a member without any one is skipped (consent).
                </p>
              </div>
              <div class="actions full">
                <button type="submit">Send to {props.count} members</button>
              </div>
            </form>
          </section>
        ) : null}
        <section class="card wide" aria-labelledby="h-preview">
          <h2 id="h-preview">
            Members{" "}
            <span class="badge" data-part="count">
              {props.count}
            </span>
          </h2>
          {props.members.length === 0 ? (
            <p class="muted">No profile is in this segment now.</p>
          ) : (
            <div class="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th>Profile</th>
                    <th>Properties</th>
                  </tr>
                </thead>
                <tbody>
                  {props.members.map((m) => (
                    <tr data-member={m.id}>
                      <td>
                        <code>{m.id}</code>
                      </td>
                      <td>{someProperties(m.properties)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <nav class="pager" aria-label="Pages">
            {props.after ? <a href={url}>First</a> : null}
            {props.next ? <a href={`${url}?after=${encodeURIComponent(props.next)}`}>Next →</a> : null}
          </nav>
        </section>
      </div>
    </>
  );
}
