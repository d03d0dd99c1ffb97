import type { Hono } from "hono";
import { z } from "zod";
import {
  answer,
  documented,
  HttpError,
  json,
  type PluginHost,
  parseOr,
  query,
  type SqlExecutor,
} from "../../../core/plugin/index.ts";
import { SegmentDefinition, SegmentName } from "../config.ts";
import { compileFilter } from "./compile.ts";
import {
  type DefinedSegment,
  definedSegment,
  deleteStoredSegment,
  listSegments,
  storeSegment,
} from "./definitions.ts";
import type { SegmentFilter } from "./filter.ts";
import { segmentSize } from "./members.ts";
import { segmentsNamedBy } from "./triggers.ts";

// The segments' admin API: named segments (the config file's, read-only, and those stored here) and a
// preview of who is in one. Mounted by admin-routes.ts, so left out of the edge build with it.

const SegmentView = z
  .object({
    name: z.string(),
    description: z.string().optional(),
    filter: z.record(z.string(), z.unknown()).describe("the segment filter (docs/campaigns.md)"),
    source: z.enum(["config", "api"]).describe("config: the config file's segments: (read-only)"),
    updatedAt: z.string().optional().describe("when a stored segment was last set"),
  })
  .strict();

const pageSize = "a whole number from 1 to 100";
const PreviewQuery = z
  .object({
    limit: z
      .string()
      .regex(/^\d{1,3}$/, pageSize)
      .transform(Number)
      .pipe(z.number().min(1, pageSize).max(100, pageSize))
      .optional()
      .describe("members per page, 1 to 100; default 20"),
    after: z.string().min(1).optional().describe("the page after this profile id (the last one's `next`)"),
  })
  .strict();

const Preview = z
  .object({
    segment: z.string(),
    count: z.number().int().describe("the members now, all pages together"),
    members: z
      .array(z.object({ id: z.string(), properties: z.record(z.string(), z.unknown()) }).strict())
      .describe("members in profile id order"),
    next: z.string().optional().describe("give as ?after= for the next page; absent on the last one"),
  })
  .strict();

const tags = ["Segments"];
const params = { name: "the segment's name" };
const notFound = (name: string) => new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no segment "${name}"`);
const readOnly = (name: string) =>
  new HttpError(
    "HOOKLINE_HTTP_CONFLICT",
    `segment "${name}" is defined in the config file (segments:); change it there`,
  );

/**
 * Mounts `GET /v1/segments`, `GET/PUT/DELETE /v1/segments/:name` and `GET /v1/segments/:name/preview`.
 * Handlers throw; the app's one error handler answers.
 *
 * @example mountSegments(http, host)
 */
export function mountSegments(http: Hono, host: PluginHost): void {
  http.get(
    "/v1/segments",
    documented({
      summary: "List segments",
      description: "The config file's segments and those of the admin API, by name.",
      tags,
      answers: {
        200: { description: "every segment", schema: z.object({ segments: z.array(SegmentView) }) },
      },
    }),
    async () => answer(200, { segments: await listSegments(host) }),
  );
  http.get(
    "/v1/segments/:name",
    documented({
      summary: "A segment",
      tags,
      params,
      answers: { 200: { description: "the segment", schema: SegmentView } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND"],
    }),
    async (c) => answer(200, await found(host, c.req.param("name"))),
  );
  http.put(
    "/v1/segments/:name",
    documented({
      summary: "Create or replace a segment",
      description:
        "The filter is checked (docs/campaigns.md); each problem is an issue at its place (`filter.and.1.gt`). A segment of the config file cannot be replaced (409).",
      tags,
      params,
      answers: {
        200: { description: "replaced", schema: SegmentView },
        201: { description: "created", schema: SegmentView },
      },
      errors: ["HOOKLINE_HTTP_CONFLICT"],
    }),
    json(SegmentDefinition, "invalid segment"),
    async (c) => {
      const name = parseOr(SegmentName, c.req.param("name"), "invalid segment name");
      if ((await definedSegment(host, name))?.source === "config") throw readOnly(name);
      const { created } = await storeSegment(host.sql, name, c.req.valid("json"));
      return answer(created ? 201 : 200, await found(host, name));
    },
  );
  http.delete(
    "/v1/segments/:name",
    documented({
      summary: "Delete a segment of the admin API",
      tags,
      params,
      answers: { 204: { description: "deleted" } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND", "HOOKLINE_HTTP_CONFLICT"],
    }),
    async (c) => {
      const name = c.req.param("name");
      if ((await definedSegment(host, name))?.source === "config") throw readOnly(name);
      const users = host.catalogue.triggers
        .slice(0, host.config.triggers.length)
        .flatMap((t, i) => (segmentsNamedBy(t).includes(name) ? [`triggers[${i}]`] : []));
      if (users.length > 0)
        throw new HttpError(
          "HOOKLINE_HTTP_CONFLICT",
          `segment "${name}" is named by ${users.join(", ")} of the config file; remove it there first`,
        );
      if (!(await deleteStoredSegment(host.sql, name))) throw notFound(name);
      return new Response(null, { status: 204 });
    },
  );
  http.get(
    "/v1/segments/:name/preview",
    documented({
      summary: "Who is in a segment: the member count and a page of members",
      description:
        "The filter is evaluated now (relative times count from this request). Members come in profile id order, with their properties; `next` pages on.",
      tags,
      params,
      answers: { 200: { description: "the count and a page of members", schema: Preview } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND", "HOOKLINE_HTTP_PARAM"],
    }),
    query(PreviewQuery, "invalid preview query"),
    async (c) => {
      const segment = await found(host, c.req.param("name"));
      const { limit = 20, after } = c.req.valid("query");
      const now = Date.now();
      const [count, members] = await Promise.all([
        segmentSize(host.sql, segment.filter, { now }),
        previewMembers(host.sql, segment.filter, { now, limit: limit + 1, after }),
      ]);
      const page = members.slice(0, limit);
      return answer(200, {
        segment: segment.name,
        count,
        members: page,
        ...(members.length > limit ? { next: page.at(-1)!.id } : {}),
      });
    },
  );
}

async function found(host: PluginHost, name: string): Promise<DefinedSegment> {
  const segment = await definedSegment(host, name);
  if (!segment) throw notFound(name);
  return segment;
}

/**
 * A page of members with their properties, in id order after `after` (the preview's, and the console's).
 *
 * @example const page = await previewMembers(host.sql, segment.filter, { now: Date.now(), limit: 21 });
 */
export async function previewMembers(
  sql: SqlExecutor,
  filter: SegmentFilter,
  options: { now: number; limit: number; after?: string },
): Promise<Array<{ id: string; properties: Record<string, unknown> }>> {
  const { where, params } = compileFilter(filter, { now: options.now, firstParam: 3 });
  const rows = await sql.query<{ id: string; properties: unknown }>(
    `SELECT p.id, p.properties::text AS properties FROM hookline_profiles p
      WHERE p.id > $1 AND ${where} ORDER BY p.id LIMIT $2::int`,
    [options.after ?? "", String(options.limit), ...params],
  );
  return rows.map((r) => ({
    id: r.id,
    properties: typeof r.properties === "string" ? JSON.parse(r.properties) : r.properties,
  }));
}
