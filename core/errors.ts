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
