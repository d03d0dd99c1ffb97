// The work every leg does per delivery, written once: an event (a customer and a few items), rendered
// into the ~500 B JSON body hookline's template makes, POSTed with Basic auth over a keep-alive undici
// agent to the sink; and the claim → send → record loop the bench's own durable legs share.
import { Agent, request } from "undici/index.js";

export const IN_FLIGHT = 100;
export const ENQUEUE_CHUNK = 1000;
export const AUTHORIZATION = `Basic ${Buffer.from("bob:secret").toString("base64")}`;

const ITEMS = Array.from({ length: 6 }, (_, i) => ({ sku: `SKU-${1000 + i}`, qty: i + 1, price: 19.99 }));

export interface BenchEvent {
  id: string;
  timestamp: string;
  customer: { id: string; email: string; first: string; last: string; country: string };
  data: { source: string; items: typeof ITEMS };
}

/** Event `i` of a run, as the peers' jobs carry it (hookline gets the same fields through `publish`). */
export const benchEvent = (i: number, run: string): BenchEvent => ({
  id: `${run}-${i}`,
  timestamp: new Date().toISOString(),
  customer: { id: `c-${i}`, email: `user${i}@example.com`, first: "Ada", last: "Lovelace", country: "GB" },
  data: { source: "landing-page", items: ITEMS },
});

/** Events `from` … `from + n - 1`. */
export const benchEvents = (from: number, n: number, run: string): BenchEvent[] =>
  Array.from({ length: n }, (_, j) => benchEvent(from + j, run));

/** The body hookline's bench template renders for an event. */
export const renderBody = (e: BenchEvent): string =>
  JSON.stringify({
    email: e.customer.email,
    first: e.customer.first,
    last: e.customer.last,
    list: "newsletter",
    source: e.data.source,
    country: e.customer.country,
    event: e.id,
    at: e.timestamp,
    items: e.data.items,
  });

export interface SendResult {
  status: number;
  ms: number;
}

/** A keep-alive client for the sink: `send(event)` renders and POSTs one delivery. */
export function sinkClient(url: string): {
  send(e: BenchEvent): Promise<SendResult>;
  close(): Promise<void>;
} {
  const agent = new Agent({ connections: IN_FLIGHT, pipelining: 1 });
  const target = `${url}/hooks/contacts`;
  return {
    async send(e) {
      const t0 = performance.now();
      const r = await request(target, {
        method: "POST",
        body: renderBody(e),
        headers: { "content-type": "application/json", authorization: AUTHORIZATION },
        dispatcher: agent,
      });
      await r.body.text();
      return { status: r.statusCode, ms: performance.now() - t0 };
    },
    close: () => agent.close(),
  };
}

export interface LoopOptions<J, R> {
  /** Leases up to `n` due jobs. */
  claim(n: number): Promise<J[]>;
  /** Does one job's work; never throws (a failure is a result). */
  work(job: J): Promise<R>;
  /** Records results in one write. */
  record(results: R[]): Promise<void>;
  pollMs?: number;
  lingerMs?: number;
}

/**
 * Claim → work → record with the same shape as hookline's worker, so that the legs differ in their
 * SQL, not their loop: claim when half the slots are free, keep IN_FLIGHT jobs going, record results
 * in one statement once half the slots' worth has gathered or after a 10 ms linger (group commit),
 * wake at once on an enqueue by this process, poll every 20 ms when idle.
 */
export class ClaimLoop<J, R> {
  recorded = 0;
  private running = false;
  private inFlight = 0;
  private results: R[] = [];
  private flushing?: Promise<void>;
  private linger?: ReturnType<typeof setTimeout>;
  private nudge?: () => void;
  private loop?: Promise<void>;
  private waiters: Array<{ target: number; resolve: () => void }> = [];

  constructor(private readonly o: LoopOptions<J, R>) {}

  start(): void {
    this.running = true;
    this.loop = this.claimLoop();
  }

  wake(): void {
    this.nudge?.();
  }

  /** Resolves once `target` results have been recorded in all. */
  recordedAtLeast(target: number): Promise<void> {
    if (this.recorded >= target) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ target, resolve }));
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    while (this.inFlight > 0 || this.results.length > 0 || this.flushing) {
      this.flushSoon(true);
      await (this.flushing ?? new Promise((r) => setTimeout(r, 5)));
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        if (this.nudge === done) this.nudge = undefined;
        resolve();
      };
      const t = setTimeout(done, ms);
      this.nudge = done;
    });
  }

  private async claimLoop(): Promise<void> {
    while (this.running) {
      const free = IN_FLIGHT - this.inFlight;
      if (free <= 0 || (free < IN_FLIGHT / 2 && this.inFlight > 0)) {
        await this.idle(this.o.pollMs ?? 20);
        continue;
      }
      const jobs = await this.o.claim(free);
      for (const j of jobs) this.dispatch(j);
      if (jobs.length === 0) await this.idle(this.o.pollMs ?? 20);
    }
  }

  private dispatch(job: J): void {
    this.inFlight++;
    this.o.work(job).then((r) => {
      this.inFlight--;
      this.results.push(r);
      this.flushSoon();
      this.wake();
    });
  }

  private flushSoon(now = false): void {
    if (this.flushing || this.results.length === 0) return;
    if (!now && this.results.length < IN_FLIGHT / 2) {
      this.linger ??= setTimeout(() => {
        this.linger = undefined;
        this.flushSoon(true);
      }, this.o.lingerMs ?? 10);
      return;
    }
    if (this.linger) clearTimeout(this.linger);
    this.linger = undefined;
    const batch = this.results.splice(0, this.results.length);
    this.flushing = this.o.record(batch).then(() => {
      this.flushing = undefined;
      this.recorded += batch.length;
      for (const w of this.waiters.filter((w) => this.recorded >= w.target)) w.resolve();
      this.waiters = this.waiters.filter((w) => this.recorded < w.target);
      this.flushSoon();
    });
  }
}
