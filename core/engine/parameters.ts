import { DEFAULT_ENGINE } from "../config/templates.ts";
import type { Renderer } from "../contracts/renderer.ts";

/** One template parameter of a webhook, as `GET /v1/webhooks/:name` and `hookline render --list-params` list it. */
export interface TemplateParameter {
  name: string;
  /** The webhook's default (from `params:`); absent when a template uses it but the webhook does not declare it. */
  default?: unknown;
  /** The templates that read it, in the order url, body, headers, batch item: `["url", "headers.X-Campaign"]`. */
  usedIn: string[];
  /** Declared but read by no template; said only when the engine can find what its templates read. */
  unused?: true;
}

/** What the listing reads of a webhook; a loaded `WebhookConfig` (merged with its presets) fits. */
export interface ParameterSources {
  engine?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: string;
  batch?: { item?: string };
  params?: Record<string, unknown>;
}

/**
 * The template parameters of a webhook: every one it declares in `params:` (with its default) and
 * every one its templates read (found by its renderer's `parameters`), each once, declared ones
 * first. A used but undeclared parameter has no `default` (it renders as missing unless a trigger or
 * the event gives it); a declared one no template reads is marked `unused`. With a renderer that
 * cannot discover parameters, the declared ones are listed with empty `usedIn` and none is `unused`.
 *
 * @example
 * webhookParameters({ url: "https://x.example.com/<%= it.params.list %>", params: { list: "main", old: 1 } }, [etaRenderer()])
 * // [{ name: "list", default: "main", usedIn: ["url"] }, { name: "old", default: 1, usedIn: [], unused: true }]
 */
export function webhookParameters(
  webhook: ParameterSources,
  renderers: readonly Renderer[],
): TemplateParameter[] {
  const engine = webhook.engine ?? DEFAULT_ENGINE;
  // The last registration of a name wins, as when templates compile.
  const renderer = renderers.findLast((r) => r.name === engine);
  const declared = webhook.params ?? {};
  const found = new Map<string, TemplateParameter>();
  for (const [name, value] of Object.entries(declared)) found.set(name, { name, default: value, usedIn: [] });
  if (!renderer?.parameters) return [...found.values()];

  const templates: Array<[string, string | undefined]> = [
    ["url", webhook.url],
    ["body", webhook.body],
    ...Object.entries(webhook.headers ?? {}).map(([h, source]): [string, string] => [`headers.${h}`, source]),
    ["batch.item", webhook.batch?.item],
  ];
  for (const [where, source] of templates) {
    if (typeof source !== "string") continue;
    for (const name of renderer.parameters(source)) {
      const parameter = found.get(name) ?? { name, usedIn: [] };
      found.set(name, parameter);
      if (!parameter.usedIn.includes(where)) parameter.usedIn.push(where);
    }
  }
  for (const parameter of found.values()) {
    if (Object.hasOwn(declared, parameter.name) && parameter.usedIn.length === 0) parameter.unused = true;
  }
  return [...found.values()];
}
