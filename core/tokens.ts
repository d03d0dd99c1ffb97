import type { InjectionToken } from "tsyringe";
import type { HooklineConfig } from "./config/schema.ts";
import type { AudienceCheck } from "./contracts/audience.ts";
import type { AuthProvider } from "./contracts/auth.ts";
import type { ConfigSection } from "./contracts/config-section.ts";
import type { ConsentCheck } from "./contracts/consent.ts";
import type {
  DeliveryObserver,
  HttpRoutes,
  PluginMigrations,
  Service,
  StartupCheck,
} from "./contracts/extension.ts";
import type { SegmentMembers } from "./contracts/fan-out.ts";
import type { InboundAuthKind } from "./contracts/inbound-auth.ts";
import type { Logger } from "./contracts/logger.ts";
import type { ProfileReader } from "./contracts/profiles.ts";
import type { Renderer } from "./contracts/renderer.ts";
import type { RetryPolicy } from "./contracts/retry.ts";
import type { SqlDriver } from "./contracts/store.ts";
import type { TransportFactory } from "./contracts/transport.ts";
import type { TriggerKind } from "./contracts/trigger.ts";

/**
 * The DI tokens the core resolves. Plugins register under them with `useValue` / `useFactory` /
 * `useClass`; several plugins may register under one token and the core resolves them all.
 * Nothing here relies on emitted decorator metadata.
 */
export const Tokens = {
  /** Template engines (`resolveAll`). */
  Renderer: Symbol.for("hookline.Renderer") as InjectionToken<Renderer>,
  /** Authentication kinds (`resolveAll`). */
  AuthProvider: Symbol.for("hookline.AuthProvider") as InjectionToken<AuthProvider>,
  /** Inbound authentication kinds, for the inbound plugin's endpoints (`resolveAll`). */
  InboundAuth: Symbol.for("hookline.InboundAuth") as InjectionToken<InboundAuthKind>,
  /** Trigger kinds (`resolveAll`). */
  TriggerKind: Symbol.for("hookline.TriggerKind") as InjectionToken<TriggerKind>,
  /** Makes the HTTP transport, given the SSRF guard (the last registration wins; default: ky over fetch). */
  TransportFactory: Symbol.for("hookline.TransportFactory") as InjectionToken<TransportFactory>,
  /** The retry policy (the last registration wins). */
  RetryPolicy: Symbol.for("hookline.RetryPolicy") as InjectionToken<RetryPolicy>,
  /** The SQL driver behind the store: PGlite or postgres.js (the last registration wins). */
  SqlDriver: Symbol.for("hookline.SqlDriver") as InjectionToken<SqlDriver>,
  /** Extra top-level config sections contributed by plugins (`resolveAll`). */
  ConfigSection: Symbol.for("hookline.ConfigSection") as InjectionToken<ConfigSection>,
  /** The loaded config (registered by the core once it has loaded, before the store is resolved). */
  Config: Symbol.for("hookline.Config") as InjectionToken<HooklineConfig>,
  /** The environment `${VAR}` references read (registered by the core). */
  Env: Symbol.for("hookline.Env") as InjectionToken<Record<string, string | undefined>>,
  /** Schema changes of plugins (`resolveAll`). */
  Migrations: Symbol.for("hookline.Migrations") as InjectionToken<PluginMigrations>,
  /** HTTP routes of plugins (`resolveAll`). */
  HttpRoutes: Symbol.for("hookline.HttpRoutes") as InjectionToken<HttpRoutes>,
  /** Background services of plugins (`resolveAll`), started and stopped with the app. */
  Service: Symbol.for("hookline.Service") as InjectionToken<Service>,
  /** Checks run at the end of `createHookline` (`resolveAll`): a failure stops start-up. */
  StartupCheck: Symbol.for("hookline.StartupCheck") as InjectionToken<StartupCheck>,
  /** Observers of delivery outcomes, run in the transaction that records them (`resolveAll`). */
  DeliveryObserver: Symbol.for("hookline.DeliveryObserver") as InjectionToken<DeliveryObserver>,
  /** Reads stored customer profiles, when a plugin keeps them (optional; the last registration wins). */
  ProfileReader: Symbol.for("hookline.ProfileReader") as InjectionToken<ProfileReader>,
  /** Whether customers consented to objectives, when a plugin keeps consents (optional; the last registration wins). */
  ConsentCheck: Symbol.for("hookline.ConsentCheck") as InjectionToken<ConsentCheck>,
  /** A segment's members as a query, when a plugin keeps segments (optional; the last registration wins). */
  SegmentMembers: Symbol.for("hookline.SegmentMembers") as InjectionToken<SegmentMembers>,
  /**
   * Which customers are in which segments, for triggers restricted to segments, when a plugin keeps
   * segments (optional; the last registration wins).
   */
  AudienceCheck: Symbol.for("hookline.AudienceCheck") as InjectionToken<AudienceCheck>,
  /** Structured logger. */
  Logger: Symbol.for("hookline.Logger") as InjectionToken<Logger>,
} as const;
