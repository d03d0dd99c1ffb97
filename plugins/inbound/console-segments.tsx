/** @jsxImportSource hono/jsx */
import type { Context } from "hono";
import type { z } from "zod";
import { type ConsoleKit, type ConsoleSection, HttpError, type PluginHost } from "../../core/plugin/index.ts";
import { SegmentDefinition } from "./config.ts";
import { previewMembers } from "./segments/admin.ts";
import { type DefinedSegment, definedSegment, listSegments, storeSegment } from "./segments/definitions.ts";
import { segmentSize } from "./segments/members.ts";
import { SendBody, startSegmentSend } from "./segments/send.ts";

// The Segments section: the console's face of `/v1/segments*` and `POST /v1/segments/:name/send`.
// Only console.tsx imports this module, so the edge build (which stubs console.tsx) never carries it.

/** Members per preview page. */
const PAGE = 20;
/** Properties of a member the preview shows (the rest is on its profile). */
const SHOWN_PROPERTIES = 4;

/** An issue as a form shows it: where (`filter.and.1.gt`) and what. */
type Problem = { path: string; message: string };

const problemsOf = (error: z.ZodError): Problem[] =>
  error.issues.map((i) => ({ path: i.path.map(String).join("."), message: i.message }));

const notFound = (name: string) => new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no segment "${name}"`);

const segmentUrl = (base: string, name: string) => `${base}/segments/${encodeURIComponent(name)}`;

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

/** The page of every segment: name, where it is defined, description, members now. */
function SegmentList(props: { base: string; rows: Array<{ s: DefinedSegment; count: number }> }) {
  return (
    <>
      <h1>Segments</h1>
      <p class="muted">
        Audiences over the profiles' properties and consents: a trigger may require one, a schedule or a send
        targets one.
      </p>
      {props.rows.length === 0 ? (
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
              {props.rows.map(({ s, count }) => (
                <tr data-segment={s.name}>
                  <td>
                    <a href={segmentUrl(props.base, s.name)}>{s.name}</a>{" "}
                    <span class="tag">{s.source === "config" ? "config" : "API"}</span>
                  </td>
                  <td data-part="count">{count}</td>
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
interface SegmentPageProps {
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

function SegmentPage(props: SegmentPageProps) {
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

/** The segment, its member count and a preview page after `after` (as `GET /v1/segments/:name/preview`). */
async function previewOf(host: PluginHost, name: string, after?: string) {
  const s = await definedSegment(host, name);
  if (!s) throw notFound(name);
  const now = Date.now();
  const [count, rows] = await Promise.all([
    segmentSize(host.sql, s.filter, { now }),
    previewMembers(host.sql, s.filter, { now, limit: PAGE + 1, ...(after ? { after } : {}) }),
  ]);
  const members = rows.slice(0, PAGE);
  return {
    s,
    count,
    members,
    ...(after ? { after } : {}),
    ...(rows.length > PAGE ? { next: members.at(-1)!.id } : {}),
  };
}

const list = (v: unknown) =>
  String(v ?? "")
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);

/**
 * The Segments section (`/console/segments`): every segment with its member count; one segment's
 * filter (editable as JSON for admin-API segments and the roles that may `PUT /v1/segments/:name`),
 * its members page by page, and a send to a webhook that starts `POST /v1/segments/:name/send`'s work
 * and shows the run's progress (`/console/deliveries/runs/:id`).
 *
 * @example sections.push(segmentsSection())
 */
export function segmentsSection(): ConsoleSection {
  const params = { name: "the segment's name" };
  return {
    path: "segments",
    label: "Segments",
    order: 65,
    mount(pages, kit) {
      pages.get("/", kit.page("The console's segments, with their member counts"), async (c) => {
        kit.allow(c, "GET", "/v1/segments");
        const segments = await listSegments(kit.host);
        const now = Date.now();
        const rows = await Promise.all(
          segments.map(async (s) => ({ s, count: await segmentSize(kit.host.sql, s.filter, { now }) })),
        );
        return c.html(
          <kit.Layout c={c} title="Segments" active="segments">
            <SegmentList base={kit.base} rows={rows} />
          </kit.Layout>,
        );
      });

      const render = (c: Context, p: Omit<SegmentPageProps, "kit" | "c">, status: 200 | 400 = 200) =>
        c.html(
          <kit.Layout c={c} title={`Segment ${p.s.name}`} active="segments">
            <SegmentPage kit={kit} c={c} {...p} />
          </kit.Layout>,
          status,
        );

      pages.get(
        "/:name",
        kit.page("One segment: its filter, its members page by page, and a send", {
          params,
          answers: {
            200: { description: "an HTML page" },
            404: { description: "a page saying there is no such segment" },
          },
        }),
        async (c) => {
          const name = c.req.param("name") ?? "";
          kit.allow(c, "GET", `/v1/segments/${name}/preview`);
          return render(c, await previewOf(kit.host, name, c.req.query("after") || undefined));
        },
      );

      pages.post(
        "/:name",
        kit.page("Saves a segment's filter and description (as PUT /v1/segments/:name)", {
          params,
          answers: {
            303: { description: "saved: back to the segment" },
            400: { description: "the page, with the problems at their paths" },
            409: { description: "a segment of the config file" },
          },
        }),
        async (c) => {
          const name = c.req.param("name") ?? "";
          kit.allow(c, "PUT", `/v1/segments/${name}`);
          const current = await definedSegment(kit.host, name);
          if (!current) throw notFound(name);
          if (current.source === "config")
            throw new HttpError(
              "HOOKLINE_HTTP_CONFLICT",
              `segment "${name}" is defined in the config file (segments:); change it there`,
            );
          const form = await c.req.parseBody();
          const filter = String(form.filter ?? "");
          const description = String(form.description ?? "").trim();
          let problems: Problem[];
          try {
            const parsed = SegmentDefinition.safeParse({
              filter: JSON.parse(filter),
              ...(description ? { description } : {}),
            });
            if (parsed.success) {
              await storeSegment(kit.host.sql, name, parsed.data);
              return c.redirect(segmentUrl(kit.base, name), 303);
            }
            problems = problemsOf(parsed.error);
          } catch (e) {
            problems = [{ path: "filter", message: `not JSON: ${(e as Error).message}` }];
          }
          const p = await previewOf(kit.host, name);
          return render(c, { ...p, edit: { filter, description, problems } }, 400);
        },
      );

      pages.post(
        "/:name/send",
        kit.page("Starts a send to a segment (as POST /v1/segments/:name/send), then shows its run", {
          params,
          answers: {
            303: { description: "started: to the run's progress" },
            400: { description: "the page, saying what is wrong with the send" },
            404: { description: "no such segment or webhook" },
          },
        }),
        async (c) => {
          const name = c.req.param("name") ?? "";
          kit.allow(c, "POST", `/v1/segments/${name}/send`);
          const form = await c.req.parseBody();
          const webhook = String(form.webhook ?? "");
          const sendId = String(form.sendId ?? "").trim();
          const consent = String(form.consent ?? "").trim();
          const parsed = SendBody.safeParse({
            webhook,
            ...(sendId ? { sendId } : {}),
            ...(consent ? { consent: list(consent) } : {}),
          });
          if (!parsed.success) {
            const p = await previewOf(kit.host, name);
            return render(
              c,
              { ...p, send: { webhook, sendId, consent, problems: problemsOf(parsed.error) } },
              400,
            );
          }
          const { runId } = await startSegmentSend(kit.host, name, parsed.data);
          return c.redirect(`${kit.base}/deliveries/runs/${encodeURIComponent(runId)}`, 303);
        },
      );
    },
  };
}
