import type { Hono } from "hono";
import {
  type ContributedRouteDoc,
  type HttpRoutes,
  type Logger,
  type PluginHost,
  requestLogger,
} from "../../core/plugin/index.ts";
import { ActivityStore, type GroupCommitTuning } from "./activity-status.ts";
import { mountAdmin } from "./admin-routes.ts";
import type { InboundSchemas, InboundSection } from "./config.ts";
import { countRefusals, inboundConsole } from "./console.tsx";
import { receiveAt } from "./receive.ts";
import { EndpointRegistry } from "./registry.ts";

/**
 * The inbound routes: `/in/<path>` for every endpoint (config file and API), the admin API
 * `GET/PUT/DELETE /v1/inbound/:name`, `GET /v1/inbound/:name/activities` (a time window, status,
 * email and phone, newest first, paged: plugins/inbound/activity-query.ts), and `GET /v1/profiles/:id` (or `?property=&value=`). `schemas` gives
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

  const receive = (request: Request, host: PluginHost, env?: unknown, logger?: Logger) => {
    // Parsed once here, and handed on: the pipeline reads the query from it.
    const url = new URL(request.url);
    const path = decodedPath(url.pathname);
    if (!path.startsWith("/in/")) return Promise.resolve(undefined);
    const { registry, store } = state(host);
    // The request's own logger (its lines carry the request id); the receivers' state stays the host's.
    const on = logger
      ? { sql: host.sql, publish: host.publish, logger, config: host.config, catalogue: host.catalogue }
      : host;
    return receiveAt(on, registry, store, path.slice("/in/".length), request, env, url);
  };

  // `/in/*` answers every endpoint's path: the router cannot list them for the OpenAPI document, so
  // the admin module (left out of the edge build with its documentation) says what they answer.
  let receiverDocs: readonly ContributedRouteDoc[] = [];
  return {
    name: "inbound",
    receive,
    mount(http: Hono, host: PluginHost) {
      // Refusals are counted for the console (the edge worker, which mounts nothing, counts none).
      const refused = countRefusals(host, state(host).registry);
      http.all("/in/*", async (c, next) => {
        const answer = await receive(c.req.raw, host, c.env, requestLogger(c));
        if (!answer) return next();
        if (answer.status >= 400) refused(c.req.path, answer);
        return answer;
      });
      receiverDocs = mountAdmin(http, host, state(host).registry, schemasOnce().InboundEndpoint);
    },
    openapi: () => receiverDocs,
    // The edge build leaves the console out (scripts/build-edge.ts): the worker serves receivers only.
    console: () => inboundConsole((host) => state(host).registry),
  };
};

/** A URL's path, percent-decoded as routers decode it (left as it is when it does not decode). */
function decodedPath(path: string): string {
  if (!path.includes("%")) return path;
  try {
    return decodeURI(path);
  } catch {
    return path;
  }
}
