/**
 * Every error hookline raises on purpose: a stable `code` a caller can branch on, a message that says
 * what was expected and what came, and the `cause` attached.
 *
 * @example
 * try { await app.publish(evt) } catch (e) { if (e instanceof HooklineError && e.code === "HOOKLINE_STORE_UNAVAILABLE") retryLater() }
 */
export class HooklineError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "HooklineError";
    this.code = code;
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

/** A template that could not compile or render. `line`/`column` are within the template, when known. */
export class TemplateError extends HooklineError {
  readonly line?: number;
  readonly column?: number;
  constructor(message: string, options?: { cause?: unknown; line?: number; column?: number; code?: string }) {
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

/**
 * The refusals the HTTP app answers on purpose, each with its status: a handler throws `HttpError`
 * with one of these codes and the app's one error handler writes the answer
 * (`{ error, code, requestId, ...details }`).
 */
export const HttpErrorCodes = {
  /** The body is not JSON, nests too deep, or holds a character the store cannot keep. */
  HOOKLINE_HTTP_BODY: 400,
  /** A path or query parameter does not parse. */
  HOOKLINE_HTTP_PARAM: 400,
  /** The body parsed but does not fit the route's schema (`issues` name the fields). */
  HOOKLINE_HTTP_INVALID: 400,
  /** The route does not apply to this thing (an integration with no test request or no interactive grant). */
  HOOKLINE_HTTP_NOT_APPLICABLE: 400,
  /** Missing or wrong admin bearer token. */
  HOOKLINE_HTTP_UNAUTHORIZED: 401,
  HOOKLINE_HTTP_NOT_FOUND: 404,
  /** The thing exists but is in a state that does not allow it (or is owned by the config file). */
  HOOKLINE_HTTP_CONFLICT: 409,
  HOOKLINE_HTTP_TOO_LARGE: 413,
  HOOKLINE_HTTP_CONTENT_TYPE: 415,
  /** Well-formed, but it cannot be done (a webhook that does not render, a URL that does not answer). */
  HOOKLINE_HTTP_UNPROCESSABLE: 422,
  /** The store could not be reached; nothing was accepted. */
  HOOKLINE_STORE_UNAVAILABLE: 503,
  /** Anything not thrown on purpose: logged with the request id. */
  HOOKLINE_INTERNAL: 500,
} as const;
export type HttpErrorCode = keyof typeof HttpErrorCodes;

/**
 * A refusal an HTTP handler throws; its status comes from `HttpErrorCodes`. `details` are merged
 * into the answer (`issues`, `webhooks`, …), `headers` set on it.
 *
 * @example throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no delivery ${id}`)
 */
export class HttpError extends HooklineError {
  readonly status: number;
  readonly details?: Record<string, unknown>;
  readonly headers?: Record<string, string>;
  constructor(
    code: HttpErrorCode,
    message: string,
    options?: { details?: Record<string, unknown>; headers?: Record<string, string>; cause?: unknown },
  ) {
    super(code, message, options);
    this.name = "HttpError";
    this.status = HttpErrorCodes[code];
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
