import type {
  AttemptRecord,
  ClaimedDelivery,
  Delivery,
  DeliveryResult,
  EndedRun,
  LeaseTo,
  NewDelivery,
} from "../contracts/delivery.ts";
import type { DeliveryFilter } from "../contracts/delivery-log.ts";
import type { DeliveryObserver, ObserverContext, PluginMigrations } from "../contracts/extension.ts";
import type { FanOutJob } from "../contracts/fan-out.ts";
import type { OutcomeObservers } from "../contracts/observers.ts";
import type { PolicyLimits, PolicyWrite } from "../contracts/policies.ts";
import type { CompleteOptions } from "../contracts/queue.ts";
import type {
  DisabledWebhook,
  PausedWebhook,
  QueuedOnDisable,
  RetryFilter,
  RunSummary,
} from "../contracts/runs.ts";
import type { SqlDriver } from "../contracts/sql.ts";
import type { Store } from "../contracts/store.ts";
import type { ApiToken, Role } from "../contracts/tokens.ts";
import { SqlDeliveryLog } from "./delivery-log.ts";
import { enqueueLeased } from "./enqueue.ts";
import { SqlFanOut } from "./fan-out.ts";
import { ObserverDispatch } from "./observers.ts";
import { SqlOutboxStore } from "./outbox-store.ts";
import { SqlPolicyStore } from "./policies.ts";
import { SqlDeliveryQueue } from "./queue.ts";
import { SqlRunHealth } from "./run-health.ts";
import { SqlRunLog } from "./runs.ts";
import { SqlTokenStore } from "./tokens.ts";

/**
 * The store in SQL, over PGlite or postgres.js alike. Writes are set-based (one statement for many
 * rows, JSON parameters unpacked with `jsonb_to_recordset`): batching is what makes the embedded
 * store fast.
 *
 * Each job is an object of its own over the one connection (`queue`, `policies`, `runs`, `log`,
 * `observers`, and `schema` with the outbox insert from `SqlOutboxStore`); the store composes them and
 * answers the whole `Store` surface by delegation, so a caller may hold the store or only the job it
 * needs.
 *
 * @example
 * const store = new SqlStore(await pgliteDriver({ dataDir: ".hookline" }));
 * await store.migrate();
 * const failed = await store.log.listDeliveries({ status: "failed" });
 */
export class SqlStore extends SqlOutboxStore implements Store, OutcomeObservers {
  /** Observers called inside the transaction that records each outcome (see `DeliveryObserver`). */
  readonly observers: ObserverDispatch;
  /** Halted and aborted runs, paused webhooks; `complete` takes its steps. */
  readonly runs: SqlRunHealth;
  /** Enqueue, claim, release, complete: the delivery engine's side. */
  readonly queue: SqlDeliveryQueue;
  /** Throughput policies and their slots. */
  readonly policies: SqlPolicyStore;
  /** Deliveries and attempts as the admin API reads them, and manual retries. */
  readonly log: SqlDeliveryLog;
  /** Runs with their progress; bulk retries and replays. */
  readonly runLog: SqlRunLog;
  /** API tokens with roles (stored hashed). */
  readonly tokens: SqlTokenStore;
  /** Segment sends: runs whose jobs write a delivery per member (worked by `runJobs`). */
  readonly fanOut: SqlFanOut;

  constructor(db: SqlDriver, pluginMigrations: readonly PluginMigrations[] = []) {
    super(db, pluginMigrations);
    this.observers = new ObserverDispatch();
    this.runs = new SqlRunHealth(db);
    this.queue = new SqlDeliveryQueue(db, this.runs, this.observers);
    this.policies = new SqlPolicyStore(db);
    this.log = new SqlDeliveryLog(db);
    this.runLog = new SqlRunLog(db, this.runs);
    this.tokens = new SqlTokenStore(db);
    this.fanOut = new SqlFanOut(db);
  }

  startFanOut(job: FanOutJob): Promise<{ created: boolean }> {
    return this.fanOut.startFanOut(job);
  }

  createToken(name: string, role: Role): Promise<{ token: ApiToken; secret: string }> {
    return this.tokens.createToken(name, role);
  }

  listTokens(): Promise<ApiToken[]> {
    return this.tokens.listTokens();
  }

  revokeToken(id: string): Promise<boolean> {
    return this.tokens.revokeToken(id);
  }

  roleOfHash(hash: string): Promise<Role | undefined> {
    return this.tokens.roleOfHash(hash);
  }

