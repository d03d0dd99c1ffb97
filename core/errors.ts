import { type ErrorCode, type ErrorCodeInfo, ErrorCodes } from "./error-codes.ts";

export { type ErrorCode, type ErrorCodeInfo, ErrorCodes } from "./error-codes.ts";

declare const definedCode: unique symbol;
/** A code a plugin outside hookline made with `defineErrorCodes`: a string at run time. */
export type PluginErrorCode<C extends string = string> = C & { readonly [definedCode]: true };

/** One entry `defineErrorCodes` returns: the code with its status and meaning. */
export interface DefinedErrorCode<C extends string = string> extends ErrorCodeInfo {
  readonly code: PluginErrorCode<C>;
}

/**
 * What an error's constructor takes: a code of the catalogue, an entry a plugin defined, or the code
 * of an error already raised (to raise it again with more said).
 */
export type ErrorCodeLike = ErrorCode | DefinedErrorCode | PluginErrorCode;

const PLUGIN_CODE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$/;

/**
 * The codes of a plugin outside hookline, as typed as the core's: upper snake case under the
 * plugin's own prefix (`HOOKLINE_` is the core's, refused), each with its status and meaning as in
 * `ErrorCodes`. Pass an entry where a code goes; branch on its `code`, as with jose's `JWTExpired.code`.
 *
 * @example
 * export const AcmeErrors = defineErrorCodes({
 *   ACME_QUOTA: { status: 429, summary: "the Acme account is over its monthly quota" },
 * });
 * throw new HttpError(AcmeErrors.ACME_QUOTA, "account 7 is over its quota") // answers 429
 * if (e instanceof HooklineError && e.code === AcmeErrors.ACME_QUOTA.code) backOff()
 */
export function defineErrorCodes<const T extends Record<string, ErrorCodeInfo>>(
  codes: T & { [K in keyof T]: K extends `HOOKLINE_${string}` ? never : ErrorCodeInfo },
): { readonly [K in keyof T & string]: DefinedErrorCode<K> } {
  const out: Record<string, DefinedErrorCode> = {};
  for (const [code, { status, summary }] of Object.entries(codes)) {
    if (!PLUGIN_CODE.test(code) || code.startsWith("HOOKLINE_"))
      throw new TypeError(
        `error code ${code}: expected PREFIX_NAME in upper snake case, not under HOOKLINE_`,
      );
    if (!Number.isInteger(status) || status < 100 || status > 599)
      throw new TypeError(`error code ${code}: status ${status} is not an HTTP status`);
    out[code] = Object.freeze({ code: code as PluginErrorCode, status, summary });
  }
  return Object.freeze(out) as { readonly [K in keyof T & string]: DefinedErrorCode<K> };
}

const codeOf = (code: ErrorCodeLike): ErrorCode | PluginErrorCode =>
  typeof code === "string" ? code : code.code;
/** The catalogue's status for a code; a plugin's bare code (its entry not at hand) is 500. */
const statusOf = (code: ErrorCodeLike): number =>
  typeof code !== "string"
    ? code.status
    : Object.hasOwn(ErrorCodes, code)
      ? ErrorCodes[code as ErrorCode].status
      : 500;

/**
 * Every error hookline raises on purpose: a stable `code` from `ErrorCodes` (or a plugin's own, from
 * `defineErrorCodes`) a caller can branch on, a message that says what was expected and what came,
 * and the `cause` attached. A misspelt code fails the typecheck.
 *
 * @example
 * try { await app.publish(evt) } catch (e) { if (e instanceof HooklineError && e.code === "HOOKLINE_STORE_UNAVAILABLE") retryLater() }
 */
export class HooklineError extends Error {
  readonly code: ErrorCode | PluginErrorCode;
  constructor(code: ErrorCodeLike, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HooklineError";
    this.code = codeOf(code);
  }
}

/** One problem in a config file, located by file, line, column and key path. */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted key path, e.g. `webhooks.crm-sync.integration`. */
  path: string;
  message: string;
}

