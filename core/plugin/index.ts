/**
 * `hookline/plugin`: everything a plugin is written against — the contracts it implements, the
 * tokens it registers under, the errors it throws and the helpers it may share with the core. A
 * plugin imports this module and nothing deeper of the core, and never another plugin.
 *
 * @example
 * import { type AuthProvider, type Plugin, Tokens } from "hookline/plugin";
 * export const myAuth = (): Plugin => ({
 *   name: "my-auth",
 *   register(c) { c.register(Tokens.AuthProvider, { useValue: myProvider }) },
 * });
 */

export { Duration } from "../config/duration.ts";
export type { HooklineConfig, WebhookConfig } from "../config/schema.ts";
export type { Audience, AudienceCheck } from "../contracts/audience.ts";
export type { AuthContext, AuthIntegration, AuthProvider, IntegrationState } from "../contracts/auth.ts";
export type {
  Catalogue,
  CatalogueChange,
  CatalogueSource,
  CompiledWebhook,
  IntegrationRuntime,
  SetWebhookOptions,
} from "../contracts/catalogue.ts";
export type { ConfigSection } from "../contracts/config-section.ts";
export type { ConsentCheck, ConsentQuestion } from "../contracts/consent.ts";
export type { ConsoleKit, ConsoleSection, ConsoleViewer } from "../contracts/console.ts";
export type {
  DeliveryObserver,
  HttpRoutes,
  ObserverContext,
  PluginMigrations,
  Service,
  StartupCheck,
} from "../contracts/extension.ts";
export type { FanOutSend, FanOutStarted, MembersQuery, SegmentMembers } from "../contracts/fan-out.ts";
export type { PluginHost, PublishOptions, PublishResult, Redaction } from "../contracts/host.ts";
export type { OutboundRequest, TlsIdentity } from "../contracts/http.ts";
export type {
  InboundAccepted,
  InboundAuthContext,
  InboundAuthKind,
  InboundRefused,
  InboundVerdict,
  InboundVerifier,
} from "../contracts/inbound-auth.ts";
export type { Logger, LogLevel } from "../contracts/logger.ts";
export type { Plugin } from "../contracts/plugin.ts";
export type { ProfileReader } from "../contracts/profiles.ts";
export type { CompiledTemplate, Renderer, TemplateContext } from "../contracts/renderer.ts";
export type { AttemptOutcome, RetryDecision, RetryPolicy } from "../contracts/retry.ts";
export type { Runtime, ServerHandle } from "../contracts/runtime.ts";
export type {
  AttemptRecord,
  DeliveryOutcome,
  OutcomeDelivery,
  SqlDriver,
  SqlExecutor,
} from "../contracts/store.ts";
export {
  type FaultClass,
  type Transport,
  TransportError,
  type TransportFactory,
  type TransportRequest,
  type TransportResponse,
} from "../contracts/transport.ts";
export type { TriggerContext, TriggerInstance, TriggerKind } from "../contracts/trigger.ts";
export { tracedEvent, validatedEvent } from "../engine/outbox.ts";
export { exponentialDelay, exponentialRetry, UNLIMITED_ATTEMPTS } from "../engine/retry.ts";
export { NotSent, type SendDeps, type SendOptions, sendThroughIntegrations } from "../engine/send.ts";
export {
  ConfigError,
  type DefinedErrorCode,
  defineErrorCodes,
  type ErrorCode,
  type ErrorCodeInfo,
  ErrorCodes,
  HooklineError,
  HttpError,
  type PluginErrorCode,
  StoreUnavailableError,
  TemplateError,
} from "../errors.ts";
export { jsonLiteral, xmlEscape } from "../escape.ts";
export { answer, refusal, storeUnavailable, unstorable, zodIssues } from "../http/receiver-answers.ts";
export { readJson, requestLogger } from "../http/respond.ts";
export {
  type AnswerDoc,
  type ContributedRouteDoc,
  documented,
  type RouteDoc,
} from "../http/route-docs.ts";
export { json, parseOr, query } from "../http/validate.ts";
export { withFields } from "../logger.ts";
export {
  applyMapping,
  checkExpression,
  formSource,
  jsonSource,
  type MappingIssue,
  MappingRule,
  type MappingSource,
  select,
} from "../mapping/index.ts";
export { Activity, ActivityStatus, activityKey } from "../model/activity.ts";
export { EventInput, type HooklineEvent } from "../model/event.ts";
export { JSON_LIMITS, unstorableJson, unstorableText } from "../model/json-limits.ts";
export { AddressGuard } from "../net/address-guard.ts";
export { timingSafeEqual } from "../security/constant-time.ts";
export { assertUnderEndpointPrefix } from "../security/endpoint-prefix.ts";
export { SecretBox } from "../security/secret-box.ts";
export { SingleFlightCache } from "../security/single-flight.ts";
export { Tokens } from "../tokens.ts";
export { CappedBody, type FetchFunction, faultFor, fetchTransport } from "../transport/fetch-transport.ts";
export { idleSleep } from "../util/sleep.ts";
