/** @jsxImportSource hono/jsx */
import type { Child } from "hono/jsx";
import type { ConsoleViewer } from "../contracts/console.ts";

/** Where the console is mounted; every link and form is under it. */
export const BASE = "/console";

// htmx without eval (no hx-on, no js: expressions), without the <style> it would inject (the CSP
// allows none), and never running a <script> that came in a swapped fragment.
const HTMX_CONFIG = JSON.stringify({
  allowEval: false,
  allowScriptTags: false,
  includeIndicatorStyles: false,
  selfRequestsOnly: true,
});

/** One entry of the navigation: the overview, then each section (core's and plugins') in order. */
export interface NavEntry {
  href: string;
  label: string;
  key: string;
}

/** The signed-in operator as a page sees them: their role and the form token of their session. */
export type Viewer = ConsoleViewer;

/** The hidden field every state-changing form carries. */
export const Csrf = (props: { token: string }) => <input type="hidden" name="_csrf" value={props.token} />;

/**
 * The page around every console screen: head (the stylesheet and htmx, both served from here), the
 * navigation, who is signed in with sign-out, and the content.
 *
 * @example c.html(<Layout title="Overview" viewer={viewer} active="overview">…</Layout>)
 */
export function Layout(props: {
  title: string;
  viewer?: Viewer;
  nav?: readonly NavEntry[];
  active?: string;
  children?: Child;
}) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="htmx-config" content={HTMX_CONFIG} />
        <title>{`${props.title} · hookline console`}</title>
        <link rel="stylesheet" href={`${BASE}/assets/console.css`} />
        <script src={`${BASE}/assets/htmx.min.js`} defer />
      </head>
      <body>
        {props.viewer ? (
          <header class="top">
            <a class="brand" href={BASE}>
              hookline
            </a>
            <nav aria-label="Console">
              {(props.nav ?? []).map((n) => (
                <a href={n.href} aria-current={props.active === n.key ? "page" : undefined}>
                  {n.label}
                </a>
              ))}
            </nav>
            <div class="who">
              <span class="badge" data-role={props.viewer.role}>
                {props.viewer.role}
              </span>
              <form method="post" action={`${BASE}/sign-out`}>
                <Csrf token={props.viewer.csrf} />
                <button type="submit" class="link">
                  Sign out
                </button>
              </form>
            </div>
          </header>
        ) : null}
        <main>{props.children}</main>
      </body>
    </html>
  );
}

/**
 * A page's notice (what was just done: `role="status"`) and error (what was refused:
 * `role="alert"`), each shown only when there is one.
 *
 * @example <Notices notice={props.notice} error={props.error} />
 */
export function Notices(props: { notice?: string; error?: string }) {
  return (
    <>
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}
      {props.error ? (
        <p class="notice error" role="alert">
          {props.error}
        </p>
      ) : null}
    </>
  );
}

/** How long ago an ISO time was, in words a glance can take ("3 min ago"). */
export function ago(iso: string | undefined, now = Date.now()): string {
  if (!iso) return "";
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

/** A duration in seconds, short ("42 s", "7 min", "3 h"). */
export function seconds(s: number): string {
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.round(s / 60)} min`;
  return `${Math.round(s / 3600)} h`;
}

/** The CSS class a delivery's or an attempt's status reads in. */
export const tone = (status: string | undefined): string =>
  status === "succeeded"
    ? "ok"
    : status === "failed" || status === "halted" || status === "aborted" || status === "skipped"
      ? "bad"
      : "warn";
