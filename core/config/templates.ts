import type { CompiledTemplate, Renderer } from "../contracts/renderer.ts";
import { TemplateError } from "../errors.ts";

/** The template fields of a webhook; `WebhookConfig` fits, and so does a half-valid one from a file. */
export interface WebhookTemplateSources {
  engine?: string;
  url?: string;
  headers?: Record<string, string>;
  body?: string;
  batch?: { item?: string };
}

/** A webhook's templates, each compiled once by the webhook's renderer. */
export interface CompiledWebhook {
  renderer: Renderer;
  url: CompiledTemplate;
  headers: Record<string, CompiledTemplate>;
  body?: CompiledTemplate;
  /** A batch webhook's item template. */
  item?: CompiledTemplate;
}

/**
 * A template that did not compile, or a webhook whose `engine` names no registered renderer. `path`
 * is the key path of the template (`["webhooks", "crm-sync", "headers", "X-Sig"]`) or of `engine`.
 */
export interface TemplateFault {
  path: [string, string, ...string[]];
  /** True when the engine was not named in the webhook and the default was used. */
  defaultEngine?: boolean;
  /** The renderer name that was not found, for an unknown engine. */
  engine?: string;
  /** What `compile` threw (usually a `TemplateError` with the line and column inside the template). */
  error?: unknown;
}

/** The engine a webhook uses when it names none. */
export const DEFAULT_ENGINE = "eta";

/**
 * Compiles the url, header and body templates of every webhook with the renderer its `engine` names.
 * `loadConfig` calls it to report template errors at load, with their place in the file; the delivery
 * engine calls it on a loaded config to get the templates it renders with (it keeps compiled templates,
 * the config does not). It never throws: faults are returned beside what did compile.
 *
 * @example
 * const { webhooks, faults } = compileWebhookTemplates(config, [eta()]);
 * if (faults.length === 0) webhooks["crm-sync"]!.body?.render({ event, customer, params });
 */
export function compileWebhookTemplates(
  config: { webhooks: Record<string, WebhookTemplateSources> },
  renderers: readonly Renderer[],
): { webhooks: Record<string, CompiledWebhook>; faults: TemplateFault[] } {
  const webhooks: Record<string, CompiledWebhook> = {};
  const faults: TemplateFault[] = [];
  for (const [name, webhook] of Object.entries(config.webhooks)) {
    const engine = webhook.engine ?? DEFAULT_ENGINE;
    // The last registration of a name wins, as for every single-valued token (etaPrecompiled() after eta()).
    const renderer = renderers.findLast((r) => r.name === engine);
    if (!renderer) {
      faults.push({
        path: ["webhooks", name, "engine"],
        engine,
        defaultEngine: webhook.engine === undefined,
      });
      continue;
    }
    let ok = true;
    const compile = (source: string | undefined, ...rest: string[]): CompiledTemplate | undefined => {
      if (source === undefined) return undefined;
      const path: TemplateFault["path"] = ["webhooks", name, ...rest];
      try {
        return renderer.compile(source, { name: path.join(".") });
      } catch (error) {
        ok = false;
        faults.push({ path, error });
        return undefined;
      }
    };
    const headers: Record<string, CompiledTemplate> = {};
    const url = compile(webhook.url, "url");
    for (const [header, source] of Object.entries(webhook.headers ?? {})) {
      const compiled = compile(source, "headers", header);
      if (compiled) headers[header] = compiled;
    }
    const body = compile(webhook.body, "body");
    const item = compile(webhook.batch?.item, "batch", "item");
    // A webhook without a url is the schema's to report; it just has nothing to render here.
    if (ok && url) webhooks[name] = { renderer, url, headers, body, item };
  }
  return { webhooks, faults };
}

/**
 * What a template fault says, without the key path (the caller shows it once) and with the place
 * inside the template apart: `{ message, line?, column? }`. A renderer that put the template's name
 * in front of its message (as `compile(…, { name })` lets it) has it taken off here.
 *
 * @example templateFault(fault) // { message: "jinja syntax error: unknown filter 'upcase'", line: 1, column: 8 }
 */
export function templateFault(fault: TemplateFault): { message: string; line?: number; column?: number } {
  if (fault.error === undefined) return { message: `unknown engine "${fault.engine}"` };
  const error = fault.error as { message?: unknown; line?: unknown; column?: unknown };
  let message = typeof error?.message === "string" ? error.message : String(fault.error);
  const name = `${fault.path.join(".")}: `;
  while (message.startsWith(name)) message = message.slice(name.length);
  const line = typeof error?.line === "number" ? error.line : undefined;
  const column = line !== undefined && typeof error?.column === "number" ? error.column : undefined;
  return { message, line, column };
}

/** What `loadConfig` compiled, kept per loaded config object so the engine does not compile again. */
const compiledByConfig = new WeakMap<object, Record<string, CompiledWebhook>>();

/** Remembers the templates compiled for a loaded config (called by `loadConfig`). */
export function rememberCompiled(config: object, webhooks: Record<string, CompiledWebhook>): void {
  compiledByConfig.set(config, webhooks);
}

/**
 * The compiled templates of a config: those `loadConfig` compiled, or compiled now (a config built in
 * code). Throws the first fault, for a config that never went through `loadConfig`'s checks.
 *
 * @example const compiled = compiledTemplates(config, renderers)["crm-sync"];
 */
export function compiledTemplates(
  config: { webhooks: Record<string, WebhookTemplateSources> },
  renderers: readonly Renderer[],
): Record<string, CompiledWebhook> {
  const known = compiledByConfig.get(config);
  if (known) return known;
  const { webhooks, faults } = compileWebhookTemplates(config, renderers);
  const fault = faults[0];
  if (fault) {
    const { message, line, column } = templateFault(fault);
    const where =
      line === undefined ? "" : ` (line ${line}${column === undefined ? "" : `, column ${column}`})`;
    throw new TemplateError(`${fault.path.join(".")}${where}: ${message}`, {
      cause: fault.error,
      line,
      column,
    });
  }
  rememberCompiled(config, webhooks);
  return webhooks;
}
