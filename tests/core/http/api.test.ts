import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

const TOKEN = "admin-token-for-tests-0123456789";
const SECRET = "sk_live_distinctive_Secret_42";

const yaml = (sink: string) => `
engine:
  pollInterval: 20ms
  retry: { delays: [20ms], jitter: 0 }
  allowNetworks: ["127.0.0.1/32"]
integrations:
  crm:
    kind: headers
    endpointPrefix: ${sink}/api
    headers:
      - { name: Authorization, value: "Bearer \${CRM_TOKEN}" }
      - { name: X-Client, value: hookline, secret: false }
webhooks:
  contact:
    url: ${sink}/api/contacts
    integration: crm
    params: { list: main }
    body: '{"email": <%= json(it.customer.email) %>, "list": <%= json(it.params.list) %>}'
    sample: { customer: { id: s-1, email: sample@example.com } }
  gone:
    url: ${sink}/api/gone
    body: '{}'
triggers:
  - { kind: event, events: [signup], webhooks: [contact] }
  - { kind: event, events: [bye], webhooks: [gone] }
`;

for (const kind of storeKinds) {
  describe(`HTTP API on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;
    const call = (method: string, path: string, body?: unknown, token: string | null = TOKEN) =>
      app.fetch(
        new Request(`http://hookline.test${path}`, {
          method,
          headers: {
            "content-type": "application/json",
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
        }),
      );

    beforeAll(async () => {
      driver = await kind.open();
      // The sink echoes the Authorization header back, as some APIs do: it must not reach an answer.
      sink = await startSink((req) =>
        req.url.includes("/gone")
          ? { status: 410 }
          : { status: 200, body: JSON.stringify({ echoed: req.headers.authorization }) },
      );
      app = await testApp(yaml(sink.url), driver, { env: { CRM_TOKEN: SECRET }, adminToken: TOKEN });
      await app.start();
    });
    afterAll(async () => {
      await app.stop(1_000);
      await sink.close();
      await driver.dispose();
    });

    it("answers /healthz without a token", async () => {
      const r = await call("GET", "/healthz", undefined, null);
      expect(r.status).toBe(200);
      expect((await r.json()).status).toBe("ok");
    });

    it("refuses the admin API without the bearer token, or with a wrong one", async () => {
      expect((await call("GET", "/v1/deliveries", undefined, null)).status).toBe(401);
      expect((await call("GET", "/v1/deliveries", undefined, "wrong")).status).toBe(401);
      expect((await call("POST", "/v1/events", { type: "signup" }, null)).status).toBe(401);
    });

    it("accepts an event with 202 once its deliveries are stored, and they arrive", async () => {
      const r = await call("POST", "/v1/events", {
        type: "signup",
        customer: { id: "c1", email: "c1@example.com" },
      });
      expect(r.status).toBe(202);
      const body = await r.json();
      expect(body.events[0].deliveries).toHaveLength(1);
      const id = body.events[0].deliveries[0].id;
      expect(await app.store.getDelivery(id)).toBeDefined();
      await eventually(async () => (await app.store.getDelivery(id))?.status === "succeeded");
      expect(sink.requests.at(-1)!.headers.authorization).toBe(`Bearer ${SECRET}`);
    });

    it("accepts a batch of events in one call", async () => {
      const events = Array.from({ length: 25 }, (_, i) => ({
        type: "signup",
        customer: { id: `b${i}`, email: `b${i}@example.com` },
      }));
      const r = await call("POST", "/v1/events", { events });
      expect(r.status).toBe(202);
      expect((await r.json()).events).toHaveLength(25);
    });

    it("answers 400 with the zod issues for a malformed event, and stores nothing", async () => {
      const before = (await app.store.listDeliveries({ limit: 1000 })).length;
      const notJson = await call("POST", "/v1/events", "{not json");
      expect(notJson.status).toBe(400);
      expect((await notJson.json()).error).toContain("not valid JSON");
      const bad = await call("POST", "/v1/events", { type: 42, customer: { email: "x" }, surprise: true });
      expect(bad.status).toBe(400);
      const issues = (await bad.json()).issues as Array<{ path: string }>;
      expect(issues.map((i) => i.path)).toEqual(expect.arrayContaining(["type", "customer.id"]));
      const tooMany = await call("POST", "/v1/events", {
        events: Array.from({ length: 1001 }, () => ({ type: "signup" })),
      });
      expect(tooMany.status).toBe(400);
      expect((await app.store.listDeliveries({ limit: 1000 })).length).toBe(before);
    });

    it("lists deliveries filtered by webhook and status, and shows one with its attempts, credentials redacted", async () => {
      const r = await call("POST", "/v1/events", {
        type: "bye",
        customer: { id: "c2", email: "c2@example.com" },
      });
      const id = (await r.json()).events[0].deliveries[0].id;
      await eventually(async () => (await app.store.getDelivery(id))?.status === "halted");
      const list = await (await call("GET", "/v1/deliveries?webhook=gone&status=halted")).json();
      expect(list.deliveries.map((d: { id: string }) => d.id)).toContain(id);
      expect(list.deliveries.every((d: { webhook: string }) => d.webhook === "gone")).toBe(true);
      expect((await call("GET", "/v1/deliveries?status=nonsense")).status).toBe(400);

      const contact = (
        await (await call("GET", "/v1/deliveries?webhook=contact&status=succeeded&limit=1")).json()
      ).deliveries[0];
      const shown = await call("GET", `/v1/deliveries/${contact.id}`);
      expect(shown.status).toBe(200);
      const text = await shown.text();
      const detail = JSON.parse(text);
      expect(detail.attempts[0].status).toBe(200);
      expect(detail.attempts[0].request.headers.authorization).toBe("[redacted]");
      expect(text).not.toContain(SECRET);
      expect(text).toContain("[REDACTED]"); // the echoed header in the response body
    });

    it("keeps a successful attempt's body as its size and hash, and renders the full request again on demand", async () => {
      const r = await call("POST", "/v1/events", {
        type: "signup",
        customer: { id: "c-slim", email: "slim-é@example.com" },
      });
      const id = (await r.json()).events[0].deliveries[0].id;
      await eventually(async () => (await app.store.getDelivery(id))?.status === "succeeded");
      const sent = sink.requests.find((q) => q.body.includes("slim-é@example.com"))!;
      const [attempt] = await app.store.listAttempts(id);
      expect(attempt!.request.body).toBeUndefined();
      expect(attempt!.request.bodyBytes).toBe(new TextEncoder().encode(sent.body).length);
      expect(attempt!.request.bodyHash).toMatch(/^cyrb53:[0-9a-f]{14}$/);
      expect(attempt!.request.headers.authorization).toBe("[redacted]");

      const again = await call("GET", `/v1/deliveries/${id}/request`);
      expect(again.status).toBe(200);
      const text = await again.text();
      const shown = JSON.parse(text);
      expect(shown.request.body).toBe(sent.body);
      expect(shown.request.url).toBe(`${sink.url}/api/contacts`);
      expect(shown.request.headers["idempotency-key"]).toBe(sent.headers["idempotency-key"]);
      expect(shown.rerendered).toBe(true);
      expect(shown.matchesRecorded).toBe(true);
      expect(text).not.toContain(SECRET);

      // Another delivery's hash does not match this one's body.
      const other = await call("POST", "/v1/events", {
        type: "signup",
        customer: { id: "c-o", email: "o@x.io" },
      });
      const otherId = (await other.json()).events[0].deliveries[0].id;
      await eventually(async () => (await app.store.getDelivery(otherId))?.status === "succeeded");
      expect((await app.store.listAttempts(otherId))[0]!.request.bodyHash).not.toBe(
        attempt!.request.bodyHash,
      );
      expect((await call("GET", "/v1/deliveries/00000000-0000-4000-8000-000000000000/request")).status).toBe(
        404,
      );
    });

    it("matches a body past the record's 64 KB cap against its hash, rendered again", async () => {
      const email = `${"l".repeat(70_000)}@example.com`;
      const r = await call("POST", "/v1/events", { type: "signup", customer: { id: "c-long", email } });
      const id = (await r.json()).events[0].deliveries[0].id;
      await eventually(async () => (await app.store.getDelivery(id))?.status === "succeeded");
      const [attempt] = await app.store.listAttempts(id);
      expect(attempt!.request.bodyBytes).toBeGreaterThan(65_536);
      const shown = await (await call("GET", `/v1/deliveries/${id}/request`)).json();
      expect(shown.request.body.length).toBe(65_536);
      expect(shown.matchesRecorded).toBe(true);
    });

    it("keeps the whole body of an attempt that did not succeed", async () => {
      const r = await call("POST", "/v1/events", {
        type: "bye",
        customer: { id: "c-gone", email: "g@x.io" },
      });
      const id = (await r.json()).events[0].deliveries[0].id;
      await eventually(async () => (await app.store.getDelivery(id))?.status === "halted");
      const [attempt] = await app.store.listAttempts(id);
      expect(attempt!.status).toBe(410);
      expect(attempt!.request.body).toBe("{}");
      expect(attempt!.request.bodyHash).toBeUndefined();
      const shown = await (await call("GET", `/v1/deliveries/${id}/request`)).json();
      expect(shown.request.body).toBe("{}");
      expect(shown.matchesRecorded).toBe(true);
    });

    it("answers 404 for an unknown delivery", async () => {
      expect((await call("GET", "/v1/deliveries/00000000-0000-4000-8000-000000000000")).status).toBe(404);
      expect((await call("GET", "/v1/deliveries/not-an-id")).status).toBe(404);
      expect((await call("POST", "/v1/deliveries/00000000-0000-4000-8000-000000000000/retry")).status).toBe(
        404,
      );
    });

    it("retries a finished delivery on request, as a run of its own that the old halt does not hold back", async () => {
      const halted = (await (await call("GET", "/v1/deliveries?webhook=gone&status=halted&limit=1")).json())
        .deliveries[0];
      const before = sink.requests.filter((r) => r.url.includes("/gone")).length;
      const r = await call("POST", `/v1/deliveries/${halted.id}/retry`);
      expect(r.status).toBe(202);
      await eventually(() => sink.requests.filter((q) => q.url.includes("/gone")).length === before + 1);
      await eventually(async () => (await app.store.getDelivery(halted.id))?.status === "halted");
      expect((await app.store.listAttempts(halted.id)).length).toBe(2);
    });

    it("test-renders a webhook with sample data, without sending", async () => {
      const before = sink.requests.length;
      const r = await call("POST", "/v1/webhooks/contact/test", {});
      expect(r.status).toBe(200);
      const body = await r.json();
      expect(body.request.method).toBe("POST");
      expect(body.request.url).toBe(`${sink.url}/api/contacts`);
      expect(JSON.parse(body.request.body)).toEqual({ email: "sample@example.com", list: "main" });
      expect(body.request.headers.authorization).toBe("[redacted]");
      expect(body.params).toEqual({ list: "main" });
      expect(sink.requests.length).toBe(before);
    });

    it("test-sends a webhook with given data and returns the response, secrets removed", async () => {
      const r = await call("POST", "/v1/webhooks/contact/test", {
        customer: { id: "t", email: "t@example.com" },
        params: { list: "vip" },
        send: true,
      });
      const text = await r.text();
      const body = JSON.parse(text);
      expect(body.response.status).toBe(200);
      expect(JSON.parse(sink.requests.at(-1)!.body)).toEqual({ email: "t@example.com", list: "vip" });
      expect(text).not.toContain(SECRET);
    });

    it("answers 404 for an unknown webhook", async () => {
      expect((await call("POST", "/v1/webhooks/nope/test", {})).status).toBe(404);
      expect((await call("GET", "/v1/webhooks/nope")).status).toBe(404);
    });

    it("keeps the secret out of every log line", () => {
      expect(app.logs.join("\n")).not.toContain(SECRET);
    });
  });
}

describe("store outage", () => {
  it("answers 503 to events and accepts nothing it cannot keep", async () => {
    const kind = storeKinds[storeKinds.length - 1]!;
    const driver = await kind.open();
    const app = await testApp(yaml("http://127.0.0.1:9"), driver, { env: { CRM_TOKEN: SECRET } });
    const ok = await app.fetch(
      new Request("http://h/v1/events", { method: "POST", body: JSON.stringify({ type: "signup" }) }),
    );
    expect(ok.status).toBe(202);
    await driver.dispose(); // the database goes away
    const r = await app.fetch(
      new Request("http://h/v1/events", { method: "POST", body: JSON.stringify({ type: "signup" }) }),
    );
    expect(r.status).toBe(503);
    // Liveness stays up; readiness names the store.
    expect((await app.fetch(new Request("http://h/healthz"))).status).toBe(200);
    const ready = await app.fetch(new Request("http://h/readyz"));
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { failed: string[] }).failed).toContain("store");
    await app.stop(0);
  });
});
