export type LogLevel = "debug" | "info" | "warn" | "error";

/** Structured logger. Implementations redact known secrets before writing. */
export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}
