import type { Logger, LogLevel } from "./contracts/logger.ts";
import type { Redactor } from "./security/redact.ts";

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/**
 * A JSON-lines logger that redacts known secrets from every line.
 *
 * @example const log = jsonLogger({ write: (l) => console.error(l), redactor, level: "info" });
 */
export function jsonLogger(options: {
  write: (line: string) => void;
  redactor?: Redactor;
  level?: LogLevel;
}): Logger {
  const min = order[options.level ?? "info"];
  return {
    log(level, message, fields) {
      if (order[level] < min) return;
      let line: string;
      try {
        line = JSON.stringify({ time: new Date().toISOString(), level, message, ...fields });
      } catch {
        line = JSON.stringify({ time: new Date().toISOString(), level, message });
      }
      options.write(options.redactor ? options.redactor.redact(line) : line);
    },
  };
}

/** A logger that keeps nothing (library use without logging). */
export const silentLogger: Logger = { log() {} };

/**
 * A logger that adds `bound` to every line it writes through `logger` (a request's id): the bound
 * fields win over a call's own, so that no line of the request can lose them.
 *
 * @example const log = withFields(app.logger, { requestId }); log.log("info", "http.request", { status: 200 });
 */
export function withFields(logger: Logger, bound: Record<string, unknown>): Logger {
  return {
    log: (level, message, fields) => logger.log(level, message, fields ? { ...fields, ...bound } : bound),
  };
}
