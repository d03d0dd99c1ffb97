// What metrics and traces cost one delivery in this process, apart from the machine's noise: the
// engine's telemetry calls for one attempt (its span started and ended, its outcome counted, its
// latency recorded) timed in a loop, with an SDK (the app's Prometheus meter and a trace SDK batching
// to an exporter that drops) and without (the OpenTelemetry API's no-ops).
import { trace } from "@opentelemetry/api";
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import type { DeliveryResult } from "../../core/contracts/delivery.ts";
import { PrometheusMetrics } from "../../core/telemetry/prometheus.ts";
import { Telemetry } from "../../core/telemetry/telemetry.ts";

const result = (i: number): DeliveryResult => ({
  deliveryId: `d-${i}`,
  leaseOwner: "w",
  webhook: "contact",
  runId: "run",
  next: { status: "succeeded" },
  attempt: {
    deliveryId: `d-${i}`,
    number: 1,
    startedAt: "",
    durationMs: 3.2,
    request: { method: "POST", url: "http://127.0.0.1/hooks/contacts", headers: {} },
    status: 200,
    outcome: "succeeded",
  },
});

function perDelivery(telemetry: Telemetry, n: number): number {
  const traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const r = result(i);
    const span = telemetry.startAttempt({ id: r.deliveryId, webhook: "contact", attempts: 1, traceparent });
    span.end(r);
    telemetry.attempted([r]);
  }
  return ((performance.now() - t0) * 1000) / n;
}

/** µs per delivery of the telemetry calls: with an SDK registered and metrics on, and without. */
export async function otelCost(n = 50_000): Promise<{ on: number; off: number }> {
  const off = new Telemetry({ meterProvider: undefined });
  perDelivery(off, n / 10);
  const offUs = perDelivery(off, n);

  const prometheus = new PrometheusMetrics();
  const exporter = {
    export: (_spans: ReadableSpan[], done: (r: { code: number }) => void) => done({ code: 0 }),
    shutdown: async () => {},
  };
  const tracing = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
  trace.setGlobalTracerProvider(tracing);
  try {
    const on = new Telemetry({ meterProvider: prometheus.meterProvider });
    perDelivery(on, n / 10);
    const onUs = perDelivery(on, n);
    await prometheus.scrape();
    return { on: onUs, off: offUs };
  } finally {
    await tracing.shutdown();
    trace.disable();
  }
}
