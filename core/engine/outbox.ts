import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import type { Audience } from "../contracts/audience.ts";
import type { Catalogue } from "../contracts/catalogue.ts";
import type { LeaseTo } from "../contracts/delivery.ts";
import type { PublishOptions, PublishResult } from "../contracts/host.ts";
import type { RetryPolicy } from "../contracts/retry.ts";
import type { ClaimedDelivery, NewDelivery, SqlExecutor, Store } from "../contracts/store.ts";
import type { TriggerInstance } from "../contracts/trigger.ts";
import { HooklineError } from "../errors.ts";
import { EventInput, type HooklineEvent } from "../model/event.ts";
import { traceparentOf } from "../telemetry/traceparent.ts";
import type { RetryPolicies } from "./retry-policies.ts";
import type { CompiledWebhook } from "./webhooks.ts";

export type { PublishOptions, PublishResult };

// Events that hookline's own code built from input it had validated (`validatedEvent`).
const validated = new WeakSet<EventInput>();

/**
 * Marks an event that trusted code built from input already validated, such that it is a valid
 * `EventInput` by construction: `acceptEvent` takes it as it is instead of parsing it again. The
 * event is not copied, so it must not change afterwards. Never for an event holding a value that
 * no schema has checked: such an event is parsed like any other.
 *
 * @example host.publish(activities.map((a) => validatedEvent(activityEvent(endpoint, key, a, runId))))
 */
export function validatedEvent<T extends EventInput>(event: T): T {
  validated.add(event);
  return event;
}

// Events published together that came from different requests (a group commit): each one's traceparent.
const traced = new WeakMap<EventInput, string>();

/**
 * Marks an event with the W3C `traceparent` of the request it came from, for a publish that carries
 * events of several requests: its deliveries are traced under it rather than the publish's own.
 *
 * @example host.publish(requests.flatMap((r) => r.events.map((e) => tracedEvent(e, r.traceparent))))
 */
export function tracedEvent<T extends EventInput>(event: T, traceparent: string | null | undefined): T {
  if (traceparent) traced.set(event, traceparent);
  return event;
}

/** Fills in what a sender may leave out: id, timestamp. */
export function acceptEvent(input: EventInput, now = new Date()): HooklineEvent {
  // A parse copies the event and checks every value in it again: ~5 µs for an activity's event.
  const e: EventInput = validated.has(input) ? input : EventInput.parse(input);
  return {
    id: e.id ?? `evt_${crypto.randomUUID()}`,
    type: e.type,
    customer: e.customer as HooklineEvent["customer"],
    data: e.data ?? {},
    timestamp: e.timestamp ?? now.toISOString(),
    runId: e.runId,
    params: e.params,
  };
}

/**
 * Sending at once: a worker of this process takes deliveries the process writes without claiming
 * them — they are written already leased to it (a process that dies before recording them loses
 * nothing: their lease expires and any worker takes them).
 */
export interface HandOff {
  /**
   * Picks, of the deliveries about to be written, those it can send at once (its free slots; no
   * ordered stream, throughput policy, delay or batch), holding slots for them until `accept` (with
   * those written leased, sent now) or `cancel`. Undefined when it takes none.
   */
  offer(
    rows: readonly NewDelivery[],
  ): { lease: LeaseTo; accept(leased: ClaimedDelivery[]): void; cancel(): void } | undefined;
}

/** A store that can write deliveries already leased to a worker of this process (see `HandOff`). */
interface LeasingStore {
  enqueueLeased(deliveries: NewDelivery[], lease: LeaseTo): Promise<{ inserted: string[]; leased: string[] }>;
}

/**
 * The outbox: turns events into deliveries, written to the store before anything is sent. The
 * idempotency key is the event id and the webhook name, so an event sent twice with its id makes no
 * second delivery.
 *
 * @example const result = await outbox.publish([{ type: "purchase", customer: { id: "c1" } }]);
 */
