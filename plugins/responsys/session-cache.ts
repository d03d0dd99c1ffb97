import { TransportError } from "../../core/contracts/transport.ts";

/**
 * One login shared by every request of an integration: made on first use, made again once
 * `renewAt` passes or when dropped, and made by one caller at a time however many wait
 * (single-flight). Nothing runs in the background.
 *
 * @example
 * const cache = new SessionCache(async () => ({ value: await login(), renewAt: Date.now() + 6_600_000 }));
 * const session = await cache.get(signal);
 */
export class SessionCache<T> {
  private current?: { value: T; renewAt: number; obtainedAt: number; replacesRefused: boolean };
  private pending?: Promise<{ value: T; renewAt: number }>;
  private nextReplacesRefused = false;

  constructor(private readonly fetchFresh: () => Promise<{ value: T; renewAt: number }>) {}

  /** The session while fresh, else the result of the one login in flight (started if none is). */
  async get(signal?: AbortSignal): Promise<T> {
    if (this.current && Date.now() < this.current.renewAt) return this.current.value;
    if (!this.pending) {
      // The shared login is not tied to one caller's signal: another caller may still want it.
      const replacesRefused = this.nextReplacesRefused;
      this.nextReplacesRefused = false;
      const p = this.fetchFresh().then((fresh) => {
        this.current = { ...fresh, obtainedAt: Date.now(), replacesRefused };
        return fresh;
      });
      this.pending = p;
      const settle = () => {
        if (this.pending === p) this.pending = undefined;
      };
      p.then(settle, settle);
    }
    if (!signal) return (await this.pending).value;
    if (signal.aborted) throw new TransportError("network", "aborted while waiting for a login");
    let onAbort!: () => void;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new TransportError("network", "aborted while waiting for a login"));
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return (await Promise.race([this.pending, aborted])).value;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Drops the session if `refused` matches it (a caller saw exactly it refused); true if dropped. */
  drop(refused: (value: T) => boolean): boolean {
    if (!this.current || !refused(this.current.value)) return false;
    this.current = undefined;
    this.nextReplacesRefused = true;
    return true;
  }

  /**
   * The API refused the session, without saying which: drop the cached one, unless a new login is
   * already on the way or was made for an earlier refusal less than `graceMs` ago, so that requests
   * refused together share one new login (and an API that refuses everything costs one login per
   * `graceMs` at most).
   */
  refused(graceMs = 1_000): void {
    if (this.pending) return;
    const c = this.current;
    if (c?.replacesRefused && Date.now() - c.obtainedAt < graceMs) return;
    this.current = undefined;
    this.nextReplacesRefused = true;
  }
}
