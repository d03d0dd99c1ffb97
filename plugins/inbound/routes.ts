import type { Hono } from "hono";
import type { z } from "zod";
import {
  answer,
  HttpError,
  type HttpRoutes,
  json,
  type PluginHost,
  parseOr,
} from "../../core/plugin/index.ts";
import { ActivityStore, type GroupCommitTuning } from "./activity-status.ts";
import { endpointName, type InboundEndpoint, type InboundSchemas, type InboundSection } from "./config.ts";
import { findProfileId, readProfile, readTimeline } from "./profile-repository.ts";
import { receiveAt } from "./receive.ts";
import { EndpointRegistry } from "./registry.ts";
import { recentActivities } from "./repository.ts";

/**
 * The inbound routes: `/in/<path>` for every endpoint (config file and API), the admin API
 * `GET/PUT/DELETE /v1/inbound/:name`, `GET /v1/inbound/:name/activities?since=&limit=` (default: the
 * last 24 hours, newest first), and `GET /v1/profiles/:id` (or `?property=&value=`). `schemas` gives
 * the endpoint schemas for the app's authentication kinds; it is called once, on first use.
 *
 * The receivers are also served without a router (`receive`), for the edge worker. An app that does
 * not send (`host.sends === false`: the edge worker) keeps no receiver state across requests: workerd
 * cancels a request that waits on another request's I/O (a shared group commit, a registry reload)
 * and refuses I/O across requests. Each request there compiles the endpoints anew (a remote JWKS is
 * fetched per request). Admin handlers throw (`HttpError`, or the store's errors) and the app's one
 * error handler answers.
 *
 * @example c.register(Tokens.HttpRoutes, { useValue: inboundRoutes(() => inboundSchemas(kinds)) })
 */
export const inboundRoutes = (schemas: () => InboundSchemas, tuning: GroupCommitTuning = {}): HttpRoutes => {
  let compiled: InboundSchemas | undefined;
  const schemasOnce = () => {
    compiled ??= schemas();
    return compiled;
  };
  const receivers = (host: PluginHost) => ({
    registry: new EndpointRegistry(host, host.config.sections.inbound as InboundSection, schemasOnce().kinds),
    store: new ActivityStore(host, tuning),
  });
  const shared = new WeakMap<PluginHost, ReturnType<typeof receivers>>();
  const state = (host: PluginHost) => {
    if (!host.sends) return receivers(host);
    const known = shared.get(host);
    if (known) return known;
    const made = receivers(host);
    shared.set(host, made);
    return made;
  };

  const receive = async (request: Request, host: PluginHost, env?: unknown) => {
    const path = pathOf(request.url);
    if (!path.startsWith("/in/")) return undefined;
    const { registry, store } = state(host);
    return receiveAt(host, registry, store, path.slice("/in/".length), request, env);
  };

  return {
    name: "inbound",
    receive,
    mount(http: Hono, host: PluginHost) {
      http.all("/in/*", async (c, next) => (await receive(c.req.raw, host, c.env)) ?? next());
      mountAdmin(http, host, state(host).registry, schemasOnce().InboundEndpoint);
    },
  };
};

/** A URL's path, percent-decoded as routers decode it (left as it is when it does not decode). */
function pathOf(url: string): string {
  const path = new URL(url).pathname;
  try {
    return decodeURI(path);
  } catch {
    return path;
  }
}

const notFound = (name: string) => new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no inbound endpoint "${name}"`);

function mountAdmin(
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
