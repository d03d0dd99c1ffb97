import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

const config = (sinkUrl: string, extra = "") => `
engine:
  concurrency: 4
  pollInterval: 20ms
  lease: 5s
  timeout: 2s
  retry: { delays: [30ms, 60ms, 90ms], jitter: 0.1 }
  allowNetworks: ["127.0.0.1/32"]
integrations:
  crm:
    kind: basic
    endpointPrefix: ${sinkUrl}/api/v1
    username: jürgen
    password: "p@ss:wörd"
webhooks:
  contact:
    url: ${sinkUrl}/api/v1/contacts/<%= it.customer.id %>
    integration: crm
    body: '{"email": <%= json(it.customer.email) %>, "n": <%= it.event.data.n ?? 0 %>}'
  broken-json:
    url: ${sinkUrl}/api/v1/broken
    body: '{"email": <%= it.customer.email %>}'
  outside:
    url: ${sinkUrl}/api/v2/contacts
    integration: crm
    body: '{}'
${extra}
triggers:
  - { kind: event, events: [signup], webhooks: [contact] }
  - { kind: event, events: [broken], webhooks: [broken-json] }
  - { kind: event, events: [outside], webhooks: [outside] }
`;

for (const kind of storeKinds) {
  describe(`delivery on ${kind.name}`, () => {
    let driver: Driver;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;
    // The sink's behaviour per test, keyed by the customer id in the URL.
    const plans = new Map<
      string,
      (n: number) => {
        status?: number;
        headers?: Record<string, string>;
        delayMs?: number;
        destroy?: boolean;
      }
    >();

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink((req) => {
        const id = /contacts\/([^/?]+)/.exec(req.url)?.[1] ?? "";
        const countForId = sink.requests.filter((r) => r.url.includes(`/contacts/${id}`)).length;
        return plans.get(id)?.(countForId) ?? { status: 200, body: '{"ok":true}' };
      });
      app = await testApp(config(sink.url), driver);
      await app.start();
    });
    afterAll(async () => {
      await app.stop(1_000);
      await sink.close();
      await driver.dispose();
    });

    const publish = async (customerId: string, type = "signup", extra: object = {}) => {
      const r = await app.publish({
        type,
        customer: { id: customerId, email: `${customerId}@example.com` },
        ...extra,
      });
      return r.events[0]!.deliveries[0]!.id;
    };
    const settled = (id: string) =>
      eventually(
        async () => {
          const d = await app.store.getDelivery(id);
          return d && ["succeeded", "failed", "halted"].includes(d.status) ? d : undefined;
        },
        20_000,
        `delivery ${id} to finish`,
      );
    const hits = (id: string) => sink.requests.filter((r) => r.url.includes(`/contacts/${id}`));

    it("delivers with Basic credentials (RFC 7617, UTF-8) and records the attempt", async () => {
      const id = await publish("ok-1");
      const d = await settled(id);
      expect(d.status).toBe("succeeded");
      const [req] = hits("ok-1");
      expect(req!.method).toBe("POST");
      expect(req!.headers.authorization).toBe(
        `Basic ${Buffer.from("jürgen:p@ss:wörd", "utf8").toString("base64")}`,
      );
      expect(req!.headers["content-type"]).toBe("application/json");
      expect(JSON.parse(req!.body)).toEqual({ email: "ok-1@example.com", n: 0 });
      const attempts = await app.store.listAttempts(id);
      expect(attempts).toHaveLength(1);
      expect(attempts[0]!.status).toBe(200);
      expect(attempts[0]!.responseBody).toBe('{"ok":true}');
      expect(attempts[0]!.request.headers.authorization).toBe("[redacted]");
    });

    it("retries 503 and succeeds, sending the same idempotency key on every attempt", async () => {
      plans.set("flaky", (n) => (n <= 2 ? { status: 503 } : { status: 200 }));
      const id = await publish("flaky");
      const d = await settled(id);
      expect(d.status).toBe("succeeded");
      const reqs = hits("flaky");
      expect(reqs).toHaveLength(3);
      const keys = new Set(reqs.map((r) => r.headers["idempotency-key"]));
      expect(keys.size).toBe(1);
      expect([...keys][0]).toBe(d.idempotencyKey);
      const attempts = await app.store.listAttempts(id);
      expect(attempts.map((a) => [a.status, a.outcome])).toEqual([
        [503, "retry"],
        [503, "retry"],
        [200, "succeeded"],
      ]);
      // The scheduled delays (30 ms, 60 ms, ±10 %) separate the attempts.
      const gap = (i: number) => Date.parse(attempts[i]!.startedAt) - Date.parse(attempts[i - 1]!.startedAt);
      expect(gap(1)).toBeGreaterThanOrEqual(27);
      expect(gap(2)).toBeGreaterThanOrEqual(54);
    });

    it("gives each delivery its own idempotency key", async () => {
      const a = await publish("key-a");
      const b = await publish("key-b");
      await settled(a);
      await settled(b);
      expect(hits("key-a")[0]!.headers["idempotency-key"]).not.toBe(
        hits("key-b")[0]!.headers["idempotency-key"],
      );
    });

    it("gives up after 4 attempts on a persistent 500, with the reason recorded", async () => {
      plans.set("down", () => ({ status: 500 }));
      const d = await settled(await publish("down"));
      expect(d.status).toBe("failed");
      expect(d.reason).toBe("gave up after 4 attempts; last: HTTP 500");
      expect(hits("down")).toHaveLength(4);
    });

    it("honours Retry-After on 429", async () => {
      plans.set("throttled", (n) =>
        n === 1 ? { status: 429, headers: { "retry-after": "1" } } : { status: 200 },
      );
      const id = await publish("throttled");
      await settled(id);
      const [a1, a2] = await app.store.listAttempts(id);
      expect(a1!.status).toBe(429);
      expect(Date.parse(a2!.startedAt) - Date.parse(a1!.startedAt)).toBeGreaterThanOrEqual(950);
    });

    it("retries a timeout and records the fault class", async () => {
      plans.set("slow", (n) => (n === 1 ? { status: 200, delayMs: 3_000 } : { status: 200 }));
      const id = await publish("slow");
      const d = await settled(id);
      expect(d.status).toBe("succeeded");
      const attempts = await app.store.listAttempts(id);
      expect(attempts[0]!.errorClass).toBe("timeout");
      expect(attempts[0]!.outcome).toBe("retry");
    });

    it("retries a reset connection", async () => {
      plans.set("reset", (n) => (n === 1 ? { destroy: true } : { status: 200 }));
      const id = await publish("reset");
      expect((await settled(id)).status).toBe("succeeded");
      expect((await app.store.listAttempts(id))[0]!.errorClass).toBe("connection_reset");
    });

    it("fails other 4xx for that delivery only", async () => {
      plans.set("denied", () => ({ status: 401 }));
      const r = await app.publish([
        { type: "signup", customer: { id: "denied", email: "d@example.com" } },
        { type: "signup", customer: { id: "allowed", email: "a@example.com" } },
      ]);
      const [d1, d2] = await Promise.all(r.events.map((e) => settled(e.deliveries[0]!.id)));
      expect(d1!.status).toBe("failed");
      expect(d1!.reason).toBe("HTTP 401");
      expect(d2!.status).toBe("succeeded");
      expect(hits("denied")).toHaveLength(1);
    });

    it("halts the webhook for the rest of the run on 404; other runs go on", async () => {
      for (let i = 0; i < 12; i++) plans.set(`gone-${i}`, () => ({ status: 404, delayMs: 50 }));
      const run = await app.publish(
        Array.from({ length: 12 }, (_, i) => ({
          type: "signup",
          customer: { id: `gone-${i}`, email: `g${i}@example.com` },
        })),
      );
      const all = await Promise.all(run.events.map((e) => settled(e.deliveries[0]!.id)));
      expect(all.every((d) => d.status === "halted")).toBe(true);
      const sent = all.filter((d) => d.lastStatus === 404);
      // Only those already in flight when the first 404 came back were sent (concurrency 4).
      expect(sent.length).toBeGreaterThanOrEqual(1);
      expect(sent.length).toBeLessThanOrEqual(4);
      expect(all.filter((d) => d.reason?.startsWith("run halted")).length).toBe(12 - sent.length);
      const next = await settled(await publish("after-halt"));
      expect(next.status).toBe("succeeded");
    });

    it("fails a json body that renders to invalid JSON, naming the position, and sends nothing", async () => {
      const before = sink.requests.length;
      const id = await publish("x", "broken");
      const d = await settled(id);
      expect(d.status).toBe("failed");
      expect(d.reason).toMatch(/^render: body: rendered json does not parse at line 1, column \d+/);
      expect(sink.requests.filter((r) => r.url.includes("/broken"))).toHaveLength(0);
      expect(sink.requests.length).toBe(before);
      const [a] = await app.store.listAttempts(id);
      expect(a!.errorClass).toBe("render");
    });

    it("sends no credentials outside the endpoint prefix: the delivery fails with a scope error", async () => {
      const id = await publish("x", "outside");
      const d = await settled(id);
      expect(d.status).toBe("failed");
      expect(d.reason).toContain("crm");
      expect(sink.requests.filter((r) => r.url.includes("/api/v2"))).toHaveLength(0);
      expect((await app.store.listAttempts(id))[0]!.errorClass).toBe("scope");
    });

    it("creates no second delivery for an event sent again with its id", async () => {
      const first = await app.publish({
        id: "evt-dup",
        type: "signup",
        customer: { id: "dup", email: "dup@example.com" },
      });
      const again = await app.publish({
        id: "evt-dup",
        type: "signup",
        customer: { id: "dup", email: "dup@example.com" },
      });
      expect(first.events[0]!.deliveries).toHaveLength(1);
      expect(again.events[0]!.deliveries).toHaveLength(0);
      await settled(first.events[0]!.deliveries[0]!.id);
      expect(
        (await app.store.listDeliveries({ webhook: "contact" })).filter((d) => d.eventId === "evt-dup"),
      ).toHaveLength(1);
    });

    it("keeps the password out of attempts and logs", async () => {
      const deliveries = await app.store.listDeliveries({ limit: 1000 });
      for (const d of deliveries) {
        const text = JSON.stringify(await app.store.listAttempts(d.id));
        expect(text).not.toContain("p@ss:wörd");
        expect(text).not.toContain(Buffer.from("jürgen:p@ss:wörd").toString("base64"));
      }
      expect(app.logs.join("\n")).not.toContain("p@ss:wörd");
    });
  });
}
