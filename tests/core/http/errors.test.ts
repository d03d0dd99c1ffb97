import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Plugin } from "../../../core/contracts/plugin.ts";
import { Tokens } from "../../../core/tokens.ts";
import { activityCallbacks } from "../../../plugins/activity-callbacks/index.ts";
import { velocity } from "../../../plugins/velocity/index.ts";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { outageDriver } from "../../support/outage.ts";
import { type ServedApp, serveApp } from "../../support/serve-app.ts";

const TOKEN = "admin-token-for-error-tests-0123456789";
const SECRET_KEY = btoa("k".repeat(32));

const yaml = `
engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
webhooks:
  contact:
    url: http://127.0.0.1:9/api/contacts
    body: '{"email": <%= json(it.customer.email) %>}'
triggers:
  - { kind: event, events: [signup], webhooks: [contact] }
`;

/** A plugin route that fails the way a bug would: an Error, and a thrown value that is not one. */
const faultyRoutes: Plugin = {
  name: "faulty-routes",
  register(c) {
    c.register(Tokens.HttpRoutes, {
      useValue: {
        name: "faulty",
        mount(http) {
          http.get("/v1/faulty/error", () => {
            throw new Error("kaboom at depth");
          });
          http.get("/v1/faulty/value", () => {
            throw "a string, not an Error";
          });
          http.get("/plugin/faulty", () => {
            throw new TypeError("undefined is not a function");
          });
          // A route refusing with its own Response, as the inbound receivers do.
          http.get(
            "/plugin/own",
            () =>
              new Response('{"success":false}', {
                status: 422,
                headers: { "content-type": "application/json" },
              }),
          );
        },
      },
    });
  },
};

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  json: Record<string, any> | undefined;
}

/** Expects the documented error shape: `{ error, requestId, ... }`, the id also in `X-Request-Id`. */
function expectErrorShape(a: Answer) {
  expect(a.json).toBeDefined();
  expect(typeof a.json!.error).toBe("string");
  expect(a.json!.error.length).toBeGreaterThan(0);
  expect(typeof a.json!.requestId).toBe("string");
  expect(a.headers.get("x-request-id")).toBe(a.json!.requestId);
}

