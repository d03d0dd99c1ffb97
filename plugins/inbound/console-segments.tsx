/** @jsxImportSource hono/jsx */
import type { Context } from "hono";
import { type ConsoleSection, HttpError, type PluginHost } from "../../core/plugin/index.ts";
import { SegmentDefinition } from "./config.ts";
import {
  type Problem,
  problemsOf,
  SegmentList,
  SegmentPage,
  type SegmentPageProps,
  segmentUrl,
} from "./console-segment-pages.tsx";
import { previewMembers } from "./segments/admin.ts";
import { definedSegment, listSegments, storeSegment } from "./segments/definitions.ts";
import { segmentSize } from "./segments/members.ts";
import { SendBody, startSegmentSend } from "./segments/send.ts";

// The Segments section: the console's face of `/v1/segments*` and `POST /v1/segments/:name/send`.
// Only console.tsx imports this module, so the edge build (which stubs console.tsx) never carries it.

/** Members per preview page. */
const PAGE = 20;

const notFound = (name: string) => new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no segment "${name}"`);

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
      // The list answers at once; each member count (a count over the profiles, which may be
      // millions) fills its cell as it comes (`/:name/count`), so one slow segment holds up no page.
      pages.get("/", kit.page("The console's segments; their member counts follow"), async (c) => {
        kit.allow(c, "GET", "/v1/segments");
        return c.html(
          <kit.Layout c={c} title="Segments" active="segments">
            <SegmentList base={kit.base} segments={await listSegments(kit.host)} />
          </kit.Layout>,
        );
      });

      pages.get(
        "/:name/count",
        kit.page("A segment's member count now (an HTML fragment the list loads)", {
          params,
          answers: {
            200: { description: "the count, as text" },
            404: { description: "no such segment" },
          },
        }),
        async (c) => {
          const name = c.req.param("name") ?? "";
          kit.allow(c, "GET", `/v1/segments/${name}/preview`);
          const s = await definedSegment(kit.host, name);
          if (!s) throw notFound(name);
          return c.html(String(await segmentSize(kit.host.sql, s.filter, { now: Date.now() })));
        },
      );

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
