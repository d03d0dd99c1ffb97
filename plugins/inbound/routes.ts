import type { Hono } from "hono";
import type { Hookline } from "../../core/app.ts";
import type { HttpRoutes } from "../../core/contracts/extension.ts";
import { HooklineError } from "../../core/errors.ts";
import { ActivityStore, type GroupCommitTuning } from "./activity-status.ts";
import { endpointName, InboundEndpoint, type InboundSection } from "./config.ts";
import { findProfileId, readProfile, readTimeline } from "./profiles.ts";
import { receiveAt } from "./receive.ts";
import { EndpointRegistry, maskedConfig } from "./registry.ts";
import { answer, zodIssues } from "./respond.ts";

const down = (app: Hookline, e: unknown) => {
  app.logger.log("error", "store unavailable", { error: (e as Error).message });
  return answer(503, { error: "store unavailable; try again" });
};

const view = (e: { name: string; path: string; source: string; config: InboundEndpoint }) => ({
  name: e.name,
  url: `/in/${e.path}`,
  source: e.source,
  config: maskedConfig(e.config),
});

/**
 * The inbound routes: `/in/<path>` for every endpoint (config file and API), the admin API
 * `GET/PUT/DELETE /v1/inbound/:name`, `GET /v1/inbound/:name/activities?since=&limit=` (default: the
 * last 24 hours, newest first), and `GET /v1/profiles/:id`
 * (or `?property=&value=`).
 *
 * @example c.register(Tokens.HttpRoutes, { useValue: inboundRoutes() })
 */
export const inboundRoutes = (tuning: GroupCommitTuning = {}): HttpRoutes => ({
  name: "inbound",
  mount(http: Hono, app: Hookline) {
    const registry = new EndpointRegistry(app, app.config.sections.inbound as InboundSection);
    const store = new ActivityStore(app, tuning);

    http.all("/in/*", async (c, next) => {
      const path = c.req.path.slice("/in/".length);
      return (await receiveAt(app, registry, store, path, c.req.raw, c.env)) ?? next();
    });

    http.get("/v1/inbound", async () => {
      try {
        return answer(200, { endpoints: (await registry.list()).map(view) });
      } catch (e) {
        return down(app, e);
      }
    });
    http.get("/v1/inbound/:name", async (c) => {
      try {
        const e = await registry.byName(c.req.param("name"));
        return e
          ? answer(200, view(e))
          : answer(404, { error: `no inbound endpoint "${c.req.param("name")}"` });
      } catch (e) {
        return down(app, e);
      }
    });
    http.put("/v1/inbound/:name", async (c) => {
      const name = endpointName.safeParse(c.req.param("name"));
      if (!name.success)
        return answer(400, { error: "invalid endpoint name", issues: zodIssues(name.error) });
      let body: unknown;
      try {
        body = await c.req.json();
      } catch (e) {
        return answer(400, { error: `request body is not valid JSON: ${(e as Error).message}` });
      }
      const parsed = InboundEndpoint.safeParse(body);
      if (!parsed.success)
        return answer(400, { error: "invalid inbound endpoint", issues: zodIssues(parsed.error) });
      try {
        const out = await registry.put(name.data, parsed.data);
        if ("conflict" in out) return answer(409, { error: out.conflict });
        const e = (await registry.byName(name.data))!;
        return answer(out.created ? 201 : 200, view(e));
      } catch (e) {
        if (e instanceof HooklineError && e.code === "HOOKLINE_SECRET_KEY_MISSING")
          return answer(503, { error: e.message, code: e.code });
        return down(app, e);
      }
    });
    http.delete("/v1/inbound/:name", async (c) => {
      try {
        const e = await registry.byName(c.req.param("name"));
        if (e?.source === "config")
          return answer(409, { error: `endpoint "${e.name}" is defined in the config file` });
        return (await registry.remove(c.req.param("name")))
          ? new Response(null, { status: 204 })
          : answer(404, { error: `no inbound endpoint "${c.req.param("name")}"` });
      } catch (e) {
        return down(app, e);
      }
    });
    http.get("/v1/inbound/:name/activities", async (c) => {
      const limit = Math.min(Math.max(Number(c.req.query("limit") ?? 100) || 100, 1), 1000);
      const since = Date.parse(c.req.query("since") ?? "") || Date.now() - 86_400_000;
      try {
        const rows = await app.store.sql.query<{ activity: string; received_at: unknown }>(
          `SELECT activity::text AS activity, received_at FROM hookline_activities
            WHERE received_at >= $3::timestamptz AND endpoint = $1 ORDER BY seq DESC LIMIT $2`,
          [c.req.param("name"), limit, new Date(since).toISOString()],
        );
        return answer(200, {
          activities: rows.map((r) => ({
            ...JSON.parse(r.activity),
            receivedAt: (r.received_at instanceof Date
              ? r.received_at
              : new Date(String(r.received_at))
            ).toISOString(),
          })),
        });
      } catch (e) {
        return down(app, e);
      }
    });

    http.get("/v1/profiles", async (c) => {
      const property = c.req.query("property");
      const value = c.req.query("value");
      if (!property || !value) return answer(400, { error: "give ?property=…&value=… (an identifier)" });
      try {
        const id = await findProfileId(app.store.sql, property, value);
        const profile = id ? await readProfile(app.store.sql, id) : undefined;
        return profile ? answer(200, { profile }) : answer(404, { error: "no profile with that identifier" });
      } catch (e) {
        return down(app, e);
      }
    });
    http.get("/v1/profiles/:id", async (c) => {
      try {
        const profile = await readProfile(app.store.sql, c.req.param("id"));
        if (!profile) return answer(404, { error: `no profile ${c.req.param("id")}` });
        return answer(200, { profile, timeline: await readTimeline(app.store.sql, profile.id, 100) });
      } catch (e) {
        return down(app, e);
      }
    });
  },
});
