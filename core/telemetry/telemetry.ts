import {
  type Attributes,
  type Histogram,
  isSpanContextValid,
  type MeterProvider,
  metrics,
  type ObservableGauge,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import type { ClaimedDelivery, DeliveryResult, EndedDelivery } from "../contracts/delivery.ts";
import { formatTraceparent, parseTraceparent, randomSpanId, traceparentOf } from "./traceparent.ts";

// The OpenTelemetry API is a no-op until an SDK is registered (globally, or the MeterProvider given
// here): instruments cost a function call, spans are non-recording. The edge worker never imports
// this module (it sends nothing); the outbox keeps traceparents with traceparent.ts alone.

/** What the store's gauges read at scrape time (core/store/gauges.ts). */
export interface GaugeReading {
  /** Per webhook: deliveries due now, scheduled later, waiting behind a stream's head, paused, in flight. */
  queue: ReadonlyArray<{
    webhook: string;
    due: number;
    scheduled: number;
    waiting: number;
    paused: number;
    inFlight: number;
    /** Seconds since the oldest due delivery fell due (0 when none is due). */
    oldestDueAge: number;
  }>;
  policies: ReadonlyArray<{ policy: string; inUse: number; limit: number }>;
  /** Webhooks paused after failing continuously. */
  paused: ReadonlySet<string>;
  /** Every webhook the catalogue knows. */
  webhooks: readonly string[];
}

/** An attempt's span, and the traceparent its request carries. */
export interface AttemptTrace {
  /** The `traceparent` header to send: the delivery's trace, this attempt's span id. */
  readonly traceparent: string;
  /** Ends the span with the attempt's outcome. */
  end(result: Pick<DeliveryResult, "attempt" | "next">): void;
}

const NAME = "hookline";
/** Label sets one counter keeps at most (the metrics SDK itself stops at 2,000 per instrument). */
const MAX_SERIES = 1_000;
const OTHER = "(other)";

/**
 * A counter kept in a Map and reported when a reader collects (an observable counter): a delivery
 * costs a string key and a Map update (~0.1 µs), not the SDK's attribute hashing per `add` (~1 µs).
 * Label sets are few (webhooks × outcomes), so the Map stays small.
 */
class Tally {
  private readonly counts = new Map<string, { attributes: Attributes; n: number }>();

  constructor(
    meterProvider: MeterProvider,
    name: string,
    description: string,
    private readonly labels: readonly [string] | readonly [string, string],
  ) {
    meterProvider
      .getMeter(NAME)
      .createObservableCounter(name, { description })
      .addCallback((result) => {
        for (const { attributes, n } of this.counts.values()) result.observe(n, attributes);
      });
  }

  /**
   * Counts one for the label values given, in the order of `labels`. Past `MAX_SERIES` label sets
   * (a value that is not the operator's: a sender's path), new ones count as `(other)`.
   */
  add(a: string, b = ""): void {
    const key = `${a}\u0000${b}`;
    const count = this.counts.get(key);
    if (count) count.n++;
    else if (this.counts.size >= MAX_SERIES && a !== OTHER) this.add(OTHER, b);
    else {
      const [first, second] = this.labels;
      this.counts.set(key, { attributes: second ? { [first]: a, [second]: b } : { [first]: a }, n: 1 });
    }
  }
}

/** `2xx` … `5xx` for an HTTP answer, else why none came (`timeout`, `connection_refused`, `render` …). */
export const statusClass = (attempt: DeliveryResult["attempt"]): string =>
  attempt.status !== undefined ? `${Math.floor(attempt.status / 100)}xx` : (attempt.errorClass ?? "unknown");

/** The outcome label of a result: what became of the delivery after this attempt. */
export function outcomeOf(r: Pick<DeliveryResult, "attempt" | "next">): string {
  switch (r.next.status) {
    case "succeeded":
      return "succeeded";
    case "pending":
      return "retrying";
    default:
      // Ended without a request going out: its run was halted here, its webhook is gone, or no consent.
      return r.attempt.request.url === "" ? "skipped" : r.next.status;
  }
}

/**
 * hookline's metrics and traces over the OpenTelemetry API: counters and a histogram the engine
 * records into, gauges read from the store when a reader collects, and a span per attempt whose
 * context goes out as the request's `traceparent`.
 *
 * @example
 * const telemetry = new Telemetry({ meterProvider });
 * const span = telemetry.startAttempt(delivery); // send span.traceparent, then span.end(result)
 */
export class Telemetry {
  private readonly tracer: Tracer;
  private readonly deliveries: Tally;
  private readonly attempts: Tally;
  private readonly latency: Histogram;
  private readonly inbound: Tally;
  private readonly storeErrors: Tally;
  private readonly meterProvider: MeterProvider;

  constructor(options: { meterProvider?: MeterProvider } = {}) {
    // The global tracer is a proxy: an SDK registered later (after the app was made) still records.
    this.tracer = trace.getTracer(NAME);
    this.meterProvider = options.meterProvider ?? metrics.getMeterProvider();
    const meter = this.meterProvider.getMeter(NAME);
    this.deliveries = new Tally(
      this.meterProvider,
      "hookline.deliveries",
      "Deliveries by webhook and outcome after an attempt: succeeded, retrying, failed, halted, skipped (ended unsent: its run halted, its webhook gone, or no consent), aborted (ended with its run)",
      ["webhook", "outcome"],
    );
    this.attempts = new Tally(
      this.meterProvider,
      "hookline.attempts",
      "Attempts by webhook and status class (2xx … 5xx, or the fault: timeout, connection_refused …)",
      ["webhook", "status_class"],
    );
    // The unit is in the name: the Prometheus serializer writes an OTel unit as a `# UNIT` line only.
    this.latency = meter.createHistogram("hookline.attempt.duration.seconds", {
      description: "Attempt duration in seconds, rendering and authorizing included, by webhook",
      advice: { explicitBucketBoundaries: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] },
    });
    this.inbound = new Tally(
      this.meterProvider,
      "hookline.inbound.requests",
      "Requests to inbound endpoints (/in/*) by endpoint and HTTP status answered",
      ["endpoint", "status"],
    );
    this.storeErrors = new Tally(
      this.meterProvider,
      "hookline.store.errors",
      "Store operations that failed, by operation (claim, record, reclaim, gauges, consent)",
      ["operation"],
    );
  }

  /**
   * Reads the store's gauges whenever a reader collects (a Prometheus scrape): backlog per webhook,
   * policy slots, open and paused webhooks. `read` should be cheap and cached (see core/store/gauges.ts);
   * a failure leaves the gauges out of that collection and counts a store error.
   */
  observeGauges(read: () => Promise<GaugeReading>): void {
    const meter = this.meterProvider.getMeter(NAME);
    const gauge = (name: string, description: string): ObservableGauge =>
      meter.createObservableGauge(name, { description });
    const due = gauge("hookline.backlog.due", "Deliveries due now, not yet claimed, by webhook");
    const scheduled = gauge(
      "hookline.backlog.scheduled",
      "Deliveries due later (retries, lingering batches), by webhook",
    );
    const waiting = gauge(
      "hookline.backlog.waiting",
      "Deliveries waiting behind their ordered stream's head, by webhook",
    );
    const held = gauge(
      "hookline.backlog.paused",
      "Deliveries set aside while their webhook is paused, by webhook",
    );
    const inFlight = gauge("hookline.backlog.in_flight", "Deliveries leased to a worker, by webhook");
    const age = gauge(
      "hookline.backlog.oldest_due_age.seconds",
      "Seconds since the oldest due delivery fell due, by webhook",
    );
    const slots = gauge("hookline.policy.slots.in_use", "Throughput policy slots held, by policy");
    const limit = gauge("hookline.policy.slots.limit", "Throughput policy concurrency limit, by policy");
    const webhooks = gauge("hookline.webhooks", "Webhooks by state (open, paused)");
    const paused = gauge(
      "hookline.webhook.paused",
      "1 for a webhook paused after failing continuously, by webhook",
    );
    meter.addBatchObservableCallback(
      async (result) => {
        let g: GaugeReading;
        try {
          g = await read();
        } catch {
          this.storeError("gauges");
          return;
        }
        // Every webhook is observed, an empty queue as zeros: the SDK keeps reporting a series' last
        // value until it is observed again, so a queue that emptied would otherwise stay full.
        const queues = new Map(g.queue.map((q) => [q.webhook, q]));
        for (const w of g.webhooks)
          if (!queues.has(w))
            queues.set(w, {
              webhook: w,
              due: 0,
              scheduled: 0,
              waiting: 0,
              paused: 0,
              inFlight: 0,
              oldestDueAge: 0,
            });
        for (const q of queues.values()) {
          const a = { webhook: q.webhook };
          result.observe(due, q.due, a);
          result.observe(scheduled, q.scheduled, a);
          result.observe(waiting, q.waiting, a);
          result.observe(held, q.paused, a);
          result.observe(inFlight, q.inFlight, a);
          result.observe(age, q.oldestDueAge, a);
        }
        for (const p of g.policies) {
          result.observe(slots, p.inUse, { policy: p.policy });
          result.observe(limit, p.limit, { policy: p.policy });
        }
        let open = 0;
        for (const w of g.webhooks) {
          const isPaused = g.paused.has(w);
          if (!isPaused) open++;
          result.observe(paused, isPaused ? 1 : 0, { webhook: w });
        }
        result.observe(webhooks, open, { state: "open" });
        result.observe(webhooks, g.webhooks.length - open, { state: "paused" });
      },
      [due, scheduled, waiting, held, inFlight, age, slots, limit, webhooks, paused],
    );
  }

  /**
   * Starts an attempt's span, a child of the delivery's `traceparent` (a new trace without one), and
   * gives the `traceparent` its request carries: the span's context when an SDK records it, else the
   * delivery's trace with a new span id, so the destination sees the caller's trace either way.
   */
  startAttempt(delivery: Pick<ClaimedDelivery, "id" | "webhook" | "attempts" | "traceparent">): AttemptTrace {
    const parent = parseTraceparent(delivery.traceparent);
    const context = parent
      ? trace.setSpanContext(ROOT_CONTEXT, {
          traceId: parent.traceId,
          spanId: parent.spanId,
          traceFlags: Number.parseInt(parent.flags, 16),
          isRemote: true,
        })
      : ROOT_CONTEXT;
    const span = this.tracer.startSpan(
      `deliver ${delivery.webhook}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          "hookline.webhook": delivery.webhook,
          "hookline.delivery.id": delivery.id,
          "hookline.attempt": delivery.attempts,
        },
      },
      context,
    );
    const own = span.spanContext();
    const traceparent =
      isSpanContextValid(own) && own.spanId !== parent?.spanId
        ? formatTraceparent({
            traceId: own.traceId,
            spanId: own.spanId,
            flags: own.traceFlags.toString(16).padStart(2, "0"),
          })
        : parent
          ? formatTraceparent({ ...parent, spanId: randomSpanId() })
          : traceparentOf(undefined);
    return { traceparent, end: (result) => endSpan(span, result) };
  }

  /** Counts what attempts came to (the worker calls it with each attempt's results, single or batch). */
  attempted(results: readonly DeliveryResult[]): void {
    for (const r of results) {
      this.deliveries.add(r.webhook, outcomeOf(r));
      if (r.attempt.request.url === "") continue;
      this.attempts.add(r.webhook, statusClass(r.attempt));
      this.latency.record(r.attempt.durationMs / 1000, { webhook: r.webhook });
    }
  }

  /** Counts deliveries ended unsent with their run (aborted, or halted after a sibling's halt). */
  ended(deliveries: readonly EndedDelivery[]): void {
    for (const d of deliveries) this.deliveries.add(d.webhook, d.status);
  }

  /** Counts an inbound request's answer. `endpoint` must be a configured endpoint's path, never raw input. */
  inboundAnswered(endpoint: string, status: number): void {
    this.inbound.add(endpoint, String(status));
  }

  /** Counts a store operation that failed. */
  storeError(operation: string): void {
    this.storeErrors.add(operation);
  }
}

function endSpan(span: Span, r: Pick<DeliveryResult, "attempt" | "next">): void {
  if (span.isRecording()) {
    if (r.attempt.status !== undefined) span.setAttribute("http.response.status_code", r.attempt.status);
    if (r.attempt.request.method) span.setAttribute("http.request.method", r.attempt.request.method);
    if (r.attempt.errorClass) span.setAttribute("error.type", r.attempt.errorClass);
    span.setAttribute("hookline.outcome", outcomeOf(r));
    if (r.next.status !== "succeeded")
      span.setStatus({ code: SpanStatusCode.ERROR, message: "reason" in r.next ? r.next.reason : undefined });
  }
  span.end();
}
