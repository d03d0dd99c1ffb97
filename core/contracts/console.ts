import type { Context, Hono, MiddlewareHandler } from "hono";
import type { Child, FC } from "hono/jsx";
import type { PluginHost } from "./host.ts";
import type { Role } from "./tokens.ts";

/** The signed-in operator as a console page sees them: their role and their session's form token. */
export interface ConsoleViewer {
  role: Role;
  csrf: string;
}

/**
 * What a console page is built with, core's and plugins' alike: the page frame (so every page has the
 * same look and navigation), the session's viewer, the role check the admin API would make, and the
 * route documentation of a page. A page renders with `hono/jsx` (`@jsxImportSource hono/jsx`), which
 * escapes every value it is given: a page never writes raw HTML.
 *
 * @example pages.get("/", kit.page("My plugin's page"), (c) => c.html(<kit.Layout c={c} title="Mine">…</kit.Layout>))
 */
export interface ConsoleKit {
  /** Where the console is mounted (`/console`); every link and form goes under it. */
  readonly base: string;
  readonly host: PluginHost;
  /** The page around a screen: head, navigation (`active` is a section's `path`), sign-out, content. */
  Layout: FC<{ c: Context; title: string; active?: string; children?: Child }>;
  /** The hidden `_csrf` field every state-changing form carries (the console refuses a POST without it). */
  Csrf: FC<{ c: Context }>;
  /** The signed-in viewer of a request. */
  viewer(c: Context): ConsoleViewer;
  /** Whether the viewer's role may do what the admin API route `method apiPath` does. */
  may(c: Context, method: string, apiPath: string): boolean;
  /** Refuses (403) what the viewer's role may not do, as the admin API would refuse `method apiPath`. */
  allow(c: Context, method: string, apiPath: string): void;
  /** A page's entry in `GET /openapi.json` (an HTML page behind the console's sign-in). */
  page(
    summary: string,
    more?: { params?: Record<string, string>; answers?: Record<number, { description: string }> },
  ): MiddlewareHandler;
}

/**
 * A section of the console: a navigation entry and the pages under `/console/<path>`. The core's
 * sections (deliveries, webhooks, integrations, …) and plugins' (`HttpRoutes.console`) are made alike.
 * Every request reaching `mount`'s routes has a live session, and every POST a checked CSRF token.
 */
export interface ConsoleSection {
  /** The path segment (`webhooks`) and the navigation entry's key. */
  readonly path: string;
  /** The navigation entry's text. */
  readonly label: string;
  /** Where it sits in the navigation (lower first; core's sections use 10, 20, …). */
  readonly order?: number;
  /** Adds the section's routes to `pages` (mounted at `/console/<path>`). */
  mount(pages: Hono, kit: ConsoleKit): void;
}