export class Outbox {
  constructor(
    private readonly deps: {
      store: Pick<Store, "enqueue">;
      /** Webhooks and the triggers that fire them, read at every publish. */
      catalogue: Pick<Catalogue, "webhooks" | "triggers">;
      retry: RetryPolicies;
      /**
       * Who of these customers is in which of these segments, for triggers restricted to segments
       * (`Tokens.AudienceCheck`); asked on `sql` (default: the store's), once per publish.
       */
      audience?: (
        customerIds: readonly string[],
        segments: readonly string[],
        sql?: SqlExecutor,
      ) => Promise<Audience>;
    },
  ) {}

  private enqueued?: () => void;
  private handOff?: HandOff;

  /** Calls `fn` after deliveries were written (the app wakes its local workers). */
  onEnqueued(fn: () => void): void {
    this.enqueued = fn;
  }

  /** Deliveries written from now on may go straight to `handOff` (see `HandOff`); needs a leasing store. */
  sendAtOnce(handOff: HandOff): void {
    this.handOff = handOff;
  }

  /** Writes deliveries; those the hand-off takes are written leased to it and sent at once. */
  private async write(rows: NewDelivery[]): Promise<string[]> {
    const store = this.deps.store as Partial<LeasingStore>;
    const offer = store.enqueueLeased && rows.length > 0 ? this.handOff?.offer(rows) : undefined;
    if (!offer) return this.deps.store.enqueue(rows);
    let written: { inserted: string[]; leased: string[] };
    try {
      written = await store.enqueueLeased!(rows, offer.lease);
    } catch (e) {
      offer.cancel();
      throw e;
    }
    const leased = new Set(written.leased);
    offer.accept(
      rows
        .filter((d) => leased.has(d.id))
        .map((d) => ({
          id: d.id,
          webhook: d.webhook,
          idempotencyKey: d.idempotencyKey,
          runId: d.runId,
          eventId: d.eventId,
          eventType: d.eventType,
          customerId: d.customerId,
          context: d.context,
          attempts: 1,
          maxAttempts: d.maxAttempts,
          leaseOwner: offer.lease.owner,
          policy: d.policy,
          orderingKey: d.orderingKey,
          ...(d.traceparent ? { traceparent: d.traceparent } : {}),
        })),
    );
    return written.inserted;
  }

  /**
   * Builds (does not write) the delivery of one webhook for one event; `consent` lists objectives it
   * needs beyond its webhook's (a trigger's, a send's: see `withConsent`).
   */
  delivery(
    webhook: string,
    event: HooklineEvent,
    runId: string,
    triggerParams?: Record<string, unknown>,
    consent?: ReadonlyArray<readonly string[] | undefined>,
  ): NewDelivery {
    const hook = this.deps.catalogue.webhooks.get(webhook);
    if (!hook) throw new Error(`unknown webhook "${webhook}"`);
    const d = buildDelivery(hook, this.deps.retry.of(hook), {
      idempotencyKey: `${event.id}:${webhook}`,
      runId,
      eventId: event.id,
      eventType: event.type,
      customerId: event.customer ? String(event.customer.id) : undefined,
      context: {
        event: { id: event.id, type: event.type, data: event.data, timestamp: event.timestamp },
        customer: event.customer ?? {},
        params: { ...hook.config.params, ...triggerParams, ...event.params },
      },
    });
    return consent ? withConsent(d, ...consent) : d;
  }

  /** The deliveries (not written) that the event triggers make of one event: the fail branch uses it. */
  deliveriesFor(event: HooklineEvent, audience?: Audience): NewDelivery[] {
    const seen = new Map<string, NewDelivery>();
    for (const t of this.deps.catalogue.triggers) {
      if (!t.matches?.(event) || !admits(t, event, audience)) continue;
      for (const w of t.webhooks)
        if (!seen.has(w))
          seen.set(w, this.delivery(w, event, event.runId ?? `run_${event.id}`, t.params, [t.consent]));
    }
    return [...seen.values()];
  }

