import type { WebhookConfig } from "./config/schema.ts";
import type {
  CatalogueChange,
  Catalogue as CatalogueContract,
  CatalogueSource,
  CompiledWebhook,
  IntegrationRuntime,
  SetWebhookOptions,
} from "./contracts/catalogue.ts";
import type { Renderer } from "./contracts/renderer.ts";
import type { TriggerInstance } from "./contracts/trigger.ts";
import { eventTrigger } from "./engine/event-trigger.ts";
import { compileWebhook } from "./engine/webhooks.ts";

/**
 * The app's one catalogue of webhooks, integrations and triggers (see the `Catalogue` contract). The
 * composition fills it from the config; the admin API and plugins change it through its methods only,
 * and every change is announced to `onChange` listeners. Readers (deliverer, outbox, workers) hold the
 * catalogue, never a copy, so a change is seen by the next delivery.
 *
 * @example
 * const catalogue = new Catalogue(renderers, config.triggers.map(makeTrigger));
 * catalogue.setWebhook("crm", webhookConfig, { events: ["signup"], source: "api" });
 */
export class Catalogue implements CatalogueContract {
  private readonly hooks = new Map<string, CompiledWebhook>();
  private readonly auths = new Map<string, IntegrationRuntime>();
  private readonly sources = new Map<string, CatalogueSource>();
  /** Triggers carried by webhooks set with `events` (the admin API's, plugins'). */
  private readonly carried = new Map<string, TriggerInstance>();
  private readonly listeners = new Set<(change: CatalogueChange) => void>();
  private readonly reloaders = new Set<() => Promise<unknown>>();
  private reloading: Promise<void> | undefined;
  private allTriggers: readonly TriggerInstance[];

  constructor(
    /** The template engines webhooks are compiled with. */
    readonly renderers: readonly Renderer[],
    /** The config file's triggers, fixed for the app's life. */
    private readonly configTriggers: readonly TriggerInstance[] = [],
  ) {
    this.allTriggers = configTriggers;
  }

  get webhooks(): ReadonlyMap<string, CompiledWebhook> {
    return this.hooks;
  }

  get integrations(): ReadonlyMap<string, IntegrationRuntime> {
    return this.auths;
  }

  get triggers(): readonly TriggerInstance[] {
    return this.allTriggers;
  }

  sourceOf(kind: "webhook" | "integration", name: string): CatalogueSource | undefined {
    return this.sources.get(`${kind}:${name}`);
  }

  /** Adds webhooks compiled elsewhere (the config's, compiled with it at load). */
  addCompiled(webhooks: Iterable<CompiledWebhook>, source: CatalogueSource = "config"): void {
    for (const w of webhooks) {
      this.hooks.set(w.name, w);
      this.sources.set(`webhook:${w.name}`, source);
    }
  }

  setWebhook(name: string, config: WebhookConfig, options: SetWebhookOptions = {}): CompiledWebhook {
    const compiled = compileWebhook(name, config, this.renderers);
    if (options.retryPolicy) compiled.retryPolicy = options.retryPolicy;
    this.hooks.set(name, compiled);
    this.sources.set(`webhook:${name}`, options.source ?? "api");
    this.carried.delete(name);
    if (options.trigger) this.carried.set(name, options.trigger);
    else if (options.events?.length)
      this.carried.set(name, eventTrigger.create({ events: [...options.events] }, { webhooks: [name] }));
    this.allTriggers = [...this.configTriggers, ...this.carried.values()];
    this.emit({ kind: "webhook", name, action: "set" });
    return compiled;
  }

  deleteWebhook(name: string): boolean {
    const had = this.hooks.delete(name);
    this.sources.delete(`webhook:${name}`);
    if (this.carried.delete(name)) this.allTriggers = [...this.configTriggers, ...this.carried.values()];
    if (had) this.emit({ kind: "webhook", name, action: "delete" });
    return had;
  }

  async setIntegration(
    runtime: IntegrationRuntime,
    options: { source?: CatalogueSource } = {},
  ): Promise<void> {
    const old = this.auths.get(runtime.name);
    this.auths.set(runtime.name, runtime);
    this.sources.set(`integration:${runtime.name}`, options.source ?? "api");
    this.emit({ kind: "integration", name: runtime.name, action: "set" });
    if (old && old.instance !== runtime.instance) await old.instance.close?.();
  }

  async deleteIntegration(name: string): Promise<boolean> {
    const old = this.auths.get(name);
    if (!old) return false;
    this.auths.delete(name);
    this.sources.delete(`integration:${name}`);
    this.emit({ kind: "integration", name, action: "delete" });
    await old.instance.close?.();
    return true;
  }

  onChange(listener: (change: CatalogueChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  addReloader(reload: () => Promise<unknown>): () => void {
    this.reloaders.add(reload);
    return () => this.reloaders.delete(reload);
  }

  reload(): Promise<void> {
    this.reloading ??= (async () => {
      try {
        const results = await Promise.allSettled([...this.reloaders].map((r) => r()));
        const failed = results.find((r) => r.status === "rejected");
        if (failed) throw failed.reason;
      } finally {
        this.reloading = undefined;
      }
    })();
    return this.reloading;
  }

  /** Closes every integration (the app is stopping). */
  async close(): Promise<void> {
    for (const i of this.auths.values()) await i.instance.close?.();
  }

  private emit(change: CatalogueChange): void {
    for (const l of this.listeners) l(change);
  }
}
