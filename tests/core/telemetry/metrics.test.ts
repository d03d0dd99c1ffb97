import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import { BACKLOG_CAP, readGauges } from "../../../core/store/gauges.ts";
import { PrometheusMetrics } from "../../../core/telemetry/prometheus.ts";
import { Telemetry } from "../../../core/telemetry/telemetry.ts";
import { inbound } from "../../../plugins/inbound/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";
import { answerChecker, type OpenApiDoc } from "../../support/openapi.ts";
import { type ServedApp, serveApp } from "../../support/serve-app.ts";
import { loadError } from "../config/fakes.ts";

const TOKEN = "admin-token-for-metrics-0123456789";
const METRICS_TOKEN = "metrics-only-token-0123456789";

const yaml = (sink: string) => `
engine:
  pollInterval: 20ms
  retry: { delays: [20ms], jitter: 0 }
  allowNetworks: ["127.0.0.1/32"]
metrics: { token: "\${METRICS_TOKEN}", cache: 0 }
policies:
  narrow: { concurrency: 1 }
retryPolicies:
  slowly: { kind: delays, delays: [1h] }
webhooks:
  ok: { url: ${sink}/ok, body: '{}' }
  flaky: { url: ${sink}/flaky, body: '{}' }
  bad: { url: ${sink}/bad, body: '{}' }
  later: { url: ${sink}/later, body: '{}', retry: slowly }
  queued: { url: ${sink}/queued, body: '{}', policy: narrow }
triggers:
  - { kind: event, events: [a], webhooks: [ok] }
  - { kind: event, events: [b], webhooks: [flaky] }
  - { kind: event, events: [c], webhooks: [bad] }
  - { kind: event, events: [d], webhooks: [later] }
  - { kind: event, events: [e], webhooks: [queued] }
inbound:
  endpoints:
    esputnik: { kind: activity-status, auth: { kind: none } }
`;

interface Family {
  name: string;
  type: string;
  metrics: Array<{ value?: string; count?: string; labels?: Record<string, string> }>;
}

/** One sample's value: the series of `name` whose labels include `labels` (0 when there is none). */
function sample(
  families: Family[],
  name: string,
  labels: Record<string, string>,
  field: "value" | "count" = "value",
) {
  const family = families.find((f) => f.name === name);
  const series = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return Number(series?.[field] ?? 0);
}

const rank = (line: string) => (line.startsWith("#") ? 0 : line.includes("_bucket") ? 1 : 2);

/** A histogram's series of one label set, parsed: count, sum and cumulative buckets. */
function histogramOf(text: string, name: string, label: string) {
  const lines = text
    .split("\n")
    .filter(
      (l) =>
        l.startsWith(`# HELP ${name} `) ||
        l.startsWith(`# TYPE ${name} `) ||
        (l.startsWith(name) && l.includes(label)),
    )
    .map((l) => l.replace(`{${label}}`, "").replace(`${label},`, ""))
    // …and its buckets first, as client_golang writes them (OpenTelemetry's serializer writes them last).
    .sort((a, b) => rank(a) - rank(b));
  const [family] = parsePrometheusTextFormat(`${lines.join("\n")}\n`) as Array<{
    type: string;
    metrics: Array<{ count: string; sum: string; buckets: Record<string, string> }>;
  }>;
  expect(family?.type).toBe("HISTOGRAM");
  const m = family!.metrics[0]!;
  return {
    count: Number(m.count),
    sum: Number(m.sum),
    buckets: Object.fromEntries(Object.entries(m.buckets).map(([k, v]) => [k, Number(v)])),
  };
}

