/** @jsxImportSource hono/jsx */
import type { Context } from "hono";
import type { ConsoleKit, ConsoleSection, ConsoleViewer } from "../contracts/console.ts";
import type { PluginHost } from "../contracts/host.ts";
import { HttpError } from "../errors.ts";
import { rolesFor } from "../http/roles.ts";
import { documented } from "../http/route-docs.ts";
import { BASE, Csrf, Layout, type NavEntry } from "./layout.tsx";

/** Where a request's signed-in viewer is kept (set by the session check). */
export const VIEWER = "hookline.console.viewer";

/** The signed-in viewer of a request that passed the session check. */
export const viewerOf = (c: Context): ConsoleViewer => c.get(VIEWER as never) as ConsoleViewer;

/** Whether a role may do what the admin API route `method apiPath` does (`rolesFor`). */
export const mayDo = (c: Context, method: string, apiPath: string): boolean =>
  rolesFor(method, apiPath).includes(viewerOf(c).role);

/** The OpenAPI entry of a console route: an HTML page (or a redirect), behind the console's own sign-in. */
export const consolePage: ConsoleKit["page"] = (summary, more = {}) =>
  documented({
    summary,
    tags: ["Console"],
    public: true,
    ...(more.params ? { params: more.params } : {}),
    answers: more.answers ?? { 200: { description: "an HTML page", contentType: "text/html" } },
  });

/** A redirect answer's documentation (after a form post). */
export const REDIRECT = { 303: { description: "a redirect (after a form, or to the sign-in page)" } };

/** Whether htmx made the request (it wants a fragment, and a redirect by header). */
export const isHtmx = (c: Context) => c.req.header("hx-request") === "true";

/** The navigation: the overview first, then the sections by `order` (then label). */
export function navOf(sections: readonly ConsoleSection[]): NavEntry[] {
  return [
    { href: BASE, label: "Overview", key: "overview" },
    ...[...sections]
      .sort((a, b) => (a.order ?? 100) - (b.order ?? 100) || a.label.localeCompare(b.label))
      .map((s) => ({ href: `${BASE}/${s.path}`, label: s.label, key: s.path })),
  ];
}

/**
 * The kit every console section is built with (see `ConsoleKit`).
 *
 * @example const kit = consoleKit(host, navOf(sections)); section.mount(pages, kit)
 */
export function consoleKit(host: PluginHost, nav: readonly NavEntry[]): ConsoleKit {
  return {
    base: BASE,
    host,
    Layout: (props) => (
      <Layout title={props.title} viewer={viewerOf(props.c)} nav={nav} active={props.active}>
        {props.children}
      </Layout>
    ),
    Csrf: (props) => <Csrf token={viewerOf(props.c).csrf} />,
    viewer: viewerOf,
    may: mayDo,
    allow(c, method, apiPath) {
      const { role } = viewerOf(c);
      const roles = rolesFor(method, apiPath);
      if (!roles.includes(role))
        throw new HttpError(
          "HOOKLINE_HTTP_FORBIDDEN",
          `a ${role} may not do this; it needs one of: ${roles.join(", ")}`,
        );
    },
    page: consolePage,
  };
}
