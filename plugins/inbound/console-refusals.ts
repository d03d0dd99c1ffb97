import type { Logger, PluginHost, SqlExecutor } from "../../core/plugin/index.ts";
import type { EndpointRegistry } from "./registry.ts";
import { addRefusals, type RefusalTally, sweepRefusals } from "./repository.ts";

/** How long refusals are counted in memory before one statement adds them to the store. */
const FLUSH_MS = 5_000;
/** How often counts older than two days are deleted (by the process that writes some). */
const SWEEP_MS = 3_600_000;
/** Reason codes are the receivers' and the verifiers' own; a longer one is cut (it keys a row). */
const MAX_CODE = 100;

/**
 * Refusals of the inbound endpoints, counted by endpoint, reason (the answer's error code and status)
 * and minute: in memory, then added to `hookline_inbound_refusals` with one statement at most every
 * `FLUSH_MS` — a sender hammering with a wrong key costs one write per few seconds, not one per
 * request. The console flushes before it reads, so this process's latest count shows at once.
 *
 * @example refusalsOf(host.sql, host.logger).count("esputnik", "HOOKLINE_INBOUND_API_KEY", 401)
 */
export class RefusalCounts {
  private pending = new Map<string, RefusalTally>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private sweptAt = 0;

  constructor(
    private readonly sql: SqlExecutor,
    private readonly logger: Logger,
  ) {}

  /** Counts one refusal now. */
  count(endpoint: string, code: string, status: number): void {
    const minute = new Date(Math.floor(Date.now() / 60_000) * 60_000).toISOString();
    const key = `${endpoint}\u0000${code}\u0000${status}\u0000${minute}`;
    const known = this.pending.get(key);
    if (known) known.count++;
    else this.pending.set(key, { endpoint, code: code.slice(0, MAX_CODE), status, minute, count: 1 });
    if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_MS);
      // A count waiting to be written keeps no process alive.
      (this.timer as { unref?: () => void }).unref?.();
    }
  }

  /** Adds what was counted to the store; what could not be written is kept for the next flush. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await addRefusals(this.sql, [...batch.values()]);
      if (Date.now() - this.sweptAt > SWEEP_MS) {
        this.sweptAt = Date.now();
        await sweepRefusals(this.sql);
      }
    } catch (e) {
      for (const [key, t] of batch) {
        const known = this.pending.get(key);
        if (known) known.count += t.count;
        else this.pending.set(key, t);
      }
      this.logger.log("warn", "inbound.refusals_not_counted", { error: (e as Error).message });
    }
  }
}

const counts = new WeakMap<SqlExecutor, RefusalCounts>();

/**
 * The refusal counts of the processes' apps sharing a store connection (the receivers count into
 * it, the console flushes it).
 *
 * @example await refusalsOf(kit.host.sql, kit.host.logger).flush()
 */
export function refusalsOf(sql: SqlExecutor, logger: Logger): RefusalCounts {
  let c = counts.get(sql);
  if (!c) {
    c = new RefusalCounts(sql, logger);
    counts.set(sql, c);
  }
  return c;
}

/**
 * What the receivers' route calls with each answer of 400 and above: counts it under its endpoint
 * and the code of its `errors[0]` (`HTTP <status>` when it has none), read from a copy of the answer
 * after it went. A 404 (no endpoint at that path) is not counted: the path is the caller's, and would
 * make a row per path tried; nor is an answer of a path the store could not look up.
 *
 * @example const refused = countRefusals(host, registry); if (answer.status >= 400) refused(c.req.path, answer)
 */
export function countRefusals(
  host: PluginHost,
  registry: EndpointRegistry,
): (path: string, answer: Response) => void {
  const counts = refusalsOf(host.sql, host.logger);
  return (path, answer) => {
    const status = answer.status;
    if (status < 400 || status === 404) return;
    const copy = answer.clone();
    void (async () => {
      const at = path.slice("/in/".length);
      let endpoint = registry.configured(at);
      try {
        endpoint ??= await registry.find(at);
      } catch {
        // The store cannot say which endpoint this is (it answered 500): nothing to count it under.
      }
      if (!endpoint) return;
      let code = `HTTP ${status}`;
      try {
        const body = (await copy.json()) as { errors?: Array<{ code?: unknown }> };
        if (typeof body.errors?.[0]?.code === "string") code = body.errors[0].code;
      } catch {
        // Not a JSON refusal: counted by its status alone.
      }
      counts.count(endpoint.name, code, status);
    })();
  };
}
