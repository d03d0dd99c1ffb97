import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { nodeTransportPlugin } from "../../../adapters/node/runtime.ts";
import { createHookline, type Hookline } from "../../../core/app.ts";
import type { Plugin } from "../../../core/contracts/plugin.ts";
import { jsonLogger } from "../../../core/logger.ts";
import { Tokens } from "../../../core/tokens.ts";
import { utf8Length } from "../../../core/util/body-hash.ts";
import { basic } from "../../../plugins/basic/index.ts";
import { eta } from "../../../plugins/eta/index.ts";
import { inbound } from "../../../plugins/inbound/index.ts";
import { eventually, useDriver } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";
import { type ServedApp, serveApp } from "../../support/serve-app.ts";

const TOKEN = "admin-token-for-log-tests-0123456789";
const CRM_PASSWORD = "crm-pässword-9f3b";
const INBOUND_PASSWORD = "inbound-pw-77c1d";
const WRONG_PASSWORD = "not-the-pw-4e2a";
const SECRETS = [
  TOKEN,
  CRM_PASSWORD,
  INBOUND_PASSWORD,
  WRONG_PASSWORD,
  Buffer.from(`jürgen:${CRM_PASSWORD}`, "utf8").toString("base64"),
  btoa(`esputnik:${INBOUND_PASSWORD}`),
  btoa(`esputnik:${WRONG_PASSWORD}`),
];

/** The message keys docs/operations.md documents: the first cell of each row of its Logs section's key table. */
const DOCUMENTED = (() => {
  const doc = readFileSync(new URL("../../../docs/operations.md", import.meta.url), "utf8");
  const logs = doc.slice(doc.indexOf("\n## Logs\n"));
  const table = logs.slice(logs.indexOf("### Message keys"), logs.indexOf("#### The delivery lines"));
  return new Set([...table.matchAll(/^\| `([a-z_.]+)` +\|/gm)].map((m) => m[1]!));
})();

const config = (sink: string) => `
engine:
  concurrency: 4
  pollInterval: 20ms
  timeout: 2s
  retry: { delays: [30ms], jitter: 0 }
  allowNetworks: ["127.0.0.1/32"]
integrations:
  crm:
    kind: basic
    endpointPrefix: ${sink}/api
    username: jürgen
    password: \${CRM_PASSWORD}
webhooks:
  ok: { url: "${sink}/api/ok", integration: crm, body: '{"id": <%= json(it.customer.id) %>}' }
  flaky: { url: "${sink}/api/flaky", integration: crm, body: '{"id": <%= json(it.customer.id) %>}' }
  bad: { url: "${sink}/api/bad", integration: crm, body: '{"id": <%= json(it.customer.id) %>}' }
triggers:
  - { kind: event, events: [signup], webhooks: [ok, flaky, bad] }
inbound:
  endpoints:
    esputnik:
      kind: activity-status
      auth: { kind: basic, users: [{ username: esputnik, password: "\${INBOUND_PASSWORD}" }] }
`;

/** A plugin route that fails as a bug would. */
const faulty: Plugin = {
  name: "faulty",
  register(c) {
    c.register(Tokens.HttpRoutes, {
      useValue: {
        name: "faulty",
        mount(http) {
          http.get("/plugin/boom", () => {
            throw new Error("kaboom");
          });
        },
      },
    });
  },
};

type Line = Record<string, unknown> & { time: string; level: string; message: string };

const kind = storeKinds.at(-1)!;

