import type { Hono } from "hono";
import {
  answer,
  HooklineError,
  type HttpRoutes,
  type PluginHost,
  zodIssues,
} from "../../core/plugin/index.ts";
import { ActivityStore, type GroupCommitTuning } from "./activity-status.ts";
import { endpointName, type InboundEndpoint, type InboundSchemas, type InboundSection } from "./config.ts";
import { findProfileId, readProfile, readTimeline } from "./profile-repository.ts";
import { receiveAt } from "./receive.ts";
import { EndpointRegistry } from "./registry.ts";
import { recentActivities } from "./repository.ts";

const down = (host: PluginHost, e: unknown) => {
  host.logger.log("error", "store unavailable", { error: (e as Error).message });
  return answer(503, { error: "store unavailable; try again" });
};

/**
 * The inbound routes: `/in/<path>` for every endpoint (config file and API), the admin API
 * `GET/PUT/DELETE /v1/inbound/:name`, `GET /v1/inbound/:name/activities?since=&limit=` (default: the
 * last 24 hours, newest first), and `GET /v1/profiles/:id` (or `?property=&value=`). `schemas` gives
 * the endpoint schemas for the app's authentication kinds; it is called once, when they mount.
 *
 * An app that does not send (`host.sends === false`: the edge worker) keeps no receiver state across
 * requests: workerd cancels a request that waits on another request's I/O (a shared group commit, a
 * registry reload) and refuses I/O across requests. Each request there compiles the endpoints anew
 * (a remote JWKS is fetched per request).
 *
 * @example c.register(Tokens.HttpRoutes, { useValue: inboundRoutes(() => inboundSchemas(kinds)) })
 */
export const inboundRoutes = (schemas: () => InboundSchemas, tuning: GroupCommitTuning = {}): HttpRoutes => ({
  name: "inbound",
  mount(http: Hono, host: PluginHost) {
    const { kinds, InboundEndpoint: endpointSchema } = schemas();
    const section = host.config.sections.inbound as InboundSection;
    const receivers = () => ({
      registry: new EndpointRegistry(host, section, kinds),
      store: new ActivityStore(host, tuning),
    });
    const shared = host.sends ? receivers() : undefined;
    const state = () => shared ?? receivers();

    const view = (
      registry: EndpointRegistry,
      e: { name: string; path: string; source: string; config: InboundEndpoint },
    ) => ({ name: e.name, url: `/in/${e.path}`, source: e.source, config: registry.masked(e.config) });

    http.all("/in/*", async (c, next) => {
      const { registry, store } = state();
      const path = c.req.path.slice("/in/".length);
      return (await receiveAt(host, registry, store, path, c.req.raw, c.env)) ?? next();
    });

    http.get("/v1/inbound", async () => {
      const { registry } = state();
      try {
        return answer(200, { endpoints: (await registry.list()).map((e) => view(registry, e)) });
      } catch (e) {
        return down(host, e);
      }
    });
    http.get("/v1/inbound/:name", async (c) => {
      const { registry } = state();
      try {
        const e = await registry.byName(c.req.param("name"));
        return e
          ? answer(200, view(registry, e))
          : answer(404, { error: `no inbound endpoint "${c.req.param("name")}"` });
      } catch (e) {
        return down(host, e);
      }
    });
    http.put("/v1/inbound/:name", async (c) => {
      const { registry } = state();
      const name = endpointName.safeParse(c.req.param("name"));
      if (!name.success)
        return answer(400, { error: "invalid endpoint name", issues: zodIssues(name.error) });
      let body: unknown;
      try {
        body = await c.req.json();
      } catch (e) {
        return answer(400, { error: `request body is not valid JSON: ${(e as Error).message}` });
      }
      const parsed = endpointSchema.safeParse(body);
      if (!parsed.success)
        return answer(400, { error: "invalid inbound endpoint", issues: zodIssues(parsed.error) });
      try {
        const out = await registry.put(name.data, parsed.data);
        if ("conflict" in out) return answer(409, { error: out.conflict });
        const e = (await registry.byName(name.data))!;
        return answer(out.created ? 201 : 200, view(registry, e));
      } catch (e) {
        if (e instanceof HooklineError && e.code === "HOOKLINE_SECRET_KEY_MISSING")
          return answer(503, { error: e.message, code: e.code });
        return down(host, e);
      }
    });
    http.delete("/v1/inbound/:name", async (c) => {
      const { registry } = state();
      try {
        const e = await registry.byName(c.req.param("name"));
        if (e?.source === "config")
          return answer(409, { error: `endpoint "${e.name}" is defined in the config file` });
        return (await registry.remove(c.req.param("name")))
          ? new Response(null, { status: 204 })
          : answer(404, { error: `no inbound endpoint "${c.req.param("name")}"` });
      } catch (e) {
        return down(host, e);
      }
    });
    http.get("/v1/inbound/:name/activities", async (c) => {
      const limit = Math.min(Math.max(Number(c.req.query("limit") ?? 100) || 100, 1), 1000);
      const since = Date.parse(c.req.query("since") ?? "") || Date.now() - 86_400_000;
      try {
        const activities = await recentActivities(host.sql, c.req.param("name"), new Date(since), limit);
        return answer(200, { activities });
      } catch (e) {
        return down(host, e);
      }
    });

    http.get("/v1/profiles", async (c) => {
      const property = c.req.query("property");
      const value = c.req.query("value");
      if (!property || !value) return answer(400, { error: "give ?property=…&value=… (an identifier)" });
      try {
        const id = await findProfileId(host.sql, property, value);
        const profile = id ? await readProfile(host.sql, id) : undefined;
        return profile ? answer(200, { profile }) : answer(404, { error: "no profile with that identifier" });
      } catch (e) {
        return down(host, e);
      }
    });
    http.get("/v1/profiles/:id", async (c) => {
      try {
        const profile = await readProfile(host.sql, c.req.param("id"));
        if (!profile) return answer(404, { error: `no profile ${c.req.param("id")}` });
        return answer(200, { profile, timeline: await readTimeline(host.sql, profile.id, 100) });
      } catch (e) {
        return down(host, e);
      }
    });
  },
});
