import type { HooklineConfig } from "../config/schema.ts";
import type { SqlExecutor } from "./sql.ts";

/**
 * The members of an audience as one SELECT over the plugin's own tables: rows of `id` (text, unique)
 * and `customer` (jsonb: the customer as templates see it, `it.customer`). Its parameters are `$1` …
 * `$n`; the core wraps its insert around it and adds its own after them, so the text must hold no
 * other placeholders. Only the plugin that owns the profiles writes it (compiled from a checked
 * filter, every value a parameter); the core never takes one from a request.
 *
 * @example { sql: "SELECT p.id, p.properties || jsonb_build_object('id', p.id) AS customer FROM hookline_profiles p WHERE p.properties->>'tier' = $1", params: ["gold"] }
 */
export interface MembersQuery {
  sql: string;
  params: string[];
}

/**
 * Turns a segment's name into the query of its members, for a send the core starts on its own (a
 * schedule trigger naming `segment:`). Registered by the plugin that keeps segments
 * (`Tokens.SegmentMembers`); undefined for a segment it does not know.
 */
export interface SegmentMembers {
  members(
    from: { config: Pick<HooklineConfig, "sections">; sql: SqlExecutor },
    name: string,
    options: { now: Date },
  ): Promise<MembersQuery | undefined>;
}

/**
 * A send to an audience: one delivery per member and webhook (a batch webhook's are claimed in batches
 * as any of its deliveries are), written page by page by a job, as one run.
 *
 * @example await host.fanOut({ segment: "vip", members, webhooks: ["crm"], sendId: "spring-sale" })
 */
export interface FanOutSend {
  /** The segment's name: the deliveries' event says it (`it.event.data.segment`). */
  segment: string;
  /** Who gets it; absent: the segment as `Tokens.SegmentMembers` gives it now. */
  members?: MembersQuery;
  webhooks: string[];
  /**
   * The send's id: its members' idempotency keys are `<sendId>:<member>:<webhook>`, so the same send
   * started again writes nothing twice. Default: a new one.
   */
  sendId?: string;
  /** The run it is (default `send_<sendId>`): a schedule's tick names its own. */
  runId?: string;
  /** Template parameters over the webhook's own (`it.params`). */
  params?: Record<string, unknown>;
  /**
   * Consent objectives the send needs (any one), in addition to each webhook's own: they travel in each
   * delivery's context as `withConsent` puts them, and a member without one is skipped when it is due.
   */
  consent?: string[];
}

/** A send started (or found: the same send id again). */
export interface FanOutStarted {
  runId: string;
  sendId: string;
  /** False when a send with this id had been started already: nothing new was written. */
  created: boolean;
}

/** One webhook of a send as the job writes its deliveries (what `buildDelivery` fixes per webhook). */
export interface FanOutWebhook {
  webhook: string;
  maxAttempts: number;
  /** A batch webhook's linger before a delivery is due. */
  delayMs: number;
  policy: string | null;
  /** The webhook's params, then the send's. */
  params: Record<string, unknown>;
}

/** What the store keeps of a send on its run's row: all a process needs to resume it. */
export interface FanOutJob {
  runId: string;
  sendId: string;
  segment: string;
  members: MembersQuery;
  webhooks: FanOutWebhook[];
  /** When the send started: every delivery's event timestamp. */
  at: string;
  /** The W3C `traceparent` every attempt of the send is traced under. */
  traceparent: string;
  /** See `FanOutSend.consent`. */
  consent?: string[];
}

/**
 * The store's side of a send: the run and its job, worked by `RunLog.runJobs` like bulk retries.
 *
 * @example const { created } = await store.startFanOut(job);
 */
export interface FanOutStore {
  /** Writes the run with its job (cursor at the start); `created: false` when the run was there. */
  startFanOut(job: FanOutJob): Promise<{ created: boolean }>;
}
