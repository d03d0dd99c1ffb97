import type { DeliveryLog } from "./delivery-log.ts";
import type { PolicyStore } from "./policies.ts";
import type { DeliveryQueue } from "./queue.ts";
import type { RunHealth, RunLog } from "./runs.ts";
import type { TokenStore } from "./tokens.ts";

// Each job's contract lives in its own file; everything that was ever importable from here still is.
export type {
  AttemptRecord,
  ClaimedDelivery,
  Delivery,
  DeliveryNext,
  DeliveryOutcome,
  DeliveryResult,
  DeliveryStatus,
  EndedDelivery,
  EndedRun,
  NewDelivery,
  OutcomeDelivery,
} from "./delivery.ts";
export type { DeliveryFilter, DeliveryLog } from "./delivery-log.ts";
export type { PolicyLimits, PolicyStore, PolicyWrite } from "./policies.ts";
export type { CompleteOptions, DeliveryQueue } from "./queue.ts";
export type {
  DisabledWebhook,
  PausedWebhook,
  QueuedOnDisable,
  RetryFilter,
  RunCounts,
  RunHealth,
  RunLog,
  RunSummary,
} from "./runs.ts";
export type { SqlDriver, SqlExecutor } from "./sql.ts";
export type { ApiToken, Role, TokenStore } from "./tokens.ts";

/**
 * Brings the store's schema up to date (the core's tables, then each plugin's), each step once, one
 * migrator at a time.
 *
 * @example
 * await store.migrate();
 */
export interface StoreMigrator {
  migrate(): Promise<void>;
  /** Throws HOOKLINE_STORE_SCHEMA_BEHIND unless every migration this build knows was applied. */
  checkMigrated(): Promise<void>;
}

/**
 * The durable side of hookline: the outbox of deliveries and their attempts, one interface per job
 * (queue, throughput policies, run health, delivery log) plus its schema and its connection.
 * Implemented once in SQL (core/store/sql-store.ts) over a `SqlDriver`; plugins may register another.
 *
 * @example
 * await store.migrate();
 * const [d] = await store.claim("worker-1", 1, 30_000);
 */
export interface Store
  extends DeliveryQueue,
    PolicyStore,
    RunHealth,
    RunLog,
    DeliveryLog,
    TokenStore,
    StoreMigrator {
  close(): Promise<void>;
}
