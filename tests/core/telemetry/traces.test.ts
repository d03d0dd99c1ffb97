import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { parseTraceparent } from "../../../core/telemetry/traceparent.ts";
import { inbound } from "../../../plugins/inbound/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";
import { type ServedApp, serveApp } from "../../support/serve-app.ts";

const TOKEN = "admin-token-for-traces-0123456789";
const CALLER = { traceId: "4bf92f3577b34da6a3ce929d0e0e4736", spanId: "00f067aa0ba902b7" };
const CALLER_TRACEPARENT = `00-${CALLER.traceId}-${CALLER.spanId}-01`;

const yaml = (sink: string) => `
engine:
  pollInterval: 20ms
  retry: { delays: [20ms], jitter: 0 }
  allowNetworks: ["127.0.0.1/32"]
webhooks:
  crm: { url: ${sink}/crm, body: '{}' }
  opened: { url: ${sink}/opened, body: '{}' }
triggers:
  - { kind: event, events: [signup], webhooks: [crm] }
  - { kind: event, events: [activity.read], webhooks: [opened] }
inbound:
  endpoints:
    esputnik: { kind: activity-status, auth: { kind: apiKey, keys: ["${KEY}"] } }
`;
const KEY = "inbound-key-for-traces-0123";

/** The sink fails each delivery's first two attempts (503) and takes the third. */
function flakySink(): Promise<Sink> {
  const seen = new Map<string, number>();
  return startSink((req) => {
    const key = req.headers["idempotency-key"] ?? "";
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return { status: n < 3 ? 503 : 200 };
  });
}

const kind = storeKinds.at(-1)!;

