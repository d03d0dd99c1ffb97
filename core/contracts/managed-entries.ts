/** A row of `hookline_managed` as its queries select it: an admin-API integration or webhook. */
export interface ManagedRow {
  kind: "integration" | "webhook";
  name: string;
  spec: Record<string, unknown>;
  /** The entry's secret fields, sealed with the app's `SecretBox` (null when it has none). */
  sealed: string | null;
  /** Secret fields an import left out, to be entered again before the integration can be used. */
  missing_secrets: string[];
}

/**
 * The `hookline_managed` table (integrations and webhooks created through the admin API), and the
 * removal of an integration's sealed state with it. Rows are given back as the queries select them.
 *
 * @example
 * await entries.upsert("webhook", "crm-sync", spec, null, []);
 * const row = await entries.get("webhook", "crm-sync");
 */
export interface ManagedEntries {
  /** Every entry with when it last changed, by kind then name (what a process loads at start). */
  list(): Promise<Array<ManagedRow & { updated_at: unknown }>>;
  /** Every entry by name (what an export writes). */
  listByName(): Promise<ManagedRow[]>;
  get(kind: ManagedRow["kind"], name: string): Promise<ManagedRow | undefined>;
  /** Creates or replaces an entry; `updated_at` moves, so other processes see a new `version()`. */
  upsert(
    kind: ManagedRow["kind"],
    name: string,
    spec: object,
    sealed: string | null,
    missing: string[],
  ): Promise<void>;
  delete(kind: ManagedRow["kind"], name: string): Promise<void>;
  /** Removes an integration's state (`hookline_integration_state`), as its entry is deleted. */
  deleteIntegrationState(integration: string): Promise<void>;
  /** Changes whenever an entry is written or deleted: cheap to poll, to know when to reload. */
  version(): Promise<string>;
}
