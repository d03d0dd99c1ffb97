import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus";
import { MeterProvider } from "@opentelemetry/sdk-metrics";

// @opentelemetry/exporter-prometheus is a pull MetricReader: with `preventServerStart` it opens no
// port of its own, and its serializer writes the text format hono answers with (on Node, Bun and Deno
// alike). Instruments keep their OpenTelemetry names; the serializer turns `hookline.deliveries`
// into `hookline_deliveries_total` and a unit of `s` into a `_seconds` suffix.

/**
 * A meter provider of this app's own whose metrics `GET /metrics` serves in Prometheus text format.
 * It holds no timer and no socket (nothing is pushed), so nothing shuts it down: an app stopped can
 * still be scraped once more (its last counts).
 *
 * @example const prom = new PrometheusMetrics(); new Telemetry({ meterProvider: prom.meterProvider }); await prom.scrape();
 */
export class PrometheusMetrics {
  readonly meterProvider: MeterProvider;
  private readonly reader = new PrometheusExporter({ preventServerStart: true });
  // No target_info or otel_scope_info series: one process, one scope, nothing to join on.
  private readonly serializer = new PrometheusSerializer(undefined, false, undefined, true, true);

  constructor() {
    this.meterProvider = new MeterProvider({ readers: [this.reader] });
  }

  /** Collects every instrument (the gauges' store reads included) and writes the text format. */
  async scrape(): Promise<string> {
    const { resourceMetrics } = await this.reader.collect();
    return this.serializer.serialize(resourceMetrics);
  }
}

/**
 * `read`, kept for `ttlMs` after it resolved, and shared by callers while it runs: scrapes from
 * several Prometheus servers (or a burst of them) cost the store one read per `ttlMs`. A failure is
 * not kept.
 *
 * @example const gauges = cached(() => readGauges(store.sql), 5_000);
 */
export function cached<T>(read: () => Promise<T>, ttlMs: number): () => Promise<T> {
  let value: Promise<T> | undefined;
  let until = 0;
  return () => {
    if (value && performance.now() < until) return value;
    until = Number.POSITIVE_INFINITY;
    const made = read().then(
      (v) => {
        until = performance.now() + ttlMs;
        return v;
      },
      (e: unknown) => {
        if (value === made) value = undefined;
        until = 0;
        throw e;
      },
    );
    value = made;
    return made;
  };
}
