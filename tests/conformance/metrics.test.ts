import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { ServerHandle } from "../../core/contracts/runtime.ts";
import { eta } from "../../plugins/eta/index.ts";
import { type Sink, startSink } from "../support/http-sink.ts";
import { type ConformanceApp, conformanceApp, eventually } from "./support/app.ts";
import { RUNTIME, runtimeServe } from "./support/runtime.ts";

// GET /metrics served by the runtime's own HTTP server after deliveries sent through the runtime's
// transport: the OpenTelemetry meter and the Prometheus serializer run on every runtime the server
// does, and the caller's traceparent reaches the destination.
const TOKEN = "conformance-admin-token-0123456789";
const config = (sink: string) => `
engine:
  pollInterval: 20ms
  retry: { delays: [20ms], jitter: 0 }
  allowNetworks: ["127.0.0.1/32"]
metrics: { cache: 0 }
webhooks:
  hook: { url: ${sink}/hook, body: '{}' }
triggers:
  - { kind: event, events: [signup], webhooks: [hook] }
`;
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

describe(`metrics and traces over HTTP (${RUNTIME})`, () => {
  let sink: Sink;
  let app: ConformanceApp;
  let server: ServerHandle;
  let base = "";

  beforeAll(async () => {
    sink = await startSink(() => ({ status: 200 }));
    app = await conformanceApp(config(sink.url), [eta()], {}, { adminToken: TOKEN });
    await app.start();
    const serve = await runtimeServe();
    server = await serve(app.http.fetch, { host: "127.0.0.1", port: 0 });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server?.close();
    await app.dispose();
    await sink.close();
  });

  it("counts deliveries sent to a sink and serves them in Prometheus text format", async () => {
    const published = await fetch(`${base}/v1/events`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${TOKEN}`,
        traceparent: `00-${TRACE}-00f067aa0ba902b7-01`,
      },
      body: JSON.stringify({ events: [1, 2, 3].map((i) => ({ type: "signup", customer: { id: `c${i}` } })) }),
    });
    expect(published.status).toBe(202);
    await eventually(() => sink.requests.length === 3, 15_000, "three deliveries");
    for (const r of sink.requests) expect(r.headers.traceparent).toContain(TRACE);

    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    const text = await eventually(
      async () => {
        const r = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
        const t = await r.text();
        return r.status === 200 && /hookline_deliveries_total\{[^}]*outcome="succeeded"[^}]*\} 3$/m.test(t)
          ? t
          : undefined;
      },
      15_000,
      "the deliveries counted",
    );
    expect(text).toMatch(/^# TYPE hookline_attempt_duration_seconds histogram$/m);
    expect(text).toMatch(/^hookline_webhooks\{state="open"\} 1$/m);
    expect(text).toMatch(/^hookline_backlog_due\{webhook="hook"\} 0$/m);
  });
});
