import type { Hono } from "hono";
import type { z } from "zod";
import { answer, HttpError, json, type PluginHost, parseOr } from "../../core/plugin/index.ts";
import { endpointName, type InboundEndpoint } from "./config.ts";
import { findProfileId, readProfile, readTimeline } from "./profile-repository.ts";
import type { EndpointRegistry } from "./registry.ts";
import { recentActivities } from "./repository.ts";

const notFound = (name: string) => new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no inbound endpoint "${name}"`);

/**
 * The inbound plugin's admin API: `GET/PUT/DELETE /v1/inbound/:name`, `GET /v1/inbound/:name/activities`
 * and `GET /v1/profiles/:id` (or `?property=&value=`). Handlers throw (`HttpError`, or the store's
 * errors) and the app's one error handler answers. The edge worker, which serves receivers only, is
 * built without this module (scripts/build-edge.ts).
 *
 * @example mountAdmin(http, host, registry, schemas.InboundEndpoint)
 */
export function mountAdmin(
  http: Hono,
  host: PluginHost,
  registry: EndpointRegistry,
  endpoint: z.ZodType<InboundEndpoint>,
) {
  const view = (e: { name: string; path: string; source: string; config: InboundEndpoint }) => ({
    name: e.name,
    url: `/in/${e.path}`,
    source: e.source,
    config: registry.masked(e.config),
  });

  http.get("/v1/inbound", async () => answer(200, { endpoints: (await registry.list()).map(view) }));
  http.get("/v1/inbound/:name", async (c) => {
    const e = await registry.byName(c.req.param("name"));
    if (!e) throw notFound(c.req.param("name"));
    return answer(200, view(e));
  });
  http.put("/v1/inbound/:name", json(endpoint, "invalid inbound endpoint"), async (c) => {
    const name = parseOr(endpointName, c.req.param("name"), "invalid endpoint name");
    const out = await registry.put(name, c.req.valid("json"));
    if ("conflict" in out) throw new HttpError("HOOKLINE_HTTP_CONFLICT", out.conflict);
    return answer(out.created ? 201 : 200, view((await registry.byName(name))!));
  });
  http.delete("/v1/inbound/:name", async (c) => {
    const e = await registry.byName(c.req.param("name"));
    if (e?.source === "config")
      throw new HttpError("HOOKLINE_HTTP_CONFLICT", `endpoint "${e.name}" is defined in the config file`);
    if (!(await registry.remove(c.req.param("name")))) throw notFound(c.req.param("name"));
    return new Response(null, { status: 204 });
  });
  http.get("/v1/inbound/:name/activities", async (c) => {
    const limit = Math.min(Math.max(Number(c.req.query("limit") ?? 100) || 100, 1), 1000);
    const since = Date.parse(c.req.query("since") ?? "") || Date.now() - 86_400_000;
    return answer(200, {
      activities: await recentActivities(host.sql, c.req.param("name"), new Date(since), limit),
    });
  });

  http.get("/v1/profiles", async (c) => {
    const property = c.req.query("property");
    const value = c.req.query("value");
    if (!property || !value)
      throw new HttpError("HOOKLINE_HTTP_PARAM", "give ?property=…&value=… (an identifier)");
    const id = await findProfileId(host.sql, property, value);
    const profile = id ? await readProfile(host.sql, id) : undefined;
    if (!profile) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", "no profile with that identifier");
    return answer(200, { profile });
  });
  http.get("/v1/profiles/:id", async (c) => {
    const profile = await readProfile(host.sql, c.req.param("id"));
    if (!profile) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no profile ${c.req.param("id")}`);
    return answer(200, { profile, timeline: await readTimeline(host.sql, profile.id, 100) });
  });
}
