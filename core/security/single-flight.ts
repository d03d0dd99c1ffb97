import { TransportError } from "../contracts/transport.ts";

/** A cached credential and the moment it should be replaced (ms since the epoch). */
export interface Cached<T> {
  value: T;
  refreshAt: number;
}

/**
 * One credential shared by every request of an integration (an OAuth token, a Responsys login):
 * fetched on first use, replaced once `refreshAt` passes or when dropped, and fetched by one request
 * at a time however many callers wait (single-flight). Nothing runs in the background.
 *
 * @example
 * const cache = new SingleFlightCache(async () => ({ value: await fetchToken(), refreshAt: Date.now() + 3_300_000 }));
 * const token = await cache.get(signal);
 */
export class SingleFlightCache<T> {
  private current?: Cached<T> & { obtainedAt: number; replacesRefused: boolean };
  private pending?: Promise<Cached<T>>;
  private nextReplacesRefused = false;

  constructor(
    private readonly fetchFresh: () => Promise<Cached<T>>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The cached value while fresh, else the result of the one fetch in flight (started if none is). */
  async get(signal?: AbortSignal): Promise<T> {
    const c = this.current;
    if (c && this.now() < c.refreshAt) return c.value;
    if (!this.pending) {
      // The shared fetch is not tied to one caller's signal: another caller may still want it.
      const replacesRefused = this.nextReplacesRefused;
      this.nextReplacesRefused = false;
      const p = this.fetchFresh().then((fresh) => {
        this.current = { ...fresh, obtainedAt: this.now(), replacesRefused };
        return fresh;
      });
      this.pending = p;
      const settle = () => {
        if (this.pending === p) this.pending = undefined;
      };
      p.then(settle, settle);
    }
    return (await untilAborted(this.pending, signal)).value;
  }

  /** Drops the cached value if `refused` matches it (a caller saw exactly it refused); true if dropped. */
  drop(refused: (value: T) => boolean): boolean {
    if (!this.current || !refused(this.current.value)) return false;
    this.current = undefined;
    this.nextReplacesRefused = true;
    return true;
  }

  /**
   * The API refused the credential, without saying which: drop the cached one, unless its
   * replacement is already on the way or was fetched for an earlier refusal less than `graceMs`
   * ago. Requests refused together then share one replacement instead of each fetching its own,
   * and an API that refuses every token costs the token endpoint one request per `graceMs` at most.
   */
  refused(graceMs = 1_000): void {
    if (this.pending) return;
    const c = this.current;
    if (c?.replacesRefused && this.now() - c.obtainedAt < graceMs) return;
    this.current = undefined;
    this.nextReplacesRefused = true;
  }

  /** The cached value, fresh or not, without fetching. */
  peek(): T | undefined {
    return this.current?.value;
  }
}

/** Waits for `promise`, or rejects with a retryable fault once `signal` aborts. */
async function untilAborted<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) throw new TransportError("network", "aborted while waiting for a credential");
  let onAbort!: () => void;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new TransportError("network", "aborted while waiting for a credential"));
    signal.addEventListener("abort", onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}