  /**
   * Who of these events' customers is in which segment, for the triggers restricted to segments that
   * the events match: one question to `Tokens.AudienceCheck` for them all (on `sql`: a transaction's).
   * Undefined, asking nothing, when no trigger names segments.
   *
   * @example const audience = await outbox.audienceOf(events); outbox.deliveriesFor(events[0], audience);
   */
  async audienceOf(events: readonly HooklineEvent[], sql?: SqlExecutor): Promise<Audience | undefined> {
    const triggers = this.deps.catalogue.triggers;
    if (!triggers.some((t) => t.segments)) return undefined;
    const customers = new Set<string>();
    const segments = new Set<string>();
    for (const event of events) {
      if (event.customer === undefined) continue;
      for (const t of triggers) {
        if (!t.segments || !t.matches?.(event)) continue;
        customers.add(String(event.customer.id));
        for (const s of t.segments) segments.add(s);
      }
    }
    if (customers.size === 0) return new Map();
    if (!this.deps.audience)
      throw new HooklineError(
        "HOOKLINE_CONFIG",
        `a trigger names segments (${[...segments].join(", ")}): no plugin checks them (Tokens.AudienceCheck)`,
      );
    return this.deps.audience([...customers], [...segments], sql);
  }

  /**
   * Matches events against the event triggers and writes one delivery per matching webhook, each
   * keeping the caller's `traceparent` (or a new trace's) for its attempts to continue.
   */
  async publish(inputs: EventInput | EventInput[], options?: PublishOptions): Promise<PublishResult> {
    const list = Array.isArray(inputs) ? inputs : [inputs];
    const now = new Date();
    const events = list.map((i) => acceptEvent(i, now));
    const audience = await this.audienceOf(events);
    const runId = events.find((e) => e.runId)?.runId ?? `run_${crypto.randomUUID()}`;
    const rows: NewDelivery[] = [];
    let traceparent: string | undefined;
    const perEvent = events.map((event, i) => {
      // Made only for an event that a trigger matches: many events (an activity's) match none.
      let seen: Map<string, NewDelivery> | undefined;
      for (const t of this.deps.catalogue.triggers) {
        if (!t.matches?.(event) || !admits(t, event, audience)) continue;
        seen ??= new Map();
        for (const w of t.webhooks)
          if (!seen.has(w))
            seen.set(
              w,
              this.delivery(w, event, event.runId ?? runId, t.params, [t.consent, options?.consent]),
            );
      }
      const deliveries = seen ? [...seen.values()] : [];
      if (deliveries.length > 0) {
        const own = traced.get(list[i]!);
        if (!own) traceparent ??= traceparentOf(options?.traceparent);
        const tp = own ? traceparentOf(own) : traceparent;
        for (const d of deliveries) d.traceparent = tp;
      }
      rows.push(...deliveries);
      return { event, deliveries };
    });
    const inserted = new Set(await this.write(rows));
    if (inserted.size > 0) this.enqueued?.();
    return {
      runId,
      events: perEvent.map(({ event, deliveries }) => ({
        id: event.id,
        type: event.type,
        // A re-sent event id keeps its earlier deliveries; list only what this call created.
        deliveries: deliveries
          .filter((d) => inserted.has(d.id))
          .map((d) => ({ id: d.id, webhook: d.webhook })),
      })),
    };
  }

  /**
   * Writes one delivery per named webhook for one event (for triggers that are their own source),
   * each needing `consent` (the trigger's objectives) beyond its webhook's.
   */
  async fire(
    webhooks: readonly string[],
    event: HooklineEvent,
    params?: Record<string, unknown>,
    consent?: readonly string[],
    bulk?: boolean,
  ): Promise<string[]> {
    const runId = event.runId ?? `run_${crypto.randomUUID()}`;
    const traceparent = traceparentOf(undefined);
    const ids = await this.write(
      [...new Set(webhooks)].map((w) => ({
        ...this.delivery(w, event, runId, params, [consent]),
        traceparent,
        ...(bulk ? { bulk: true } : {}),
      })),
    );
    if (ids.length > 0) this.enqueued?.();
    return ids;
  }
}

