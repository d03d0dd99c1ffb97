import { AsyncLocalStorage } from "node:async_hooks";
import type { SqlDriver, SqlExecutor } from "../core/contracts/store.ts";
import { HooklineError } from "../core/errors.ts";

/** One request's connections: opened on its first query, closed once its work has settled. */
interface Scope {
  open: () => SqlDriver;
  drivers: SqlDriver[];
  current?: Promise<SqlDriver>;
  inFlight: number;
  /** Its connections are closed: later queries (rare, late chained work) get one-shot connections. */
  closed: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * At most `max` connections open at once in this isolate. A request waiting for a slot keeps a timer
 * of its own running: workerd cancels, as hung, a request that only waits on another's work.
 */
class Slots {
  private used = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly max: number) {}

  async acquire(): Promise<void> {
    if (this.used < this.max) {
      this.used++;
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = () => {
      timer = setTimeout(tick, 25);
    };
    tick();
    try {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } finally {
      clearTimeout(timer);
    }
  }

  release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter; only without one does the count drop.
    if (next) next();
    else this.used--;
  }
}

/**
 * A store connection per request, as workerd requires: a socket opened while serving one request
 * cannot be used while serving another ("Cannot perform I/O on behalf of a different request"), so
 * the app (built once per isolate) holds this driver, and each query runs on a connection of the
 * request whose work it is (AsyncLocalStorage, from `nodejs_compat`). With Hyperdrive a connection
 * per request is cheap: Hyperdrive pools the real ones.
 *
 * Work may outlive the answer (a query chained on one that finished as the response went out), so a
 * finished request closes its connections only once none of its queries has run for a moment, and a
 * later one gets a connection of its own.
 *
 * @example
 * const sql = new RequestScopedSql();
 * const driver = sql.driver; // register as the app's SqlDriver
 * return sql.run(() => postgresDriver({ url, max: 1 }), () => app.http.fetch(request), ctx.waitUntil.bind(ctx));
 */
export class RequestScopedSql {
  private readonly als = new AsyncLocalStorage<Scope>();
  readonly driver: SqlDriver;
  private readonly slots: Slots;

  /** `maxConnections`: open at once in this isolate (default unlimited: Hyperdrive pools behind it). */
  constructor(options: { name?: string; maxConnections?: number } = {}) {
    const name = options.name ?? "postgres";
    this.slots = new Slots(options.maxConnections ?? Number.POSITIVE_INFINITY);
    const use = async <T>(work: (d: SqlDriver) => Promise<T>): Promise<T> => {
      const scope = this.als.getStore();
      if (!scope)
        throw new HooklineError(
          "HOOKLINE_EDGE_NO_REQUEST",
          "workerd: a store query ran outside a request; every query must run inside RequestScopedSql.run",
        );
      if (scope.closed) {
        await this.slots.acquire();
        const once = scope.open();
        try {
          return await work(once);
        } finally {
          void once
            .close()
            .catch(() => undefined)
            .finally(() => this.slots.release());
        }
      }
      scope.inFlight++;
      try {
        scope.current ??= this.slots.acquire().then(() => {
          try {
            const d = scope.open();
            scope.drivers.push(d);
            return d;
          } catch (e) {
            this.slots.release();
            throw e;
          }
        });
        return await work(await scope.current);
      } finally {
        scope.inFlight--;
      }
    };
    this.driver = {
      name,
      query: (text, params) => use((d) => d.query(text, params)),
      exec: (text) => use((d) => d.exec(text)),
      transaction: <T>(fn: (tx: SqlExecutor) => Promise<T>) => use((d) => d.transaction(fn)),
      relaxed: <T>(fn: (tx: SqlExecutor) => Promise<T>) => use((d) => d.relaxed(fn)),
      // Connections belong to requests and close with them.
      close: async () => undefined,
    };
  }

  /**
   * Runs one request's work with its own connections, opened by `open` on first use; hands their
   * closing to `waitUntil` so that the response is not held up by it.
   */
  async run<T>(
    open: () => SqlDriver,
    work: () => Promise<T>,
    waitUntil: (p: Promise<unknown>) => void,
  ): Promise<T> {
    const scope: Scope = { open, drivers: [], inFlight: 0, closed: false };
    try {
      return await this.als.run(scope, work);
    } finally {
      if (scope.current) waitUntil(this.drain(scope));
    }
  }

  private async drain(scope: Scope): Promise<void> {
    // A query chained on one that just finished starts a microtask or a timer tick later: wait for a
    // quiet moment, not merely for the count to touch zero.
    for (let quiet = 0; quiet < 2; ) {
      await sleep(scope.inFlight > 0 ? 5 : 1);
      quiet = scope.inFlight > 0 ? 0 : quiet + 1;
    }
    scope.closed = true;
    const opened = await scope.current?.catch(() => undefined);
    scope.current = undefined;
    await Promise.allSettled(scope.drivers.splice(0).map((d) => d.close()));
    if (opened) this.slots.release();
  }
}
