/** @jsxImportSource hono/jsx */
import type { Context } from "hono";
import { type ConsoleKit, type ConsoleSection, HttpError, type PluginHost } from "../../core/plugin/index.ts";
import type { ProfileUpdateEndpoint } from "./config.ts";
import {
  Activities,
  Definition,
  InboundPage,
  PAGE_SIZE,
  ProfileUpdates,
  RefusalTable,
  WINDOW_MS,
} from "./console-pages.tsx";
import { refusalsOf } from "./console-refusals.ts";
import { segmentsSection } from "./console-segments.tsx";
import type { EndpointRegistry } from "./registry.ts";
import { activityPage, type RefusalCount, recentProfileUpdates, refusalCounts } from "./repository.ts";

export { countRefusals } from "./console-refusals.ts";

/** Reads the last day's refusal counts, this process's latest first written (the rest flush every few seconds). */
async function refusals(host: PluginHost, endpoint?: string): Promise<RefusalCount[]> {
  await refusalsOf(host.sql, host.logger).flush();
  return refusalCounts(host.sql, endpoint);
}

const endpointParam = { name: "the endpoint's name" };

/**
 * The inbound plugin's console section, "Inbound" (`/console/inbound`): every endpoint with its
 * refusals by reason; one endpoint's definition, refusals, and its recent activities (paged) or
 * profile updates. Read-only: endpoints are edited in the config file or through the admin API.
 * Beside it, "Segments" (console-segments.tsx).
 *
 * @example routes.console = () => inboundConsole((host) => registryOf(host))
 */
export function inboundConsole(registryOf: (host: PluginHost) => EndpointRegistry): ConsoleSection[] {
  return [
    {
      path: "inbound",
      label: "Inbound",
      order: 60,
      mount(pages, kit: ConsoleKit) {
        pages.get(
          "/",
          kit.page("The console's inbound endpoints, with their refusals by reason"),
          async (c) => {
            kit.allow(c, "GET", "/v1/inbound");
            const endpoints = await registryOf(kit.host).list();
            return c.html(
              <kit.Layout c={c} title="Inbound" active="inbound">
                <InboundPage
                  base={kit.base}
                  endpoints={endpoints}
                  refusals={await refusals(kit.host)}
                  now={Date.now()}
                />
              </kit.Layout>,
            );
          },
        );

        pages.get(
          "/:name",
          kit.page(
            "One inbound endpoint: its definition, refusals, and recent activities or profile updates",
            {
              params: endpointParam,
              answers: {
                200: { description: "an HTML page" },
                400: { description: "the page, saying what is wrong with ?before" },
                404: { description: "a page saying there is no such endpoint" },
              },
            },
          ),
          async (c: Context) => {
            const name = c.req.param("name") ?? "";
            kit.allow(c, "GET", `/v1/inbound/${name}/activities`);
            const endpoint = await registryOf(kit.host).byName(name);
            if (!endpoint) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no inbound endpoint "${name}"`);
            const given = c.req.query("before");
            const bad = given !== undefined && given !== "" && !/^\d{1,18}$/.test(given);
            const before = given && !bad ? given : undefined;
            const since = new Date(Date.now() - WINDOW_MS);
            const { config } = endpoint;
            const now = Date.now();
            const profile = config.kind === "profile-update" ? (config as ProfileUpdateEndpoint) : undefined;
            return c.html(
              <kit.Layout c={c} title={`Inbound ${name}`} active="inbound">
                <p>
                  <a href={`${kit.base}/inbound`}>← Inbound</a>
                </p>
                <h1>
                  Inbound endpoint <code>{name}</code>
                </h1>
                {bad ? (
                  <p class="notice error" role="alert">
                    before: a position from the previous page (digits)
                  </p>
                ) : null}
                <div class="grid">
                  <div class="split wide">
                    <Definition e={endpoint} />
                    <section class="card">
                      <h2>Refusals by reason</h2>
                      <RefusalTable rows={await refusals(kit.host, name)} now={now} />
                    </section>
                  </div>
                  {profile ? (
                    <ProfileUpdates
                      rows={
                        await recentProfileUpdates(
                          kit.host.sql,
                          name,
                          profile.identifier.property,
                          since,
                          PAGE_SIZE,
                        )
                      }
                      property={profile.identifier.property}
                      now={now}
                    />
                  ) : (
                    <Activities
                      base={kit.base}
                      name={name}
                      rows={await activityPage(kit.host.sql, name, { since, before, limit: PAGE_SIZE })}
                      before={before}
                      now={now}
                    />
                  )}
                </div>
              </kit.Layout>,
              bad ? 400 : 200,
            );
          },
        );
      },
    },
    segmentsSection(),
  ];
}
