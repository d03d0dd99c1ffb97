import type { Hono } from "hono";
import { z } from "zod";
import {
  answer,
  type ContributedRouteDoc,
  documented,
  type EventInput,
  HttpError,
  json,
  type PluginHost,
  parseOr,
  query,
} from "../../core/plugin/index.ts";
import { ActivityQuery, activityFilter, MAX_WINDOW_DAYS, queryActivities } from "./activity-query.ts";
import { endpointName, type InboundEndpoint } from "./config.ts";
import {
  findProfileId,
  readConsents,
  readProfile,
  readTimeline,
  writeConsents,
} from "./profile-repository.ts";
import { receiverDocs } from "./receiver-docs.ts";
import type { EndpointRegistry } from "./registry.ts";
import { mountSegments } from "./segments/admin.ts";
import { FILTER_LIMITS, Objective } from "./segments/filter.ts";
import { mountSegmentSend } from "./segments/send.ts";

const notFound = (name: string) => new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no inbound endpoint "${name}"`);

// The answers' shapes, for the OpenAPI document (GET /openapi.json).
const EndpointView = z
  .object({
    name: z.string(),
    url: z.string().describe("where senders post: /in/<path>"),
    source: z.enum(["config", "api"]),
    config: z.record(z.string(), z.unknown()).describe("the endpoint's config, secrets masked"),
  })
  .strict();
const Profile = z
  .object({
    id: z.string(),
    properties: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
    updatedAt: z.string(),
    identifiers: z.array(z.object({ property: z.string(), value: z.string() }).strict()),
  })
  .strict();
const TimelineEvent = z
  .object({
    type: z.string(),
    at: z.string(),
    data: z.record(z.string(), z.unknown()),
    endpoint: z.string().nullable().optional(),
  })
  .strict();
const Consent = z
  .object({
    granted: z.boolean().describe("true: given; false: withdrawn"),
    at: z.string().describe("when it was given or withdrawn (ISO 8601)"),
    source: z.string().describe("what set it"),
  })
  .strict();
const Consents = z.object({ consents: z.record(z.string(), Consent) }).strict();
const ConsentsBody = z
  .object({
    consents: z
      .record(
        z.string(),
        z
          .object({
            granted: z.boolean({ error: "expected true (given) or false (withdrawn)" }),
            at: z.iso
              .datetime({
                offset: true,
                error: "expected an ISO 8601 date-time such as 2025-06-01T09:30:00Z",
              })
              .optional()
              .describe(
                "when it was given or withdrawn; default: now. An older change than the stored one is ignored",
              ),
            source: z.string().min(1).max(200).optional().describe('what set it; default "api"'),
          })
          .strict(),
      )
      // Each key checked here rather than by the record, whose issue would not say what a key must be.
      .superRefine((c, ctx) => {
        for (const key of Object.keys(c)) {
          const problem = Objective.safeParse(key).error?.issues[0]?.message;
          if (problem) ctx.addIssue({ code: "custom", path: [key], message: problem });
        }
      })
      .refine((c) => Object.keys(c).length > 0, "expected at least one objective")
      .refine(
        (c) => Object.keys(c).length <= FILTER_LIMITS.objectives,
        `expected at most ${FILTER_LIMITS.objectives} objectives`,
      ),
  })
  .strict();
const tags = ["Inbound"];
const params = { name: "the endpoint's name" };
const endpointAnswer = { description: "the endpoint", schema: EndpointView };

/**
 * The inbound plugin's admin API: `GET/PUT/DELETE /v1/inbound/:name`, `GET /v1/inbound/:name/activities`
 * and `GET /v1/profiles/:id` (or `?property=&value=`). Handlers throw (`HttpError`, or the store's
 * errors) and the app's one error handler answers. Returns the documentation of the receivers
 * (`/in/:path`) for the OpenAPI document. The edge worker, which serves receivers only, is built
 * without this module (scripts/build-edge.ts), so without that documentation.
 *
 * @example const receivers = mountAdmin(http, host, registry, schemas.InboundEndpoint)
 */
export function mountAdmin(
  http: Hono,
  host: PluginHost,
  registry: EndpointRegistry,
  endpoint: z.ZodType<InboundEndpoint>,
): readonly ContributedRouteDoc[] {
  const view = (e: { name: string; path: string; source: string; config: InboundEndpoint }) => ({
    name: e.name,
    url: `/in/${e.path}`,
    source: e.source,
    config: registry.masked(e.config),
  });
  mountSegmentSend(http, host);

  http.get(
    "/v1/inbound",
    documented({
      summary: "List inbound endpoints",
      tags,
      answers: {
        200: { description: "every endpoint", schema: z.object({ endpoints: z.array(EndpointView) }) },
      },
    }),
    async () => answer(200, { endpoints: (await registry.list()).map(view) }),
  );
  http.get(
    "/v1/inbound/:name",
    documented({
      summary: "An inbound endpoint",
      tags,
      params,
      answers: { 200: endpointAnswer },
      errors: ["HOOKLINE_HTTP_NOT_FOUND"],
    }),
    async (c) => {
      const e = await registry.byName(c.req.param("name"));
      if (!e) throw notFound(c.req.param("name"));
      return answer(200, view(e));
    },
  );
  http.put(
    "/v1/inbound/:name",
    documented({
      summary: "Create or replace an inbound endpoint",
      tags,
      params,
      answers: { 200: endpointAnswer, 201: { description: "created", schema: EndpointView } },
      errors: ["HOOKLINE_HTTP_CONFLICT"],
    }),
    json(endpoint, "invalid inbound endpoint"),
    async (c) => {
      const name = parseOr(endpointName, c.req.param("name"), "invalid endpoint name");
      const out = await registry.put(name, c.req.valid("json"));
      if ("conflict" in out) throw new HttpError("HOOKLINE_HTTP_CONFLICT", out.conflict);
      return answer(out.created ? 201 : 200, view((await registry.byName(name))!));
    },
  );
  http.delete(
    "/v1/inbound/:name",
    documented({
      summary: "Delete an inbound endpoint of the admin API",
      tags,
      params,
      answers: { 204: { description: "deleted" } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND", "HOOKLINE_HTTP_CONFLICT"],
    }),
    async (c) => {
      const e = await registry.byName(c.req.param("name"));
      if (e?.source === "config")
        throw new HttpError("HOOKLINE_HTTP_CONFLICT", `endpoint "${e.name}" is defined in the config file`);
      if (!(await registry.remove(c.req.param("name")))) throw notFound(c.req.param("name"));
      return new Response(null, { status: 204 });
    },
  );
  http.get(
    "/v1/inbound/:name/activities",
    documented({
      summary: "An endpoint's stored activities, newest first, filtered and paged",
      description: `Filters as eSputnik's public API does: a window of received times (default: the last 24 hours; at most ${MAX_WINDOW_DAYS} days), statuses, a contact's email or phone (\`sms\`), matched exactly as stored. Pages by \`after\`: the previous page's \`next\`.`,
      tags,
      params,
      answers: {
        200: {
          description: "the activities as stored (eSputnik's fields), each with its receivedAt",
          schema: z.object({
            activities: z.array(z.record(z.string(), z.unknown())),
            next: z
              .string()
              .optional()
              .describe("the cursor of the next page (`after`), when there may be one"),
          }),
        },
      },
      errors: ["HOOKLINE_HTTP_NOT_FOUND"],
    }),
    query(ActivityQuery, "invalid query"),
    async (c) => {
      const filter = activityFilter(c.req.valid("query"), Date.now());
      const e = await registry.byName(c.req.param("name"));
      if (!e) throw notFound(c.req.param("name"));
      return answer(200, await queryActivities(host.sql, e.name, filter));
    },
  );

  http.get(
    "/v1/profiles",
    documented({
      summary: "The profile with an identifier",
      tags,
      query: z.object({
        property: z.string().describe("an identifier property"),
        value: z.string().describe("its value"),
      }),
      answers: { 200: { description: "the profile", schema: z.object({ profile: Profile }) } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND"],
    }),
    async (c) => {
      const property = c.req.query("property");
      const value = c.req.query("value");
      if (!property || !value)
        throw new HttpError("HOOKLINE_HTTP_PARAM", "give ?property=…&value=… (an identifier)");
      const id = await findProfileId(host.sql, property, value);
      const profile = id ? await readProfile(host.sql, id) : undefined;
      if (!profile) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", "no profile with that identifier");
      return answer(200, { profile });
    },
  );
  http.get(
    "/v1/profiles/:id",
    documented({
      summary: "A profile and its latest 100 timeline events",
      tags,
      params: { id: "the profile's id" },
      answers: {
        200: {
          description: "the profile",
          schema: z.object({ profile: Profile, timeline: z.array(TimelineEvent) }),
        },
      },
      errors: ["HOOKLINE_HTTP_NOT_FOUND"],
    }),
    async (c) => {
      const profile = await readProfile(host.sql, c.req.param("id"));
      if (!profile) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no profile ${c.req.param("id")}`);
      return answer(200, { profile, timeline: await readTimeline(host.sql, profile.id, 100) });
    },
  );
  http.get(
    "/v1/profiles/:id/consents",
    documented({
      summary: "A profile's consents by objective",
      tags,
      params: { id: "the profile's id" },
      answers: { 200: { description: "granted or withdrawn, when and through what", schema: Consents } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND"],
    }),
    async (c) => {
      const id = c.req.param("id");
      if (!(await readProfile(host.sql, id)))
        throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no profile ${id}`);
      return answer(200, { consents: await readConsents(host.sql, id) });
    },
  );
  http.put(
    "/v1/profiles/:id/consents",
    documented({
      summary: "Give or withdraw a profile's consent to objectives",
      description:
        "Sets each objective named (others keep theirs). A change dated before the stored one is ignored, so that decisions arriving out of order end at the latest. Segment filters read them (`consent: [objective]`, docs/campaigns.md).",
      tags,
      params: { id: "the profile's id" },
      answers: { 200: { description: "the profile's consents afterwards", schema: Consents } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND"],
    }),
    json(ConsentsBody, "invalid consents"),
    async (c) => {
      const id = c.req.param("id");
      const now = new Date().toISOString();
      const changes = Object.entries(c.req.valid("json").consents).map(([objective, v]) => ({
        objective,
        granted: v.granted,
        at: v.at ? new Date(v.at).toISOString() : now,
        source: v.source ?? "api",
      }));
      // Segment entry and exit these consents cause, published once they are committed.
      const raised: EventInput[] = [];
      const cause = `consents.${crypto.randomUUID()}`;
      const consents = await writeConsents(host.sql, id, changes, { source: host, cause, raised });
      if (!consents) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no profile ${id}`);
      if (raised.length > 0) await host.publish(raised);
      return answer(200, { consents });
    },
  );
  mountSegments(http, host);
  return receiverDocs();
}
