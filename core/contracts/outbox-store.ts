import type { NewDelivery } from "./delivery.ts";
import type { OutcomeObservers } from "./observers.ts";
import type { SqlDriver, SqlExecutor } from "./sql.ts";
import type { StoreMigrator } from "./store.ts";

/**
 * What the publishing side needs of a store, and all `compose` builds: the outbox insert, the
 * observers' registration, the schema and the connection. A server's store (`SqlStore`) is this and
 * the whole `Store`; the edge worker, which publishes but never sends, has only this
 * (`SqlOutboxStore`), so no claim, lease or delivery-log code rides in its bundle.
 *
 * @example const ids = await store.enqueue(await outbox.deliveriesFor(event));
 */
export interface OutboxStore extends StoreMigrator, OutcomeObservers {
  /** The SQL connection, for plugins that keep tables of their own. */
  readonly sql: SqlDriver;
  /** The driver's name (`pglite`, `postgres`), for messages. */
  readonly driverName: string;
  /** Inserts deliveries; those whose idempotency key exists already are skipped. Returns the ids inserted. */
  enqueue(deliveries: NewDelivery[]): Promise<string[]>;
  /** Writes deliveries within a transaction a caller holds (an observer's follow-ups). */
  enqueueIn(tx: SqlExecutor, deliveries: NewDelivery[]): Promise<string[]>;
  close(): Promise<void>;
}
