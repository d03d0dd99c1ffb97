import type { ManagedConfig } from "../admin/managed.ts";
import type { Catalogue, CompiledWebhook, IntegrationRuntime } from "../contracts/catalogue.ts";
import type { PublishOptions, PublishResult } from "../contracts/host.ts";
import type { Logger } from "../contracts/logger.ts";
import type { StoredProfiles } from "../contracts/profiles.ts";
import type { Store } from "../contracts/store.ts";
import type { Deliverer } from "../engine/deliver.ts";
import type { EventInput } from "../model/event.ts";
import type { Redactor } from "../security/redact.ts";

/**
 * What the HTTP app (events API, admin API, health) uses of the app it serves. `Hookline` is one;
 * the routes never import the app itself, so the app and its HTTP layer do not depend on each
 * other in a cycle.
 *
 * @example createHttpApp(app satisfies AdminApp, { adminToken, routes, host })
 */
export interface AdminApp {
  readonly store: Store;
  readonly managed: ManagedConfig;
  readonly deliverer: Deliverer;
  readonly catalogue: Pick<Catalogue, "renderers" | "webhooks" | "integrations" | "sourceOf">;
  readonly webhooks: ReadonlyMap<string, CompiledWebhook>;
  readonly integrations: ReadonlyMap<string, IntegrationRuntime>;
  readonly worker: { readonly owner: string; readonly active: number; wake(): void };
  /** Works on runs' jobs (bulk retries, replays): woken when one starts. */
  readonly jobs: { wake(): void };
  readonly redactor: Redactor;
  readonly logger: Logger;
  /** Stored customer profiles, when a plugin keeps them (the console's test picks one). */
  readonly profiles?: StoredProfiles;
  publish(events: EventInput | EventInput[], options?: PublishOptions): Promise<PublishResult>;
}
