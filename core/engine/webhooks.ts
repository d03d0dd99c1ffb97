import type { WebhookConfig } from "../config/schema.ts";
import type { OutboundRequest } from "../contracts/http.ts";
import type { CompiledTemplate, Renderer, TemplateContext } from "../contracts/renderer.ts";
import { HooklineError, TemplateError } from "../errors.ts";
import { jsonErrorAt } from "./json-check.ts";

/** A webhook with its templates compiled once. */
export interface CompiledWebhook {
  name: string;
  config: WebhookConfig;
  url: CompiledTemplate;
  headers: Array<[string, CompiledTemplate]>;
  body?: CompiledTemplate;
}

const CONTENT_TYPES = {
  json: "application/json",
  text: "text/plain; charset=utf-8",
  xml: "application/xml",
} as const;

/**
 * Compiles a webhook's url, header and body templates with its engine.
 *
 * @example const hook = compileWebhook("crm", config.webhooks.crm, renderers);
 */
export function compileWebhook(
  name: string,
  config: WebhookConfig,
  renderers: ReadonlyMap<string, Renderer>,
): CompiledWebhook {
  const renderer = renderers.get(config.engine);
  if (!renderer) {
    throw new HooklineError(
      "HOOKLINE_RENDERER_UNKNOWN",
      `webhook "${name}": unknown engine "${config.engine}"; expected one of: ${[...renderers.keys()].join(", ")}`,
    );
  }
  const at = (field: string) => ({ name: `webhooks.${name}.${field}` });
  return {
    name,
    config,
    url: renderer.compile(config.url, at("url")),
    headers: Object.entries(config.headers).map(([h, t]) => [
      h.toLowerCase(),
      renderer.compile(t, at(`headers.${h}`)),
    ]),
    body: config.body === undefined ? undefined : renderer.compile(config.body, at("body")),
  };
}

/**
 * Renders a webhook for one context into a request: method, absolute URL, headers (content type by
 * body format), body. A json body that does not parse is a `TemplateError` naming the rendered line
 * and column, and nothing is sent.
 *
 * @example const req = renderRequest(hook, { event, customer, params });
 */
export function renderRequest(hook: CompiledWebhook, context: TemplateContext): OutboundRequest {
  const step = (what: string, t: CompiledTemplate) => {
    try {
      return t.render(context);
    } catch (e) {
      if (e instanceof TemplateError)
        throw new TemplateError(`${what}: ${e.message}`, { cause: e, line: e.line, column: e.column });
      throw new TemplateError(`${what}: ${(e as Error).message}`, { cause: e });
    }
  };
  const url = step("url", hook.url).trim();
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TemplateError(`url: rendered to "${url.slice(0, 200)}", which is not an absolute URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TemplateError(`url: rendered to a ${parsed.protocol} URL; expected http: or https:`);
  }
  const headers: Record<string, string> = {};
  const format = hook.config.format;
  if (hook.body) headers["content-type"] = CONTENT_TYPES[format];
  for (const [name, t] of hook.headers) {
    const value = step(`headers.${name}`, t);
    if (/[\r\n]/.test(value))
      throw new TemplateError(`headers.${name}: rendered value contains a line break`);
    headers[name] = value;
  }
  let body: string | undefined;
  if (hook.body) {
    body = step("body", hook.body);
    if (format === "json") {
      try {
        JSON.parse(body);
      } catch (e) {
        const at = jsonErrorAt(body);
        const where = at
          ? ` at line ${at.line}, column ${at.column}: expected ${at.expected}`
          : `: ${(e as Error).message}`;
        throw new TemplateError(`body: rendered json does not parse${where}`, {
          line: at?.line,
          column: at?.column,
        });
      }
    }
  }
  return { method: hook.config.method, url: parsed.href, headers, body };
}
