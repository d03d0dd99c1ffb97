// hookline end to end: events published through the library 1,000 per call while its worker renders
// (Eta), authorises (Basic), POSTs and records each delivery with its attempt. Done is when the sink
// has answered every delivery and `stop` has recorded the last results — the sink's counter, asked
// over IPC, costs the store nothing (the old bench polled `count(*)` every 50 ms, charged to Postgres).
import { trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from "@opentelemetry/sdk-trace-base";
import { nodeTransportPlugin } from "../../adapters/node/runtime.ts";
import { createHookline } from "../../core/app.ts";
import type { DeliveryStatus } from "../../core/contracts/delivery.ts";
import type { SqlDriver } from "../../core/contracts/store.ts";
import { Tokens } from "../../core/tokens.ts";
import { basic } from "../../plugins/basic/index.ts";
import { eta } from "../../plugins/eta/index.ts";
import type { BenchLeg, LegContext, PreparedLeg } from "./leg.ts";
import { ENQUEUE_CHUNK, IN_FLIGHT } from "./work.ts";

const config = (url: string, telemetry: boolean) => `
metrics: { enabled: ${telemetry} }
engine:
  concurrency: ${IN_FLIGHT}
  pollInterval: 20ms
  allowNetworks: ["127.0.0.1/32"]
integrations:
  sink:
    kind: basic
    endpointPrefix: ${url}/hooks
    username: bob
    password: secret
webhooks:
  contact:
    url: ${url}/hooks/contacts
    integration: sink
    params: { list: newsletter }
    body: |
      {"email": <%= json(it.customer.email) %>, "first": <%= json(it.customer.first) %>, "last": <%= json(it.customer.last) %>,
       "list": <%= json(it.params.list) %>, "source": <%= json(it.event.data.source) %>, "country": <%= json(it.customer.country) %>,
       "event": <%= json(it.event.id) %>, "at": <%= json(it.event.timestamp) %>,
       "items": [<% it.event.data.items.forEach((item, i) => { %><%= i ? "," : "" %>{"sku": <%= json(item.sku) %>, "qty": <%= item.qty %>, "price": <%= item.price %>}<% }) %>]}
triggers:
  - { kind: event, events: [signup], webhooks: [contact] }
`;

const ITEMS = Array.from({ length: 6 }, (_, i) => ({ sku: `SKU-${1000 + i}`, qty: i + 1, price: 19.99 }));
// "waiting" and "paused" are the store's from migration 7 (issue 13) on; before it they match nothing.
const STATUSES_NOT_SENT = [
  "pending",
  "waiting",
  "paused",
  "in_flight",
  "failed",
  "halted",
  "aborted",
] as const;

/** Spans as an SDK exports them, dropped: the cost of recording and batching them, no network. */
class DroppingExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    this.exported += spans.length;
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

/** Published events/s of each run, by leg (publish returns once the deliveries are durable). */
export const publishRates: Record<string, number[]> = {};

/**
 * A hookline leg over a driver the bench opens and closes (`open` runs outside the window); the app is
 * handed a copy whose `close` does nothing, so that the bench can look at the store after `stop`.
 * `telemetry`: metrics on (the app's Prometheus meter, scraped once after the window) and an
 * OpenTelemetry trace SDK registered (a span per attempt, batched to an exporter that drops them);
 * without it, metrics are off and no SDK is registered (the API's no-ops).
 */
export function hooklineLeg(
  name: string,
  store: { durable: boolean; open: (context: LegContext) => Promise<SqlDriver>; telemetry?: boolean },
): BenchLeg {
  return {
    name,
    durable: store.durable,
    async prepare(context): Promise<PreparedLeg> {
      const { sink, deliveries } = context;
      const driver = await store.open(context);
      const telemetry = store.telemetry === true;
      const exporter = new DroppingExporter();
      const tracing = telemetry
        ? new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] })
        : undefined;
      if (tracing) trace.setGlobalTracerProvider(tracing);
      const app = await createHookline({
        config: { text: config(sink.url, telemetry), file: "bench.yaml" },
        plugins: [
          eta(),
          basic(),
          nodeTransportPlugin(),
          {
            name: "bench-store",
            register: (c) => c.register(Tokens.SqlDriver, { useValue: { ...driver, close: async () => {} } }),
          },
        ],
      });
      let sentBefore = 0;
      return {
        async run() {
          sentBefore = await sink.count();
          const t0 = performance.now();
          await app.start();
          for (let i = 0; i < deliveries; i += ENQUEUE_CHUNK) {
            await app.publish(
              Array.from({ length: Math.min(ENQUEUE_CHUNK, deliveries - i) }, (_, j) => ({
                type: "signup",
                customer: {
                  id: `c-${i + j}`,
                  email: `user${i + j}@example.com`,
                  first: "Ada",
                  last: "Lovelace",
                  country: "GB",
                },
                data: { source: "landing-page", items: ITEMS },
              })),
            );
          }
          publishRates[name] = [
            ...(publishRates[name] ?? []),
            deliveries / ((performance.now() - t0) / 1000),
          ];
          await sink.reach(sentBefore + deliveries);
          // Stopping waits for the requests still answering and records their results.
          await app.stop(10_000);
          return deliveries;
        },
        async verify() {
          const sent = (await sink.count()) - sentBefore;
          const left: string[] = [];
          for (const status of STATUSES_NOT_SENT) {
            const rows = await app.store.listDeliveries({ status: status as DeliveryStatus, limit: 1 });
            if (rows.length > 0) left.push(status);
          }
          if (sent !== deliveries || left.length > 0)
            return `sink answered ${sent} of ${deliveries}; deliveries left ${left.join(", ") || "none"}`;
          if (!tracing) return undefined;
          await tracing.forceFlush();
          const text = (await app.metrics?.scrape()) ?? "";
          const counted = /^hookline_deliveries_total\{webhook="contact",outcome="succeeded"\} (\d+)/m.exec(
            text,
          );
          if (Number(counted?.[1]) !== deliveries)
            return `metrics counted ${counted?.[1] ?? "none"} deliveries`;
          if (exporter.exported < deliveries) return `${exporter.exported} spans exported for ${deliveries}`;
          return undefined;
        },
        async close() {
          if (tracing) {
            await tracing.shutdown();
            trace.disable();
          }
          await driver.close();
        },
      };
    },
  };
}
