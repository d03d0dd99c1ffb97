import type { HooklineConfig } from "../config/schema.ts";
import { HooklineError } from "../errors.ts";
import { isPlainHttp, shownUrl } from "../transport/https-only.ts";

/**
 * True when a server listening on `host` is reachable from this machine only (127.0.0.0/8, ::1,
 * localhost). `0.0.0.0`, `::` and every other address listen beyond it.
 *
 * @example isLoopbackHost("127.0.0.1") // true; isLoopbackHost("0.0.0.0") // false
 */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1");
  return h === "localhost" || h === "::1" || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

/**
 * Whether plain http:// targets are refused: as `engine.requireHttps` says, else on when the server
 * listens beyond loopback (a deployment; Bloomreach and eSputnik require HTTPS), off on loopback
 * (development against local sinks).
 *
 * @example requireHttps(config.engine.requireHttps, "0.0.0.0") // true unless the config says false
 */
export function requireHttps(setting: boolean | undefined, listenHost: string): boolean {
  return setting ?? !isLoopbackHost(listenHost);
}

/** The config's targets whose literal start is http:// (a template deciding the scheme is judged when sent). */
export function plainHttpTargets(config: Pick<HooklineConfig, "webhooks" | "integrations">): string[] {
  return [
    ...Object.entries(config.webhooks)
      .filter(([, w]) => isPlainHttp(w.url))
      .map(([name, w]) => `webhooks.${name}.url (${shownUrl(w.url)})`),
    ...Object.entries(config.integrations)
      .filter(([, i]) => isPlainHttp(i.endpointPrefix))
      .map(([name, i]) => `integrations.${name}.endpointPrefix (${shownUrl(i.endpointPrefix)})`),
  ];
}

/**
 * Refuses (`HOOKLINE_HTTPS_REQUIRED`) a config with plain http:// targets, naming every one and why
 * HTTPS is required.
 *
 * @example assertHttpsTargets(config, "the server listens on 0.0.0.0", (t) => redactor.redact(t));
 */
export function assertHttpsTargets(
  config: Pick<HooklineConfig, "webhooks" | "integrations">,
  why: string,
  redact: (text: string) => string = (t) => t,
): void {
  const plain = plainHttpTargets(config);
  if (plain.length === 0) return;
  throw new HooklineError(
    "HOOKLINE_HTTPS_REQUIRED",
    redact(
      `engine.requireHttps is on (${why}), so plain http:// targets are refused: ${plain.join(", ")}; use https://, or set engine.requireHttps: false for a trusted network`,
    ),
  );
}
