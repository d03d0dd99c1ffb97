import type {
  AttemptRecord,
  ClaimedDelivery,
  DeliveryNext,
  DeliveryResult,
  NewDelivery,
} from "../../../core/contracts/delivery.ts";
import type { SqlDriver } from "../../../core/contracts/sql.ts";
import { SqlMigrator } from "../../../core/store/migrator.ts";
import { type StoreKind, storeKinds } from "../../support/db.ts";

export { storeKinds };
export type Driver = Awaited<ReturnType<StoreKind["open"]>>;

/** A new, empty store of this kind with the core's schema. */
export async function migrated(kind: StoreKind): Promise<Driver> {
  const db = await kind.open();
  await new SqlMigrator(db).migrate();
  return db;
}

/** A delivery to enqueue; each gets its own id and idempotency key unless told. */
export function delivery(over: Partial<NewDelivery> = {}): NewDelivery {
  return {
    id: crypto.randomUUID(),
    webhook: "crm",
    idempotencyKey: crypto.randomUUID(),
    runId: "run-1",
    eventId: "evt-1",
    eventType: "customer.updated",
    customerId: "c-1",
    context: { event: { type: "customer.updated" } },
    maxAttempts: 3,
    ...over,
  };
}

/** What a worker hands back for a claimed delivery: its attempt (numbered by the claim) and what comes next. */
export function result(claimed: ClaimedDelivery, next: DeliveryNext, status = 200): DeliveryResult {
  const attempt: AttemptRecord = {
    deliveryId: claimed.id,
    number: claimed.attempts,
    startedAt: new Date().toISOString(),
    durationMs: 5,
    request: { method: "POST", url: "https://crm.example.com/hook", headers: {} },
    status,
    outcome: next.status === "pending" ? "retry" : next.status,
  };
  return {
    deliveryId: claimed.id,
    leaseOwner: claimed.leaseOwner!,
    policy: claimed.policy,
    orderingKey: claimed.orderingKey,
    webhook: claimed.webhook,
    runId: claimed.runId,
    attempt,
    next,
    delivery: {
      id: claimed.id,
      webhook: claimed.webhook,
      runId: claimed.runId,
      eventId: claimed.eventId,
      eventType: claimed.eventType,
      customerId: claimed.customerId,
      context: claimed.context,
    },
  };
}

/** A delivery's status and reason as stored, read straight from its table. */
export async function statusOf(
  db: SqlDriver,
  id: string,
): Promise<{ status: string; reason: string | null }> {
  const [row] = await db.query<{ status: string; reason: string | null }>(
    "SELECT status, reason FROM hookline_delivery_state WHERE id = $1",
    [id],
  );
  return row!;
}

/** Deletes every delivery: its content and its state. */
export async function clearDeliveries(db: SqlDriver): Promise<void> {
  await db.query("DELETE FROM hookline_delivery_state");
  await db.query("DELETE FROM hookline_deliveries");
}

/** A driver whose every call fails as a lost connection does. */
export const downDriver: SqlDriver = {
  name: "down",
  query: () => Promise.reject(new Error("connection refused")),
  exec: () => Promise.reject(new Error("connection refused")),
  transaction: () => Promise.reject(new Error("connection refused")),
  relaxed: () => Promise.reject(new Error("connection refused")),
  close: async () => {},
};