describe(`traceparent from the caller to the destination (${kind.name})`, () => {
  let driver: Awaited<ReturnType<typeof kind.open>>;
  let sink: Sink;
  let app: Awaited<ReturnType<typeof testApp>>;
  let served: ServedApp;
  const exporter = new InMemorySpanExporter();

  const publish = async (headers: Record<string, string> = {}) => {
    const r = await fetch(`${served.url}/v1/events`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}`, ...headers },
      body: JSON.stringify({ type: "signup", customer: { id: crypto.randomUUID() } }),
    });
    expect(r.status).toBe(202);
    const id = ((await r.json()) as { events: Array<{ deliveries: Array<{ id: string }> }> }).events[0]!
      .deliveries[0]!.id;
    await eventually(
      async () => (await app.store.getDelivery(id))?.status === "succeeded",
      15_000,
      "the delivery",
    );
    return { id };
  };

  beforeAll(async () => {
    driver = await kind.open();
    sink = await flakySink();
    app = await testApp(yaml(sink.url), driver, { adminToken: TOKEN, plugins: [inbound()] });
    await app.start();
    served = await serveApp(app);
  });
  afterAll(async () => {
    trace.disable();
    await served?.close();
    await app?.stop(2_000);
    await sink?.close();
    await driver?.dispose();
  });

  const attemptsOf = async (id: string) => {
    const delivery = (await app.store.getDelivery(id))!;
    return sink.requests.filter((q) => q.headers["idempotency-key"] === delivery.idempotencyKey);
  };

  it("without an SDK, still sends the caller's trace id with a new parent id on every attempt", async () => {
    const { id } = await publish({ traceparent: CALLER_TRACEPARENT });
    const requests = await attemptsOf(id);
    expect(requests).toHaveLength(3);
    const sent = requests.map((q) => parseTraceparent(q.headers.traceparent)!);
    for (const t of sent) {
      expect(t.traceId).toBe(CALLER.traceId);
      expect(t.spanId).not.toBe(CALLER.spanId);
      expect(t.flags).toBe("01");
    }
    expect(new Set(sent.map((t) => t.spanId)).size).toBe(3);
    // The delivery keeps the caller's traceparent as it came.
    expect((await app.store.getDelivery(id))?.traceparent).toBe(CALLER_TRACEPARENT);
  });

  it("with an SDK registered, records a span per attempt, each the parent the destination sees", async () => {
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
    );
    const { id } = await publish({ traceparent: CALLER_TRACEPARENT });
    const requests = await attemptsOf(id);
    expect(requests).toHaveLength(3);
    const spans = exporter
      .getFinishedSpans()
      .filter((s) => s.attributes["hookline.delivery.id"] === id)
      .sort((a, b) => Number(a.attributes["hookline.attempt"]) - Number(b.attributes["hookline.attempt"]));
    expect(spans).toHaveLength(3);
    expect(spans.map((s) => s.attributes["hookline.attempt"])).toEqual([1, 2, 3]);
    expect(spans.map((s) => s.attributes["http.response.status_code"])).toEqual([503, 503, 200]);
    expect(spans.map((s) => s.attributes["hookline.outcome"])).toEqual(["retrying", "retrying", "succeeded"]);
    requests.forEach((q, i) => {
      const sent = parseTraceparent(q.headers.traceparent)!;
      const span = spans[i]!;
      expect(span.attributes["hookline.webhook"]).toBe("crm");
      expect(span.spanContext().traceId).toBe(CALLER.traceId);
      expect(span.parentSpanContext?.spanId).toBe(CALLER.spanId);
      // The destination's parent is this attempt's span.
      expect(sent.traceId).toBe(CALLER.traceId);
      expect(sent.spanId).toBe(span.spanContext().spanId);
    });
  });

  it("starts one trace per publish when the caller sends none (or a malformed one)", async () => {
    for (const headers of [{}, { traceparent: "00-not-a-traceparent-01" }]) {
      const { id } = await publish(headers);
      const requests = await attemptsOf(id);
      const sent = requests.map((q) => parseTraceparent(q.headers.traceparent)!);
      expect(sent).toHaveLength(3);
      expect(new Set(sent.map((t) => t.traceId)).size).toBe(1);
      expect(sent[0]!.traceId).not.toBe(CALLER.traceId);
      expect(new Set(sent.map((t) => t.spanId)).size).toBe(3);
      const kept = parseTraceparent((await app.store.getDelivery(id))?.traceparent);
      expect(kept?.traceId).toBe(sent[0]!.traceId);
    }
  });

  it("traces the events an inbound request publishes under the request's traceparent", async () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const senders = ["b7ad6b7169203331", "c8be7c8270314442"];
    // Two requests at once may share one commit and one publish: each keeps its own trace.
    const answers = await Promise.all(
      senders.map((spanId, i) =>
        fetch(`${served.url}/in/esputnik`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-api-key": KEY,
            traceparent: `00-${traceId}-${spanId}-01`,
          },
          body: JSON.stringify([
            {
              iid: `t${i}${Date.now()}`,
              contactId: i + 1,
              email: `p${i}@example.com`,
              activityStatus: "READ",
              activityDateTime: "2024-05-01T10:00:00",
            },
          ]),
        }),
      ),
    );
    expect(await Promise.all(answers.map(async (a) => `${a.status} ${await a.text()}`))).toEqual([
      expect.stringMatching(/^200 /),
      expect.stringMatching(/^200 /),
    ]);
    const opened = await eventually(
      () => {
        const got = sink.requests.filter(
          (q) => q.url === "/opened" && q.headers.traceparent?.includes(traceId),
        );
        // Each delivery is answered 503 twice before it succeeds: 6 attempts in all.
        return got.length === 6 ? got : undefined;
      },
      15_000,
      "the activities' deliveries",
    );
    const spans = opened.map((q) => parseTraceparent(q.headers.traceparent)!);
    expect(new Set(spans.map((t) => t.traceId))).toEqual(new Set([traceId]));
    expect(new Set(spans.map((t) => t.spanId)).size).toBe(6);
    const parents = new Set(
      (await app.store.listDeliveries({ webhook: "opened" })).map(
        (d) => parseTraceparent(d.traceparent)?.spanId,
      ),
    );
    expect(parents).toEqual(new Set(senders));
  });
});

describe("traceparent parsing", () => {
  it("takes a valid header and ignores what the spec says to ignore", () => {
    expect(parseTraceparent(CALLER_TRACEPARENT)).toEqual({ ...CALLER, flags: "01" });
    expect(parseTraceparent(`00-${"0".repeat(32)}-${CALLER.spanId}-01`)).toBeUndefined();
    expect(parseTraceparent(`00-${CALLER.traceId}-${"0".repeat(16)}-01`)).toBeUndefined();
    expect(parseTraceparent(`ff-${CALLER.traceId}-${CALLER.spanId}-01`)).toBeUndefined();
    expect(parseTraceparent(`${CALLER_TRACEPARENT}-extra`)).toBeUndefined();
    expect(parseTraceparent(`01-${CALLER.traceId}-${CALLER.spanId}-01-extra`)).toEqual({
      ...CALLER,
      flags: "01",
    });
    expect(parseTraceparent(CALLER_TRACEPARENT.toUpperCase())).toBeUndefined();
  });
});