  listRuns(filter: { kind?: string; limit?: number; before?: string }): Promise<RunSummary[]> {
    return this.runLog.listRuns(filter);
  }

  getRun(id: string): Promise<RunSummary | undefined> {
    return this.runLog.getRun(id);
  }

  startRetry(filter: RetryFilter): Promise<RunSummary> {
    return this.runLog.startRetry(filter);
  }

  startReplay(source: string): Promise<RunSummary | undefined> {
    return this.runLog.startReplay(source);
  }

  cancelRun(id: string, reason: string): Promise<RunSummary | undefined> {
    return this.runLog.cancelRun(id, reason);
  }

  runJobs(owner: string, budgetMs: number): Promise<number> {
    return this.runLog.runJobs(owner, budgetMs);
  }

  compactTallies(limit: number): Promise<number> {
    return this.runLog.compactTallies(limit);
  }

  /** Observers that see every recorded outcome inside the transaction recording it (see `DeliveryObserver`). */
  override observe(
    observers: readonly DeliveryObserver[],
    context: Omit<ObserverContext, "afterCommit">,
  ): void {
    this.observers.observe(observers, context);
  }

  /**
   * Enqueues deliveries, writing those `lease.ids` names already leased to a worker of this process,
   * which sends them at once (see `LeaseTo`). Returns the ids inserted and those of them leased.
   */
  enqueueLeased(
    deliveries: NewDelivery[],
    lease: LeaseTo,
  ): Promise<{ inserted: string[]; leased: string[] }> {
    return enqueueLeased(this.db, deliveries, lease);
  }

  claim(owner: string, limit: number, leaseMs: number, bulkMaxWaitMs?: number): Promise<ClaimedDelivery[]> {
    return this.queue.claim(owner, limit, leaseMs, bulkMaxWaitMs);
  }

  claimBatch(
    owner: string,
    webhook: string,
    limit: number,
    leaseMs: number,
    heads?: readonly string[],
  ): Promise<ClaimedDelivery[]> {
    return this.queue.claimBatch(owner, webhook, limit, leaseMs, heads);
  }

  reclaimExpired(limit?: number): Promise<number> {
    return this.queue.reclaimExpired(limit);
  }

  complete(results: DeliveryResult[], options?: CompleteOptions): Promise<EndedRun[]> {
    return this.queue.complete(results, options);
  }

  release(owner: string, ids: string[], delayMs?: number): Promise<void> {
    return this.queue.release(owner, ids, delayMs);
  }

  nextDueAt(): Promise<string | undefined> {
    return this.queue.nextDueAt();
  }

  resumeWebhook(webhook: string): Promise<boolean> {
    return this.runs.resumeWebhook(webhook);
  }

  pausedWebhooks(): Promise<PausedWebhook[]> {
    return this.runs.pausedWebhooks();
  }

  disableWebhook(
    webhook: string,
    options: { queued: QueuedOnDisable; reason: string },
  ): Promise<{ halted: number } | undefined> {
    return this.runs.disableWebhook(webhook, options);
  }

  enableWebhook(webhook: string): Promise<boolean> {
    return this.runs.enableWebhook(webhook);
  }

  disabledWebhooks(): Promise<DisabledWebhook[]> {
    return this.runs.disabledWebhooks();
  }

  syncPolicies(policies: PolicyWrite[]): Promise<void> {
    return this.policies.syncPolicies(policies);
  }

  setPolicy(policy: PolicyWrite): Promise<void> {
    return this.policies.setPolicy(policy);
  }

  deletePolicy(name: string): Promise<boolean> {
    return this.policies.deletePolicy(name);
  }

  listPolicies(): Promise<Array<PolicyLimits & { inUse: number }>> {
    return this.policies.listPolicies();
  }

  acquireSlots(policy: string, owner: string, holders: string[], leaseMs: number): Promise<string[]> {
    return this.policies.acquireSlots(policy, owner, holders, leaseMs);
  }

  getDelivery(id: string): Promise<Delivery | undefined> {
    return this.log.getDelivery(id);
  }

  listDeliveries(filter: DeliveryFilter): Promise<Delivery[]> {
    return this.log.listDeliveries(filter);
  }

  listAttempts(deliveryId: string): Promise<AttemptRecord[]> {
    return this.log.listAttempts(deliveryId);
  }

  retryDelivery(id: string, extraAttempts: number): Promise<Delivery | undefined> {
    return this.log.retryDelivery(id, extraAttempts);
  }
}
