import type { NewDelivery } from "../contracts/delivery.ts";
import type { DeliveryObserver, ObserverContext, PluginMigrations } from "../contracts/extension.ts";
import type { OutboxStore } from "../contracts/outbox-store.ts";
import type { SqlDriver, SqlExecutor } from "../contracts/sql.ts";
import { enqueueDeliveries, insertDeliveries } from "./enqueue.ts";
import { SqlMigrator } from "./migrator.ts";

/**
 * The publishing side of the store in SQL: deliveries written to the outbox, the schema brought up to
 * date, the connection for plugins' own tables. It records no outcomes, so observers registered here
 * are never called. The edge worker's store (it publishes what it receives; the servers send it);
 * `SqlStore` is this plus the queue, policies, run health and delivery log.
 *
 * @example
 * const store = new SqlOutboxStore(driver, [{ plugin: "inbound", migrations }]);
 * await store.migrate();
 * await store.enqueue(deliveries);
 */
export class SqlOutboxStore implements OutboxStore {
  /** The core's and the plugins' migrations. */
  readonly schema: SqlMigrator;

  constructor(
    protected readonly db: SqlDriver,
    pluginMigrations: readonly PluginMigrations[] = [],
  ) {
    this.schema = new SqlMigrator(db, pluginMigrations);
  }

  /** The SQL connection, for plugins that keep tables of their own (see `PluginMigrations`). */
  get sql(): SqlDriver {
    return this.db;
  }

  get driverName(): string {
    return this.db.name;
  }

  migrate(): Promise<void> {
    return this.schema.migrate();
  }

  checkMigrated(): Promise<void> {
    return this.schema.checkMigrated();
  }

  enqueue(deliveries: NewDelivery[]): Promise<string[]> {
    return enqueueDeliveries(this.db, deliveries);
  }

  async enqueueIn(tx: SqlExecutor, deliveries: NewDelivery[]): Promise<string[]> {
    return deliveries.length === 0 ? [] : insertDeliveries(tx, deliveries);
  }

  /** No outcomes are recorded through this store: its observers would never be called. */
  observe(_observers: readonly DeliveryObserver[], _context: Omit<ObserverContext, "afterCommit">): void {}

  async close(): Promise<void> {
    await this.db.close();
  }
}