/**
 * Whether a trigger that matched an event fires for its customer: always, unless the trigger names
 * segments, which the customer must be in (one at least). Without an audience to ask (the fail
 * branch's events), a trigger that names segments does not fire.
 */
function admits(trigger: TriggerInstance, event: HooklineEvent, audience: Audience | undefined): boolean {
  if (!trigger.segments) return true;
  const inside = event.customer && audience?.get(String(event.customer.id));
  return inside !== undefined && trigger.segments.some((s) => inside.has(s));
}

/**
 * A delivery of a webhook: its attempts by its retry policy (bloomreach: 8 for batches of 10 or more), and a batch
 * webhook's linger before it is due.
 *
 * @example buildDelivery(hook, retry, { idempotencyKey: "evt-1:crm", runId, eventId: "evt-1", eventType: "signup", context })
 */
export function buildDelivery(
  hook: CompiledWebhook,
  retry: RetryPolicy,
  d: Pick<NewDelivery, "idempotencyKey" | "runId" | "eventId" | "eventType" | "customerId" | "context">,
): NewDelivery {
  return {
    id: crypto.randomUUID(),
    webhook: hook.name,
    ...d,
    maxAttempts: retry.maxAttempts({ batchSize: hook.config.batch?.size }),
    // A batch webhook's first delivery waits for others to join its request.
    delayMs: hook.config.batch?.linger,
    policy: hook.config.policy,
    orderingKey: hook.orderingKey ? orderingKeyOf(hook, d.context) : undefined,
  };
}

/**
 * A delivery that needs consent beyond its webhook's: each list given (a trigger's, a send's) is one
 * more requirement, met by any one of its objectives. They travel in the context as `consent` (a
 * list of lists, the only part of a delivery a claim hands back that its writer chooses), and the
 * worker checks them with the webhook's own `consent` before each attempt (`ConsentScreen`).
 *
 * @example withConsent(delivery, ["marketing-email", "sms"]) // context.consent: [["marketing-email", "sms"]]
 */
export function withConsent(
  delivery: NewDelivery,
  ...lists: ReadonlyArray<readonly string[] | undefined>
): NewDelivery {
  const wanted = lists.filter((l): l is readonly string[] => l !== undefined && l.length > 0);
  if (wanted.length === 0) return delivery;
  const had = consentOf(delivery.context);
  return { ...delivery, context: { ...delivery.context, consent: [...had, ...wanted.map((l) => [...l])] } };
}

/** The consent requirements a delivery carries in its context (see `withConsent`); none for most. */
export function consentOf(context: Record<string, unknown>): string[][] {
  const c = context.consent;
  return Array.isArray(c) ? c.filter((l): l is string[] => Array.isArray(l) && l.length > 0) : [];
}

/** The ordering key for a context; one that cannot render joins one conservative stream rather than none. */
function orderingKeyOf(hook: CompiledWebhook, context: Record<string, unknown>): string {
  let key: string;
  try {
    key = hook.orderingKey!.render({ ...context, webhook: { name: hook.name } }).trim();
  } catch {
    return "!unrenderable";
  }
  // The key is rendered from customer data and indexed: one too long for an index row is kept as its
  // digest, which is as good a stream name (equal keys, equal digests).
  return key.length <= MAX_ORDERING_KEY ? key : `sha256:${bytesToHex(sha256(new TextEncoder().encode(key)))}`;
}

/** Characters of an ordering key kept as they are; a longer one is stored as its SHA-256. */
const MAX_ORDERING_KEY = 512;
