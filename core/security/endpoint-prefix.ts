import { HooklineError } from "../errors.ts";
import { remember } from "../util/remember.ts";

/**
 * True when an integration's credentials may go to `url`: same scheme, host and effective port as
 * `prefix`, and the path under the prefix's path on a segment boundary (`https://x.com/api/v1`
 * admits `/api/v1` and `/api/v1/send_sms`, not `/api/v1evil` nor `/api/v2/send_sms`). Query and
 * fragment play no part; a URL carrying userinfo is refused.
 *
 * @example
 * isUnderEndpointPrefix("https://x.com/api/v1/send_sms?to=1", "https://x.com/api/v1"); // true
 * isUnderEndpointPrefix("https://x.com/api/v1/../v2/send_sms", "https://x.com/api/v1"); // false
 */
export function isUnderEndpointPrefix(url: string, prefix: string): boolean {
  return refusal(url, prefix) === undefined;
}

/**
 * Throws `HooklineError` `HOOKLINE_AUTH_SCOPE` unless `url` is under the integration's endpoint
 * prefix (see `isUnderEndpointPrefix`). The message names the integration, the prefix and the URL's
 * origin and path, never its query, which may carry secrets.
 *
 * @example assertUnderEndpointPrefix(rendered.url, integration.endpointPrefix, "crm-oauth");
 */
export function assertUnderEndpointPrefix(url: string, prefix: string, integration: string): void {
  const why = refusal(url, prefix);
  if (why === undefined) return;
  throw new HooklineError(
    "HOOKLINE_AUTH_SCOPE",
    `integration "${integration}" sends credentials only under ${shown(prefix)}; refused ${shown(url)}: ${why}`,
  );
}

/** Origin and path only: query strings and userinfo may carry secrets. */
function shown(raw: string): string {
  const u = parse(raw);
  return u ? `${u.origin}${u.pathname}` : "an invalid URL";
}

function parse(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

/**
 * The verdict for a URL and prefix, remembered (it depends on the two strings alone): every request
 * of a webhook asks about the same few URLs. Up to 1,000 pairs; then it starts afresh.
 */
function refusal(rawUrl: string, rawPrefix: string): string | undefined {
  const key = `${rawPrefix}\n${rawUrl}`;
  const known = verdicts.get(key);
  if (known !== undefined) return known === ADMITTED ? undefined : known;
  const why = judge(rawUrl, rawPrefix);
  remember(verdicts, key, why ?? ADMITTED);
  return why;
}

const ADMITTED = "";
const verdicts = new Map<string, string>();

function judge(rawUrl: string, rawPrefix: string): string | undefined {
  const prefix = parse(rawPrefix);
  if (!prefix) return "the endpoint prefix is not a URL";
  // WHATWG URL has already lower-cased and IDNA-encoded the host, dropped default ports and resolved
  // dot segments, including %2e / %2E spellings, so these comparisons see canonical forms.
  const url = parse(rawUrl);
  if (!url) return "not a URL";
  if (url.protocol !== "https:" && url.protocol !== "http:")
    return `scheme ${url.protocol} is not http or https`;
  if (url.username !== "" || url.password !== "") return "the URL carries userinfo";
  if (url.protocol !== prefix.protocol) return "different scheme";
  if (url.hostname !== prefix.hostname) return "different host";
  if (url.port !== prefix.port) return "different port";

  const base = segments(prefix.pathname);
  // An origin-only prefix admits the whole origin: no path trick can leave it.
  if (base.length === 0) return undefined;
  const path = segments(url.pathname);
  if (path.length < base.length || base.some((s, i) => s !== path[i])) return "path not under the prefix";
  for (const s of path) {
    // Servers disagree on whether %2F / %5C separate segments; one that decodes them could resolve
    // `v1%2F..%2F..%2Fadmin` out of the prefix, so such paths never get credentials.
    if (/%2F|%5C/.test(s)) return "encoded slash or backslash in the path";
    // Tomcat-style servers strip `;params` before resolving dot segments (`/v1/..;/v2`).
    const bare = s.split(";", 1)[0];
    if (bare === "." || bare === "..") return "dot segment in the path";
  }
  return undefined;
}

/**
 * Path segments with percent-encoding normalised (RFC 3986 §6.2.2): encoded unreserved characters
 * decoded, remaining escapes in upper case. A trailing slash is dropped, so `/api/v1/` and `/api/v1`
 * name the same prefix.
 */
function segments(pathname: string): string[] {
  const parts = pathname
    .split("/")
    .slice(1)
    .map((s) =>
      s.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => {
        const c = String.fromCharCode(Number.parseInt(hex, 16));
        return /[A-Za-z0-9\-._~]/.test(c) ? c : `%${hex.toUpperCase()}`;
      }),
    );
  if (parts.at(-1) === "") parts.pop();
  return parts;
}