/** A config file that did not load: every issue found, each with its location. */
export class ConfigError extends HooklineError {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(
      "HOOKLINE_CONFIG",
      issues.map((i) => `${i.file}:${i.line}:${i.column} ${i.path || "(root)"}: ${i.message}`).join("\n"),
    );
    this.name = "ConfigError";
    this.issues = issues;
  }
}

/** The codes a `TemplateError` takes: `HOOKLINE_TEMPLATE` unless said otherwise. */
export type TemplateErrorCode = Extract<ErrorCode, `HOOKLINE_TEMPLATE${string}`>;

/** A template that could not compile or render. `line`/`column` are within the template, when known. */
export class TemplateError extends HooklineError {
  readonly line?: number;
  readonly column?: number;
  constructor(
    message: string,
    options?: { cause?: unknown; line?: number; column?: number; code?: TemplateErrorCode },
  ) {
    super(options?.code ?? "HOOKLINE_TEMPLATE", message, options);
    this.name = "TemplateError";
    this.line = options?.line;
    this.column = options?.column;
  }
}

/** The store could not be reached or refused a write; nothing was accepted. */
export class StoreUnavailableError extends HooklineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("HOOKLINE_STORE_UNAVAILABLE", message, options);
    this.name = "StoreUnavailableError";
  }
}

/** The codes the HTTP app's own routes throw: a view of `ErrorCodes`. */
export type HttpErrorCode =
  | Extract<ErrorCode, `HOOKLINE_HTTP_${string}`>
  | "HOOKLINE_STORE_UNAVAILABLE"
  | "HOOKLINE_INTERNAL";

/** Each of `HttpErrorCode` with its status, as `ErrorCodes` has it. */
export const HttpErrorCodes = Object.fromEntries(
  Object.entries(ErrorCodes)
    .filter(([code]) => /^HOOKLINE_(HTTP_|STORE_UNAVAILABLE$|INTERNAL$)/.test(code))
    .map(([code, { status }]) => [code, status]),
) as { readonly [K in HttpErrorCode]: (typeof ErrorCodes)[K]["status"] };

/**
 * An error that says its own answer: a handler throws it and the HTTP app's one error handler writes
 * `{ error, code, requestId, ...details }` with `status` — the catalogue's for the code unless
 * `options.status` says otherwise (a code whose status varies, as `HOOKLINE_MANAGED`). `details` are
 * merged into the answer (`issues`, `webhooks`, …), `headers` set on it.
 *
 * @example throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no delivery ${id}`)
 */
export class HttpError extends HooklineError {
  readonly status: number;
  readonly details?: Record<string, unknown>;
  readonly headers?: Record<string, string>;
  constructor(
    code: ErrorCodeLike,
    message: string,
    options?: {
      status?: number;
      details?: Record<string, unknown>;
      headers?: Record<string, string>;
      cause?: unknown;
    },
  ) {
    super(code, message, options);
    this.name = "HttpError";
    this.status = options?.status ?? statusOf(code);
    this.details = options?.details;
    this.headers = options?.headers;
  }
}

const OUTAGE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
  "CONNECT_TIMEOUT",
]);

/**
 * Whether an error means the store is out of reach (not that it refused the data): a
 * `StoreUnavailableError`, a socket fault, or a Postgres connection (08), resources (53) or
 * operator-intervention (57) SQLSTATE, anywhere in its `cause` chain.
 *
 * @example if (isStoreOutage(e)) return answer503()
 */
export function isStoreOutage(e: unknown): boolean {
  for (let x = e, depth = 0; x && typeof x === "object" && depth < 8; x = (x as Error).cause, depth++) {
    if (x instanceof StoreUnavailableError) return true;
    const code = (x as { code?: unknown }).code;
    if (typeof code !== "string") continue;
    if (OUTAGE_CODES.has(code) || /^(08|53|57)[0-9A-Z]{3}$/.test(code)) return true;
  }
  return false;
}