describe(`logs on ${kind.name}`, () => {
  let driver: Awaited<ReturnType<typeof kind.open>>;
  let sink: Sink;
  let app: Hookline;
  let served: ServedApp;
  const raw: string[] = [];
  const lines = () => raw.map((l) => JSON.parse(l) as Line);
  const ofRequest = (id: string) => lines().filter((l) => l.requestId === id);

  const call = (
    method: string,
    path: string,
    init: { headers?: Record<string, string>; body?: string } = {},
  ) => fetch(`${served.url}${path}`, { method, headers: init.headers, body: init.body });

  let published: { runId: string; ok: string; flaky: string; bad: string };

  beforeAll(async () => {
    driver = await kind.open();
    let flakyHits = 0;
    sink = await startSink((req) => {
      if (req.url.startsWith("/api/flaky")) return { status: flakyHits++ === 0 ? 503 : 200 };
      if (req.url.startsWith("/api/bad")) return { status: 422, body: '{"error":"no"}' };
      return { status: 200, body: '{"ok":true}' };
    });
    app = await createHookline({
      config: { text: config(sink.url), file: "logs.yaml" },
      plugins: [eta(), basic(), inbound(), faulty, nodeTransportPlugin(), useDriver(driver)],
      env: { CRM_PASSWORD, INBOUND_PASSWORD },
      adminToken: TOKEN,
      // As `hookline serve` makes it: the real JSON-lines logger, the admin token among the secrets.
      logger: (redactor) => {
        redactor.add([TOKEN]);
        return jsonLogger({ write: (l) => raw.push(l), redactor, level: "debug" });
      },
    });
    await app.start();
    served = await serveApp(app);

    // The flow: publish (succeeds, retries then succeeds, fails), an inbound request accepted and
    // one refused, an unknown route, a route that crashes.
    const r = await call("POST", "/v1/events", {
      headers: {
        authorization: `Bearer ${TOKEN}`,
        "content-type": "application/json",
        "x-request-id": "req-publish-1",
      },
      body: JSON.stringify({ type: "signup", customer: { id: "c-1" } }),
    });
    expect(r.status).toBe(202);
    const body = (await r.json()) as {
      runId: string;
      events: Array<{ deliveries: Array<{ id: string; webhook: string }> }>;
    };
    const id = (w: string) => body.events[0]!.deliveries.find((d) => d.webhook === w)!.id;
    published = { runId: body.runId, ok: id("ok"), flaky: id("flaky"), bad: id("bad") };
    await eventually(
      async () => {
        const all = await Promise.all(
          [published.ok, published.flaky, published.bad].map((d) => app.store.getDelivery(d)),
        );
        return all.every((d) => d && ["succeeded", "failed"].includes(d.status));
      },
      20_000,
      "the deliveries to finish",
    );
    // Lines are written once outcomes are recorded.
    await eventually(
      () => lines().filter((l) => String(l.message).startsWith("delivery.")).length >= 4,
      5_000,
      "the delivery lines",
    );
  });
  afterAll(async () => {
    await served?.close();
    await app?.stop(0);
    await sink?.close();
    await driver?.dispose();
  });

  const activity = JSON.stringify([
    { contactId: 1, activityStatus: "READ", activityDateTime: "2026-01-01T00:00:00", iid: "log-1" },
  ]);

  it("echoes a caller's X-Request-Id and puts it on every line of the request, the access line among them", async () => {
    const r = await call("POST", "/in/esputnik", {
      headers: {
        authorization: `Basic ${btoa(`esputnik:${INBOUND_PASSWORD}`)}`,
        "content-type": "application/json",
        "x-request-id": "req-inbound-1",
      },
      body: activity,
    });
    expect(r.status).toBe(200);
    expect(r.headers.get("x-request-id")).toBe("req-inbound-1");
    const text = await r.text();
    const access = ofRequest("req-inbound-1").filter((l) => l.message === "http.request");
    expect(access).toHaveLength(1);
    expect(access[0]).toMatchObject({
      level: "info",
      method: "POST",
      path: "/in/esputnik",
      status: 200,
      bytes: utf8Length(text),
    });
  });

  it("gives a request without an id a new one, on the answer and on each of its lines", async () => {
    const r = await call("POST", "/in/esputnik?api_key=in-the-query", {
      headers: {
        authorization: `Basic ${btoa(`esputnik:${WRONG_PASSWORD}`)}`,
        "content-type": "application/json",
      },
      body: activity,
    });
    expect(r.status).toBe(401);
    const id = r.headers.get("x-request-id")!;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const mine = ofRequest(id);
    expect(mine.map((l) => l.message).sort()).toEqual(["http.request", "inbound.refused"]);
    const access = mine.find((l) => l.message === "http.request")!;
    // The path without its query: a key may travel there.
    expect(access.path).toBe("/in/esputnik");
    expect(raw.some((l) => l.includes("in-the-query"))).toBe(false);
  });

  it("writes an access line per request with method, path, status, duration, request id and bytes, and nothing else", async () => {
    const r = await call("GET", `/v1/deliveries/${published.ok}`, {
      headers: { authorization: `Bearer ${TOKEN}`, "x-request-id": "req-get-1" },
    });
    expect(r.status).toBe(200);
    expect(r.headers.get("x-request-id")).toBe("req-get-1");
    const text = await r.text();
    const [access] = ofRequest("req-get-1");
    expect(access).toMatchObject({
      level: "info",
      message: "http.request",
      method: "GET",
      path: `/v1/deliveries/${published.ok}`,
      status: 200,
      requestId: "req-get-1",
      bytes: utf8Length(text),
    });
    expect(typeof access!.durationMs).toBe("number");
    expect(access!.durationMs as number).toBeGreaterThanOrEqual(0);
    for (const l of lines().filter((x) => x.message === "http.request"))
      expect(Object.keys(l).sort()).toEqual(
        ["bytes", "durationMs", "level", "message", "method", "path", "requestId", "status", "time"].filter(
          (k) => k !== "bytes" || "bytes" in l,
        ),
      );
  });

  it("puts the request id on the error line of a request that crashes, and answers it", async () => {
    const r = await call("GET", "/plugin/boom", { headers: { "x-request-id": "req-boom-1" } });
    expect(r.status).toBe(500);
    expect(r.headers.get("x-request-id")).toBe("req-boom-1");
    expect(((await r.json()) as { requestId: string }).requestId).toBe("req-boom-1");
    const mine = ofRequest("req-boom-1");
    expect(mine.map((l) => l.message).sort()).toEqual(["http.internal_error", "http.request"]);
    expect(mine.find((l) => l.message === "http.request")).toMatchObject({
      status: 500,
      path: "/plugin/boom",
    });
  });

  it("answers successes, refusals and unknown routes with the id", async () => {
    for (const [path, status] of [
      ["/healthz", 200],
      ["/readyz", 200],
      ["/nowhere", 404],
      ["/v1/deliveries", 401],
    ] as const) {
      const r = await call("GET", path, { headers: { "x-request-id": `req-${status}` } });
      expect([path, r.status, r.headers.get("x-request-id")]).toEqual([path, status, `req-${status}`]);
    }
  });

  it("writes a line per delivery outcome with webhook, delivery id, run, status, duration and attempt", () => {
    const of = (message: string, delivery: string) =>
      lines().filter((l) => l.message === message && l.delivery === delivery);
    const common = {
      webhook: "ok",
      delivery: published.ok,
      run: published.runId,
      status: "succeeded",
      attempt: 1,
    };
    expect(of("delivery.succeeded", published.ok)).toEqual([
      expect.objectContaining({ level: "info", ...common, httpStatus: 200 }),
    ]);
    expect(of("delivery.retrying", published.flaky)).toEqual([
      expect.objectContaining({
        level: "info",
        webhook: "flaky",
        run: published.runId,
        status: "pending",
        attempt: 1,
        httpStatus: 503,
        retryInMs: 30,
      }),
    ]);
    expect(of("delivery.succeeded", published.flaky)).toEqual([
      expect.objectContaining({ webhook: "flaky", status: "succeeded", attempt: 2, httpStatus: 200 }),
    ]);
    expect(of("delivery.failed", published.bad)).toEqual([
      expect.objectContaining({
        level: "warn",
        webhook: "bad",
        status: "failed",
        attempt: 1,
        httpStatus: 422,
      }),
    ]);
    for (const l of lines().filter((x) => x.message.startsWith("delivery."))) {
      expect(typeof l.durationMs).toBe("number");
      expect(typeof l.reason === "string" || l.status === "succeeded").toBe(true);
    }
  });

  it("writes only documented message keys: no variable data in a message", () => {
    expect(DOCUMENTED.size).toBeGreaterThan(20);
    const seen = new Set(lines().map((l) => l.message));
    for (const m of [
      "http.request",
      "inbound.refused",
      "delivery.succeeded",
      "delivery.retrying",
      "delivery.failed",
      "app.started",
    ])
      expect(seen.has(m)).toBe(true);
    expect([...seen].filter((m) => !DOCUMENTED.has(m))).toEqual([]);
    for (const l of lines()) {
      expect(typeof l.time).toBe("string");
      expect(["debug", "info", "warn", "error"]).toContain(l.level);
    }
  });

  it("writes no secret: admin token, passwords, Basic credentials", () => {
    expect(raw.length).toBeGreaterThan(10);
    for (const secret of SECRETS) expect(raw.filter((l) => l.includes(secret))).toEqual([]);
  });
});