for (const kind of storeKinds) {
  describe(`HTTP error answers on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
    let app: Awaited<ReturnType<typeof testApp>>;
    let served: ServedApp;
    const call = async (
      method: string,
      path: string,
      body?: string,
      headers: Record<string, string> = { "content-type": "application/json" },
      token: string | null = TOKEN,
    ): Promise<Answer> => {
      const r = await fetch(`${served.url}${path}`, {
        method,
        headers: { ...headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body,
      });
      const text = await r.text();
      let json: Record<string, any> | undefined;
      try {
        json = JSON.parse(text);
      } catch {}
      return { status: r.status, headers: r.headers, text, json };
    };

    beforeAll(async () => {
      driver = await kind.open();
      app = await testApp(yaml, driver, {
        adminToken: TOKEN,
        env: { HOOKLINE_SECRET_KEY: SECRET_KEY },
        plugins: [velocity(), activityCallbacks(), faultyRoutes],
      });
      await app.start();
      served = await serveApp(app);
    });
    afterAll(async () => {
      await served.close();
      await app.stop(0);
      await driver.dispose();
    });

    it("answers an unexpected error with 500 in the documented shape, logged with the same request id", async () => {
      for (const path of ["/v1/faulty/error", "/v1/faulty/value", "/plugin/faulty"]) {
        const a = await call("GET", path);
        expect(a.status).toBe(500);
        expectErrorShape(a);
        expect(a.json!.error).toBe("internal error");
        expect(a.text).not.toContain("kaboom"); // the cause is logged, not shown
        const logged = app.logs.find((l) => l.includes(a.json!.requestId));
        expect(logged).toBeDefined();
        expect(JSON.parse(logged!)).toMatchObject({ level: "error", path, requestId: a.json!.requestId });
      }
      expect(app.logs.some((l) => l.includes("kaboom at depth"))).toBe(true);
    });

    it("keeps a sane incoming X-Request-Id, and makes a new one for a missing or unsafe one", async () => {
      const kept = await call("GET", "/v1/deliveries/00000000-0000-4000-8000-000000000000", undefined, {
        "x-request-id": "trace-42.abc:def",
      });
      expect(kept.status).toBe(404);
      expectErrorShape(kept);
      expect(kept.json!.requestId).toBe("trace-42.abc:def");
      // A plugin route's own error Response carries the id too.
      const own = await call("GET", "/plugin/own", undefined, { "x-request-id": "trace-43" });
      expect([own.status, own.headers.get("x-request-id")]).toEqual([422, "trace-43"]);
      for (const unsafe of ["has space", "x".repeat(200), 'quote"d', "<script>"]) {
        const a = await call("GET", "/v1/nowhere", undefined, { "x-request-id": unsafe });
        expect(a.status).toBe(404);
        expectErrorShape(a);
        expect(a.json!.requestId).not.toBe(unsafe);
        expect(a.json!.requestId).toMatch(/^[0-9a-f-]{36}$/);
      }
      const ok = await call("GET", "/healthz", undefined, {});
      expect(ok.status).toBe(200);
      expect(ok.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    });

    it("answers the admin token refusal, an unknown route and an unknown thing with { error, requestId }", async () => {
      const refused = await call("GET", "/v1/deliveries", undefined, {}, null);
      expect(refused.status).toBe(401);
      expect(refused.headers.get("www-authenticate")).toBe("Bearer");
      expectErrorShape(refused);
      for (const [method, path] of [
        ["GET", "/no/such/route"],
        ["GET", "/v1/webhooks/nope"],
        ["POST", "/v1/webhooks/nope/test"],
        ["DELETE", "/v1/integrations/nope"],
        ["DELETE", "/v1/policies/nope"],
        ["GET", "/v1/subscribers/nope"],
        ["GET", "/oauth/callback/nope"],
      ] as const) {
        const a = await call(method, path);
        expect([method, path, a.status]).toEqual([method, path, 404]);
        expectErrorShape(a);
      }
    });

    it("refuses a body that is not JSON with 400, and one sent as another content type with 415, naming the problem", async () => {
      const broken = await call("POST", "/v1/events", '{"type": "signup"');
      expect(broken.status).toBe(400);
      expectErrorShape(broken);
      expect(broken.json!.error).toContain("not valid JSON");
      const form = await call("POST", "/v1/events", '{"type":"signup"}', {
        "content-type": "application/x-www-form-urlencoded",
      });
      expect(form.status).toBe(415);
      expectErrorShape(form);
      expect(form.json!.error).toContain("application/json");
      expect(form.json!.error).toContain("application/x-www-form-urlencoded");
      const xml = await call("PUT", "/v1/policies/p", "<policy/>", { "content-type": "application/xml" });
      expect(xml.status).toBe(415);
      // What fetch sends for a string body (text/plain) and a +json type are JSON.
      expect(
        (await call("POST", "/v1/events", '{"type":"signup"}', { "content-type": "text/plain" })).status,
      ).toBe(202);
      expect(
        (
          await call("PUT", "/v1/policies/p", '{"concurrency":2}', {
            "content-type": "application/merge-patch+json",
          })
        ).status,
      ).toBe(200);
    });

    it("refuses U+0000 in any body string or key with 400 naming where, not 503 or 500 from the store", async () => {
      const cases: Array<[string, string, unknown, string]> = [
        [
          "POST",
          "/v1/events",
          { type: "signup", customer: { id: "c1", email: "a\u0000b" } },
          "customer.email",
        ],
        ["POST", "/v1/events", { type: "signup", data: { "k\u0000": 1 } }, "data"],
        [
          "PUT",
          "/v1/integrations/crm",
          { kind: "basic", endpointPrefix: "https://crm.example.com/", username: "a\u0000", password: "p" },
          "username",
        ],
        [
          "PUT",
          "/v1/webhooks/v",
          { engine: "velocity", url: "http://127.0.0.1:9/", body: "x\u0000" },
          "body",
        ],
        [
          "POST",
          "/v1/activities",
          [
            {
              activityStatus: "DELIVERED",
              activityDateTime: "2024-05-01T10:00:00",
              contactId: 7,
              email: "\u0000",
            },
          ],
          "0.email",
        ],
      ];
      for (const [method, path, body, where] of cases) {
        const a = await call(method, path, JSON.stringify(body));
        expect([path, a.status]).toEqual([path, 400]);
        expectErrorShape(a);
        expect(a.json!.error).toContain("U+0000");
        expect(a.json!.error).toContain(where);
      }
    });

    it("refuses a lone surrogate in any body string or key with 400 naming where, not 5xx from the store", async () => {
      // JSON.stringify writes a lone surrogate as a \u escape; JSON.parse gives it back as one.
      const cases: Array<[string, string, unknown, string]> = [
        [
          "POST",
          "/v1/events",
          { type: "signup", customer: { id: "c1", email: "a\ud800b" } },
          "customer.email",
        ],
        ["POST", "/v1/events", { type: "signup", data: { "k\udc00": 1 } }, "data"],
        [
          "PUT",
          "/v1/webhooks/v",
          { engine: "velocity", url: "http://127.0.0.1:9/", body: "x\udbff" },
          "body",
        ],
      ];
      for (const [method, path, body, where] of cases) {
        const a = await call(method, path, JSON.stringify(body));
        expect([path, a.status]).toEqual([path, 400]);
        expectErrorShape(a);
        expect(a.json!.error).toContain("lone surrogate");
        expect(a.json!.error).toContain(where);
      }
    });

    it("refuses a body nested deeper than 64 levels with 400 naming the path, and one over 16 MiB with 413", async () => {
      const deep = `{"type":"signup","data":${'{"a":'.repeat(200)}1${"}".repeat(200)}}`;
      const a = await call("POST", "/v1/events", deep);
      expect(a.status).toBe(400);
      expectErrorShape(a);
      expect(a.json!.error).toContain("deeper than 64");
      expect(a.json!.error).toContain("data.a.a");
      const huge = await call(
        "POST",
        "/v1/events",
        `{"type":"signup","data":{"s":"${"x".repeat(17 << 20)}"}}`,
      );
      expect(huge.status).toBe(413);
      expectErrorShape(huge);
    });

    it("refuses %00 in a path or query parameter with 400, not 503 from the store", async () => {
      for (const [method, path, body] of [
        ["PUT", "/v1/policies/p%00x", '{"concurrency":3}'],
        ["DELETE", "/v1/policies/p%00x", undefined],
        ["GET", "/v1/deliveries?webhook=a%00b", undefined],
        ["GET", "/v1/subscribers/s%00", undefined],
        ["GET", "/oauth/callback/x%00?code=1", undefined],
      ] as const) {
        const a = await call(method, path, body);
        expect([path, a.status]).toEqual([path, 400]);
        expectErrorShape(a);
        expect(a.json!.error).toContain("%00");
      }
    });

    it("refuses a limit that is not a whole number from 1 to 1000, and a since that is not a date-time, naming the parameter", async () => {
      for (const q of [
        "limit=1e3",
        "limit=0x10",
        "limit=%20",
        "limit=2.5",
        "limit=0",
        "limit=1001",
        "limit=-1",
      ]) {
        const a = await call("GET", `/v1/deliveries?${q}`);
        expect([q, a.status]).toEqual([q, 400]);
        expectErrorShape(a);
        expect(a.json!.issues).toEqual([{ path: "limit", message: "a whole number from 1 to 1000" }]);
      }
      for (const q of ["since=yesterday", "until=2024-02-30T00:00:00Z", "since=1714557600"]) {
        const a = await call("GET", `/v1/deliveries?${q}`);
        expect([q, a.status]).toEqual([q, 400]);
        expect(a.json!.issues[0].path).toBe(q.split("=")[0]);
        expect(a.json!.issues[0].message).toContain("ISO 8601");
      }
      expect((await call("GET", "/v1/deliveries?limit=1000&since=2024-05-01T10:00:00Z")).status).toBe(200);
    });

    it("names the fields of a sample event that does not fit, instead of dumping zod's JSON", async () => {
      const a = await call("POST", "/v1/webhooks/contact/test", JSON.stringify({ event: { type: 5 } }));
      expect(a.status).toBe(400);
      expectErrorShape(a);
      expect(a.json!.issues).toEqual([expect.objectContaining({ path: "type" })]);
      expect(a.json!.error).not.toContain("{");
    });
  });
}

describe("HTTP error answers in a store outage", () => {
  it("answers 503 in the documented shape with a request id, on core and managed routes alike", async () => {
    const kind = storeKinds[0]!;
    const driver = await outageDriver(() => kind.open());
    const app = await testApp(yaml, driver, {
      env: { HOOKLINE_SECRET_KEY: SECRET_KEY },
      plugins: [velocity()],
    });
    await app.start();
    const served = await serveApp(app);
    try {
      await driver.stop();
      for (const [method, path, body] of [
        ["POST", "/v1/events", '{"type":"signup"}'],
        ["GET", "/v1/deliveries", undefined],
        ["GET", "/v1/policies", undefined],
        ["PUT", "/v1/webhooks/v", '{"engine":"velocity","url":"http://127.0.0.1:9/","body":"x"}'],
      ] as const) {
        const r = await fetch(`${served.url}${path}`, {
          method,
          body,
          headers: { "content-type": "application/json" },
        });
        const json = (await r.json()) as Record<string, string>;
        expect([path, r.status]).toEqual([path, 503]);
        expect(json.error).toContain("store unavailable");
        expect(json.requestId).toBe(r.headers.get("x-request-id")!);
        expect(app.logs.some((l) => l.includes(json.requestId!))).toBe(true);
      }
      // Liveness stays 200 (the process answers); readiness names the store, with the request id.
      expect((await fetch(`${served.url}/healthz`)).status).toBe(200);
      const ready = await fetch(`${served.url}/readyz`);
      expect(ready.status).toBe(503);
      const body = (await ready.json()) as { status: string; failed: string[]; requestId: string };
      expect(body.status).toBe("not ready");
      expect(body.failed).toContain("store");
      expect(body.requestId).toBe(ready.headers.get("x-request-id")!);
    } finally {
      await served.close();
      await app.stop(0);
      await driver.close();
    }
  });
});
