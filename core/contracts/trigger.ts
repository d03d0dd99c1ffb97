import type { z } from "zod";
import type { HooklineEvent } from "../model/event.ts";
import type { PluginHost } from "./host.ts";

/** What a trigger instance can do with the app it runs in. */
export interface TriggerContext {
  /**
   * Writes one delivery per named webhook for this event (the outbox), before it resolves; they need
   * the trigger's `consent`, which the core adds.
   */
  fire(
    webhooks: readonly string[],
    event: HooklineEvent,
    params?: Record<string, unknown>,
    options?: {
      /** Part of a bulk run (a schedule's tick): claimed after events' deliveries (see `engine.bulkMaxWait`). */
      bulk?: boolean;
    },
  ): Promise<void>;
  signal: AbortSignal;
  /** The app, as plugins see it: the store's SQL (a schedule's durable row), the logger. */
  host: PluginHost;
}

/** A trigger made from one `triggers:` entry of the config. */
export interface TriggerInstance {
  /** The webhooks this trigger fires. */
  readonly webhooks: readonly string[];
  /** Template parameters this trigger sets (they override the webhook's). */
  readonly params?: Record<string, unknown>;
  /** Consent objectives (any one) the deliveries it makes need, in addition to their webhook's. */
  readonly consent?: readonly string[];
  /**
   * Segments the event's customer must be in, one of them at least (the trigger's `segments:`, which
   * the core sets and checks through `Tokens.AudienceCheck`); absent: every customer.
   */
  readonly segments?: readonly string[];
  /** For triggers driven by published events: does this event fire the webhooks? */
  matches?(event: HooklineEvent): boolean;
  /** For triggers that are their own source (schedules, profile changes): start producing. */
  start?(context: TriggerContext): void | Promise<void>;
  stop?(): void | Promise<void>;
}

/**
 * A kind of trigger (`event`, `schedule`, …). `schema` validates the entry's options: everything but
 * `kind`, `webhooks`, `params` and `consent`, which the core owns.
 */
export interface TriggerKind<O = any> {
  readonly kind: string;
  readonly schema: z.ZodType<O>;
  create(
    options: O,
    common: { webhooks: string[]; params?: Record<string, unknown>; consent?: string[] },
  ): TriggerInstance;
}
