export { createHookline, Hookline, type HooklineOptions } from "./app.ts";
export { runCli } from "./cli.ts";
export { configJsonSchema } from "./config/json-schema.ts";
export { type ConfigRegistry, loadConfig } from "./config/load.ts";
export type { HooklineConfig, WebhookConfig } from "./config/schema.ts";
export type { AuthContext, AuthIntegration, AuthProvider } from "./contracts/auth.ts";
export type { ConfigSection } from "./contracts/config-section.ts";
export type { OutboundRequest, TlsIdentity } from "./contracts/http.ts";
export type { Logger, LogLevel } from "./contracts/logger.ts";
export type { Plugin } from "./contracts/plugin.ts";
export type { CompiledTemplate, Renderer, TemplateContext } from "./contracts/renderer.ts";
export type { AttemptOutcome, RetryDecision, RetryPolicy } from "./contracts/retry.ts";
export type { Runtime, ServerHandle } from "./contracts/runtime.ts";
export type {
  AttemptRecord,
  Delivery,
  DeliveryFilter,
  SqlDriver,
  SqlExecutor,
  Store,
} from "./contracts/store.ts";
export {
  type FaultClass,
  type Transport,
  TransportError,
  type TransportFactory,
  type TransportRequest,
  type TransportResponse,
} from "./contracts/transport.ts";
export type { TriggerContext, TriggerInstance, TriggerKind } from "./contracts/trigger.ts";
export { HALT_STATUSES, parseRetryAfter, retryContract } from "./engine/retry.ts";
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
} from "./errors.ts";
export { jsonLogger, silentLogger } from "./logger.ts";
export { EventInput, type HooklineEvent } from "./model/event.ts";
export { AddressGuard } from "./net/address-guard.ts";
export { isUnderEndpointPrefix } from "./security/endpoint-prefix.ts";
export { Redactor } from "./security/redact.ts";
export { SqlStore } from "./store/sql-store.ts";
export { Tokens } from "./tokens.ts";
