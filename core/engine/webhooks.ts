import type { HooklineConfig, WebhookConfig } from "../config/schema.ts";
import { compiledTemplates } from "../config/templates.ts";
import type { CompiledWebhook } from "../contracts/catalogue.ts";
import type { OutboundRequest } from "../contracts/http.ts";
import type { CompiledTemplate, Renderer, TemplateContext } from "../contracts/renderer.ts";
import { TemplateError } from "../errors.ts";
import { remember } from "../util/remember.ts";
import { jsonErrorAt } from "./json-check.ts";
import { assertWellFormedXml } from "./xml-check.ts";

export type { CompiledWebhook };

const CONTENT_TYPES = {
  json: "application/json",
  text: "text/plain; charset=utf-8",
  xml: "application/xml",
} as const;

/**
 * The engine's view of a webhook: its config and its templates, compiled once (by `loadConfig`).
 *
 * @example const hooks = compileWebhooks(config, renderers);
 */
export function compileWebhooks(
  config: HooklineConfig,
  renderers: readonly Renderer[],
): Map<string, CompiledWebhook> {
  const compiled = compiledTemplates(config, renderers);
  const out = new Map<string, CompiledWebhook>();
  for (const [name, c] of Object.entries(compiled))
    out.set(name, fromTemplates(name, config.webhooks[name]!, c));
  return out;
}

/**
 * One webhook's templates compiled (a template that does not compile is a `TemplateError` naming it).
 *
 * @example compileWebhook("crm", { method: "POST", url: "https://crm.example.com/x", … }, renderers)
 */
export function compileWebhook(
  name: string,
  config: WebhookConfig,
  renderers: readonly Renderer[],
): CompiledWebhook {
  const c = compiledTemplates({ webhooks: { [name]: config } }, renderers)[name]!;
  return fromTemplates(name, config, c);
}

function fromTemplates(
  name: string,
  config: WebhookConfig,
  c: ReturnType<typeof compiledTemplates>[string],
): CompiledWebhook {
  return {
    name,
    config,
    url: c.url,
    headers: Object.entries(c.headers).map(([h, t]) => [h.toLowerCase(), t]),
    body: c.body,
    item: c.item,
    orderingKey: compileOrderingKey(name, config, c.renderer),
  };
}

/** Compiles a webhook's ordering key with its engine (a syntax error stops start-up, naming the webhook). */
export function compileOrderingKey(
  name: string,
  config: WebhookConfig,
  renderer: Renderer,
): CompiledTemplate | undefined {
  return config.orderingKey === undefined
    ? undefined
    : renderer.compile(config.orderingKey, { name: `webhooks.${name}.orderingKey` });
}

/**
 * Renders a webhook for one context into a request: method, absolute URL, headers (content type by
 * body format), body. A json body that does not parse is a `TemplateError` naming the rendered line
 * and column, and nothing is sent.
 *
 * @example const req = renderRequest(hook, { event, customer, params });
 */
export function renderRequest(
  hook: CompiledWebhook,
  context: TemplateContext,
  options: { allowPath?: boolean } = {},
): OutboundRequest {
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
  const headers: Record<string, string> = {};
  const format = hook.config.format;
  if (options.allowPath && url.startsWith("/") && !url.startsWith("//")) {
    // Resolved by the integration (and checked against its endpoint prefix) before anything is sent.
    return finish(hook, url, headers, format, step);
  }
  return finish(hook, absoluteUrl(url), headers, format, step);
}

/** Rendered URLs already checked, with their normalized form: deliveries repeat a few URLs. */
const checkedUrls = new Map<string, string>();

/** The rendered URL normalized (`URL.href`), or a `TemplateError` when it is not an http(s) URL. */
function absoluteUrl(url: string): string {
  const known = checkedUrls.get(url);
  if (known !== undefined) return known;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TemplateError(`url: rendered to "${url.slice(0, 200)}", which is not an absolute URL`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TemplateError(`url: rendered to a ${parsed.protocol} URL; expected http: or https:`);
  }
  return remember(checkedUrls, url, parsed.href);
}

function finish(
  hook: CompiledWebhook,
  url: string,
  headers: Record<string, string>,
  format: "json" | "text" | "xml",
  step: (what: string, t: CompiledTemplate) => string,
): OutboundRequest {
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
    if (format === "xml") assertWellFormedXml(body);
  }
  return { method: hook.config.method, url, headers, body };
}
