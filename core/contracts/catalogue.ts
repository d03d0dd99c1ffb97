import type { WebhookConfig } from "../config/schema.ts";
import type { AuthIntegration } from "./auth.ts";
import type { CompiledTemplate, Renderer } from "./renderer.ts";
import type { RetryPolicy } from "./retry.ts";
import type { TriggerInstance } from "./trigger.ts";

/** The engine's view of a webhook: its config and its templates, compiled once. */
export interface CompiledWebhook {
  name: string;
  config: WebhookConfig;
  url: CompiledTemplate;
  headers: Array<[string, CompiledTemplate]>;
  body?: CompiledTemplate;
  /** A batch webhook's item template (`body` is then the root around the rendered items). */
  item?: CompiledTemplate;
  /** The ordering key template of an ordered stream. */
  orderingKey?: CompiledTemplate;
  /** A retry policy of its own (a plugin's webhook), taking precedence over `config.retry`. */
  retryPolicy?: RetryPolicy;
}

/** An authentication integration as the engine uses it. */
export interface IntegrationRuntime {
  name: string;
  endpointPrefix: string;
  instance: AuthIntegration;
}

/** Where a catalogue entry comes from: the config file, the admin API, or a plugin (named). */
export type CatalogueSource = "config" | "api" | `plugin:${string}`;

/** How a webhook is set in the catalogue besides its config. */
export interface SetWebhookOptions {
  events?: readonly string[];
  trigger?: TriggerInstance;
  retryPolicy?: RetryPolicy;
  source?: CatalogueSource;
}

/** What changed in the catalogue (listeners run after the change is in place). */
export interface CatalogueChange {
  kind: "webhook" | "integration";
  name: string;
  action: "set" | "delete";
}

/**
 * The one catalogue of a running app: its webhooks, integrations and the triggers that fire webhooks.
 * The config file fills it at start-up; the admin API and plugins (e.g. activity-status callbacks,
 * whose subscribers are webhooks) change it; the deliverer, the outbox and the workers read it.
 *
 * @example
 * host.catalogue.setWebhook("crm-sync", { url: "https://crm.example.com/x", method: "POST" }, { events: ["purchase"], source: "plugin:crm" });
 * host.catalogue.webhooks.get("crm-sync")?.config.url // "https://crm.example.com/x"
 */
export interface Catalogue {
  /** The template engines webhooks are compiled with. */
  readonly renderers: readonly Renderer[];
  readonly webhooks: ReadonlyMap<string, CompiledWebhook>;
  readonly integrations: ReadonlyMap<string, IntegrationRuntime>;
  /** Every trigger that fires webhooks: the config's, then those carried by webhooks set later. */
  readonly triggers: readonly TriggerInstance[];
  /** Where a webhook or integration came from. */
  sourceOf(kind: "webhook" | "integration", name: string): CatalogueSource | undefined;
  /**
   * Compiles `config` (throws `TemplateError` naming the template when one does not compile) and sets
   * it, replacing a webhook of that name. `events` makes an event trigger that fires it; `trigger`
   * is a trigger of the caller's own (matching on more than the event type); `retryPolicy` a retry
   * policy of its own.
   */
  setWebhook(name: string, config: WebhookConfig, options?: SetWebhookOptions): CompiledWebhook;
  deleteWebhook(name: string): boolean;
  /** Sets an integration, closing the one it replaces. */
  setIntegration(runtime: IntegrationRuntime, options?: { source?: CatalogueSource }): Promise<void>;
  deleteIntegration(name: string): Promise<boolean>;
  /** Calls `listener` after every change; returns the function that stops it. */
  onChange(listener: (change: CatalogueChange) => void): () => void;
  /**
   * Registers how a source of entries kept in the store (the admin API's, a plugin's) reloads what
   * another process changed; returns the function that removes it. A source polls on its own too:
   * this is for a reader that cannot wait for the poll.
   */
  addReloader(reload: () => Promise<unknown>): () => void;
  /**
   * Runs every reloader once (callers meanwhile share that run; a failing reloader does not stop the
   * others, and the first failure is thrown after all ran). A worker that claims a delivery of a
   * webhook it does not know calls this before giving up on the webhook: it may have been created a
   * moment ago in another process.
   */
  reload(): Promise<void>;
}