for (const kind of storeKinds) {
  describe(`GET /metrics after real deliveries (${kind.name})`, () => {
    let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;
    let served: ServedApp;
    let releaseQueued: () => void = () => {};
    const queuedHeld = new Promise<void>((r) => {
      releaseQueued = r;
    });
    let flakyCalls = 0;

    const scrape = async (token = METRICS_TOKEN): Promise<{ text: string; families: Family[] }> => {
      const r = await fetch(`${served.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toContain("text/plain");
      const text = await r.text();
      return { text, families: parsePrometheusTextFormat(text) as Family[] };
    };
    const publish = async (type: string, n = 1) => {
      const r = await fetch(`${served.url}/v1/events`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ events: Array.from({ length: n }, () => ({ type, customer: { id: "c1" } })) }),
      });
      expect(r.status).toBe(202);
    };

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink(async (req) => {
        if (req.url === "/ok") return { status: 200 };
        if (req.url === "/flaky") return { status: flakyCalls++ === 0 ? 503 : 200 };
        if (req.url === "/bad") return { status: 400 };
        if (req.url === "/later") return { status: 503 };
        await queuedHeld;
        return { status: 204 };
      });
      app = await testApp(yaml(sink.url), driver, {
        adminToken: TOKEN,
        env: { METRICS_TOKEN },
        plugins: [inbound()],
      });
      await app.start();
      served = await serveApp(app);
    });
    afterAll(async () => {
      releaseQueued();
      await served?.close();
      await app?.stop(2_000);
      await sink?.close();
      await driver?.dispose();
    });

    it("takes the admin token or metrics.token, and nothing else; every answer fits the OpenAPI document", async () => {
      const doc = (await (await fetch(`${served.url}/openapi.json`)).json()) as OpenApiDoc;
      const checker = answerChecker(doc);
      const problems: string[] = [];
      const check = async (r: Response) => {
        const type = r.headers.get("content-type") ?? "";
        const text = await r.text();
        const found = checker.check(
          "GET",
          "/metrics",
          r.status,
          /json/.test(type) ? JSON.parse(text) : text,
          type,
          r.headers,
        );
        problems.push(...found.problems.map((p) => `${found.operation} ${r.status}: ${p}`));
        return r;
      };
      expect((await check(await fetch(`${served.url}/metrics`))).status).toBe(401);
      const wrong = await check(
        await fetch(`${served.url}/metrics`, { headers: { authorization: "Bearer not-the-token-0000" } }),
      );
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get("www-authenticate")).toBe("Bearer");
      for (const token of [TOKEN, METRICS_TOKEN])
        expect(
          (
            await check(
              await fetch(`${served.url}/metrics`, { headers: { authorization: `Bearer ${token}` } }),
            )
          ).status,
        ).toBe(200);
      expect(problems).toEqual([]);
      expect(checker.seen).toEqual(new Set(["GET /metrics 401", "GET /metrics 200"]));
    });

    it("counts deliveries by outcome, attempts by status class and their latency as they go", async () => {
      const before = (await scrape()).families;
      expect(sample(before, "hookline_deliveries_total", { webhook: "ok", outcome: "succeeded" })).toBe(0);

      await publish("a", 3);
      await publish("b");
      await publish("c");
      await eventually(
        async () =>
          (await app.store.listDeliveries({ status: "succeeded" })).length === 4 &&
          (await app.store.listDeliveries({ status: "halted" })).length === 1,
        15_000,
        "the deliveries to end",
      );
      const { families, text } = await scrape();
      const count = (labels: Record<string, string>) => sample(families, "hookline_deliveries_total", labels);
      expect(count({ webhook: "ok", outcome: "succeeded" })).toBe(3);
      expect(count({ webhook: "flaky", outcome: "retrying" })).toBe(1);
      expect(count({ webhook: "flaky", outcome: "succeeded" })).toBe(1);
      // A 400 halts the webhook's run (the Bloomreach contract).
      expect(count({ webhook: "bad", outcome: "halted" })).toBe(1);
      const attempts = (labels: Record<string, string>) =>
        sample(families, "hookline_attempts_total", labels);
      expect(attempts({ webhook: "ok", status_class: "2xx" })).toBe(3);
      expect(attempts({ webhook: "flaky", status_class: "5xx" })).toBe(1);
      expect(attempts({ webhook: "flaky", status_class: "2xx" })).toBe(1);
      expect(attempts({ webhook: "bad", status_class: "4xx" })).toBe(1);
      const latency = families.find((f) => f.name === "hookline_attempt_duration_seconds");
      expect(latency?.type).toBe("HISTOGRAM");
      // The parser reads a histogram's count and sum only from series without labels besides `le`:
      // it is given the family's lines of one webhook, that label taken off (histogramOf).
      const okLatency = histogramOf(text, "hookline_attempt_duration_seconds", 'webhook="ok"');
      expect(okLatency.count).toBe(3);
      expect(okLatency.buckets["+Inf"]).toBe(3);
      expect(okLatency.sum).toBeGreaterThan(0);
      // Every webhook is open, none paused.
      expect(sample(families, "hookline_webhooks", { state: "open" })).toBe(5);
      expect(sample(families, "hookline_webhooks", { state: "paused" })).toBe(0);
      expect(sample(families, "hookline_webhook_paused", { webhook: "ok" })).toBe(0);
      // No secret reaches a label or a help text.
      expect(text).not.toContain(TOKEN);
      expect(text).not.toContain(METRICS_TOKEN);
    });

    it("reads the backlog and the policies' slots from the store at scrape time", async () => {
      await publish("d");
      await publish("e", 3);
      await eventually(
        async () => (await app.store.listDeliveries({ webhook: "later", status: "pending" })).length === 1,
        15_000,
        "the retry to be scheduled",
      );
      await eventually(() => sink.requests.some((r) => r.url === "/queued"), 15_000, "a queued request");
      const { families } = await scrape();
      const g = (name: string, labels: Record<string, string>) => sample(families, name, labels);
      expect(g("hookline_backlog_scheduled", { webhook: "later" })).toBe(1);
      expect(g("hookline_backlog_due", { webhook: "later" })).toBe(0);
      // One of the narrow policy's three in flight (its one slot), two due behind it.
      expect(g("hookline_backlog_in_flight", { webhook: "queued" })).toBe(1);
      expect(g("hookline_backlog_due", { webhook: "queued" })).toBe(2);
      expect(g("hookline_backlog_oldest_due_age_seconds", { webhook: "queued" })).toBeGreaterThan(0);
      expect(g("hookline_backlog_oldest_due_age_seconds", { webhook: "later" })).toBe(0);
      expect(g("hookline_policy_slots_in_use", { policy: "narrow" })).toBe(1);
      expect(g("hookline_policy_slots_limit", { policy: "narrow" })).toBe(1);
      expect(sample(families, "hookline_deliveries_total", { webhook: "later", outcome: "retrying" })).toBe(
        1,
      );
      expect(sample(families, "hookline_attempts_total", { webhook: "later", status_class: "5xx" })).toBe(1);

      releaseQueued();
      await eventually(
        async () => (await app.store.listDeliveries({ webhook: "queued", status: "succeeded" })).length === 3,
        15_000,
        "the queued deliveries",
      );
      const after = (await scrape()).families;
      expect(sample(after, "hookline_backlog_due", { webhook: "queued" })).toBe(0);
      expect(sample(after, "hookline_policy_slots_in_use", { policy: "narrow" })).toBe(0);
      expect(sample(after, "hookline_deliveries_total", { webhook: "queued", outcome: "succeeded" })).toBe(3);
    });

    it("counts each state of the backlog up to the cap, the oldest due first", async () => {
      expect(BACKLOG_CAP).toBe(100_000);
      // Three due deliveries of one webhook, counted with a cap of two: the count stops at two, and the
      // age is the oldest's (the due index is walked in due order).
      await app.store.sql.query(
        `INSERT INTO hookline_delivery_state (id, seq, webhook, run_id, status, attempts, max_attempts, next_at)
         SELECT gen_random_uuid(), -g, 'capped', 'r', 'pending', 0, 4, now() - g * interval '1 hour'
           FROM generate_series(1, 3) g`,
      );
      try {
        const capped = (await readGauges(app.store.sql, 2)).queue.find((q) => q.webhook === "capped");
        expect(capped?.due).toBe(2);
        expect(capped?.oldestDueAge).toBeGreaterThan(3 * 3600 - 60);
        expect((await readGauges(app.store.sql)).queue.find((q) => q.webhook === "capped")?.due).toBe(3);
      } finally {
        await app.store.sql.query("DELETE FROM hookline_delivery_state WHERE webhook = 'capped'");
      }
    });

    it("counts inbound requests by endpoint and answer, a path no endpoint serves as (unknown)", async () => {
      expect((await fetch(`${served.url}/in/secret-looking-path-0123`, { method: "POST" })).status).toBe(404);
      const post = (body: string) =>
        fetch(`${served.url}/in/esputnik`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body,
        });
      const activity = {
        iid: "m-1",
        contactId: 1,
        activityStatus: "READ",
        activityDateTime: "2024-05-01T10:00:00",
      };
      expect((await post(JSON.stringify([activity]))).status).toBe(200);
      expect((await post(JSON.stringify([activity]))).status).toBe(200);
      expect((await post("{not json")).status).toBe(400);
      const { families, text } = await scrape();
      const inboundCount = (status: string) =>
        sample(families, "hookline_inbound_requests_total", { endpoint: "esputnik", status });
      expect(inboundCount("200")).toBe(2);
      expect(inboundCount("400")).toBe(1);
      expect(
        sample(families, "hookline_inbound_requests_total", { endpoint: "(unknown)", status: "404" }),
      ).toBe(1);
      expect(text).not.toContain("secret-looking-path");
    });
  });
}

describe("metric labels", () => {
  it("keeps at most 1,000 label sets per counter, counting the rest as (other)", async () => {
    const prometheus = new PrometheusMetrics();
    const telemetry = new Telemetry({ meterProvider: prometheus.meterProvider });
    for (let i = 0; i < 1_500; i++) telemetry.inboundAnswered(`endpoint-${i}`, 200);
    telemetry.inboundAnswered("endpoint-0", 200);
    const families = parsePrometheusTextFormat(await prometheus.scrape()) as Family[];
    const series = families.find((f) => f.name === "hookline_inbound_requests_total")!.metrics;
    expect(series).toHaveLength(1_001);
    expect(sample(families, "hookline_inbound_requests_total", { endpoint: "endpoint-0" })).toBe(2);
    expect(sample(families, "hookline_inbound_requests_total", { endpoint: "(other)" })).toBe(500);
  });
});

describe("metrics config", () => {
  it("refuses a metrics.token that is no Bearer token, naming the field", () => {
    const short = loadError("metrics: { token: 'too short' }");
    expect(short.message).toContain("metrics.token");
    expect(short.message).toContain("at least 16 characters");
    expect(loadError("metrics: { token: 'has spaces in it, which no bearer token can' }").message).toContain(
      "a Bearer token",
    );
    expect(loadError("metrics: { enabled: yes-please }").message).toContain("metrics.enabled");
    expect(loadError("metrics: { cache: soon }").message).toContain("metrics.cache");
    // A token from the environment is checked as it is after substitution, and not shown.
    const fromEnv = loadError(`metrics: { token: '\${T}' }`, { T: "s3cret" });
    expect(fromEnv.message).toContain("metrics.token");
    expect(fromEnv.message).not.toContain("s3cret");
  });

  it("answers 404 when metrics are off", async () => {
    const driver = await storeKinds[0]!.open();
    const app = await testApp("metrics: { enabled: false }", driver);
    try {
      expect((await app.fetch(new Request("http://x/metrics"))).status).toBe(404);
    } finally {
      await app.stop(0);
      await driver.dispose();
    }
  });
});
