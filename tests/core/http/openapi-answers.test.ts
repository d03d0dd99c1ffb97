import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { activityCallbacks } from "../../../plugins/activity-callbacks/index.ts";
import { inbound } from "../../../plugins/inbound/index.ts";
import { mustache } from "../../../plugins/mustache/index.ts";
import { oauth2 } from "../../../plugins/oauth2/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";
import { answerChecker, type OpenApiDoc } from "../../support/openapi.ts";
import { type ServedApp, serveApp } from "../../support/serve-app.ts";

const TOKEN = "admin-token-for-openapi-answers-0123456789";
const KEY = "inbound-key-0123456789";
const SECRET_KEY = btoa("s".repeat(32));

const yaml = (sink: string) => `
engine:
  pollInterval: 20ms
  retry: { delays: [20ms], jitter: 0 }
  allowNetworks: ["127.0.0.1/32"]
integrations:
  crm:
    kind: headers
    endpointPrefix: ${sink}/api
    headers: [{ name: Authorization, value: "Bearer crm-secret-0123" }]
    test: { method: GET, path: /ping }
webhooks:
  contact:
    url: ${sink}/api/contacts
    integration: crm
    body: '{"email": <%= json(it.customer.email) %>}'
  gone:
    url: ${sink}/gone
    body: '{}'
triggers:
  - { kind: event, events: [signup], webhooks: [contact] }
  - { kind: event, events: [bye], webhooks: [gone] }
inbound:
  endpoints:
    esputnik: { kind: activity-status, auth: { kind: apiKey, keys: ["${KEY}"] } }
    crm-in:
      kind: profile-update
      auth: { kind: apiKey, keys: ["${KEY}"] }
      identifier: { property: email }
      createProfiles: true
      mappings: [{ from: $.name, to: name }]
      timeline: [{ type: order, date: $.date, fields: { total: $.total } }]
`;

const activity = {
  iid: "oa-1",
  contactId: 7,
  email: "a@example.com",
  activityStatus: "DELIVERED",
  activityDateTime: "2024-05-01T10:00:00",
};

for (const kind of storeKinds) {
  describe(`every answer fits the OpenAPI document (${kind.name})`, () => {
    let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;
    let served: ServedApp;
    let checker: ReturnType<typeof answerChecker>;
    const problems: string[] = [];

    /** Sends a request to the real server and checks its answer against the document. */
    const call = async (
      method: string,
      path: string,
      options: { body?: unknown; token?: string | null; headers?: Record<string, string> } = {},
    ) => {
      const token = options.token === undefined ? TOKEN : options.token;
      const r = await fetch(`${served.url}${path}`, {
        method,
        headers: {
          ...(options.body !== undefined ? { "content-type": "application/json" } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...options.headers,
        },
        body:
          options.body === undefined
            ? undefined
            : typeof options.body === "string"
              ? options.body
              : JSON.stringify(options.body),
      });
      const type = r.headers.get("content-type") ?? "";
      const text = await r.text();
      const body = /json/.test(type) && text ? JSON.parse(text) : text;
      const { operation, problems: found } = checker.check(
        method,
        new URL(r.url).pathname,
        r.status,
        body,
        type,
        r.headers,
      );
      for (const p of found) problems.push(`${operation}: ${p}`);
      return { status: r.status, body };
    };

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink((req) =>
        req.url.includes("/gone") ? { status: 410 } : { status: 200, body: '{"ok":true}' },
      );
      app = await testApp(yaml(sink.url), driver, {
        adminToken: TOKEN,
        env: { HOOKLINE_SECRET_KEY: SECRET_KEY },
        plugins: [mustache(), inbound(), activityCallbacks({ pollInterval: 20 }), oauth2()],
      });
      await app.start();
      served = await serveApp(app);
      const doc = (await (await fetch(`${served.url}/openapi.json`)).json()) as OpenApiDoc;
      checker = answerChecker(doc);
    });
    afterAll(async () => {
      await app?.stop(1_000);
      await served?.close();
      await sink?.close();
      await driver?.dispose();
    });

    it("health, the document and the reference page", async () => {
      expect((await call("GET", "/healthz", { token: null })).status).toBe(200);
      expect((await call("GET", "/openapi.json", { token: null })).status).toBe(200);
      expect((await call("GET", "/docs", { token: null })).status).toBe(200);
      expect((await call("GET", "/docs/assets/swagger-ui.css", { token: null })).status).toBe(200);
      expect((await call("GET", "/docs/assets/nothing.js", { token: null })).status).toBe(404);
    });

    it("events and deliveries: successes and refusals", async () => {
      expect((await call("POST", "/v1/events", { body: { type: "signup" }, token: null })).status).toBe(401);
      expect((await call("POST", "/v1/events", { body: { nope: 1 } })).status).toBe(400);
      expect((await call("POST", "/v1/events", { body: "{not json" })).status).toBe(400);
      expect(
        (await call("POST", "/v1/events", { body: "<x/>", headers: { "content-type": "application/xml" } }))
          .status,
      ).toBe(415);
      const published = await call("POST", "/v1/events", {
        body: {
          events: [{ type: "signup", customer: { id: "c1", email: "c1@example.com" } }, { type: "bye" }],
        },
      });
      expect(published.status).toBe(202);
      const ids = (published.body as { events: Array<{ deliveries: Array<{ id: string }> }> }).events.flatMap(
        (e) => e.deliveries.map((d) => d.id),
      );
      expect(ids.length).toBe(2);
      await eventually(async () => {
        const list = await call("GET", "/v1/deliveries?limit=10");
        return (list.body as { deliveries: Array<{ status: string }> }).deliveries.every(
          (d) => d.status === "succeeded" || d.status === "halted" || d.status === "failed",
        );
      });
      expect((await call("GET", "/v1/deliveries?limit=abc")).status).toBe(400);
      expect((await call("GET", "/v1/deliveries?status=succeeded&webhook=contact")).status).toBe(200);
      for (const id of ids) {
        expect((await call("GET", `/v1/deliveries/${id}`)).status).toBe(200);
        expect((await call("GET", `/v1/deliveries/${id}/request`)).status).toBe(200);
        expect((await call("POST", `/v1/deliveries/${id}/retry`)).status).toBe(202);
      }
      expect((await call("POST", `/v1/deliveries/${ids[0]}/retry`)).status).toBeOneOf([202, 409]);
      const unknown = crypto.randomUUID();
      expect((await call("GET", `/v1/deliveries/${unknown}`)).status).toBe(404);
      expect((await call("GET", `/v1/deliveries/${unknown}/request`)).status).toBe(404);
      expect((await call("POST", `/v1/deliveries/${unknown}/retry`)).status).toBe(404);
      expect((await call("GET", "/v1/deliveries/x%00y")).status).toBe(400);
    });

    it("webhooks", async () => {
      expect((await call("GET", "/v1/webhooks")).status).toBe(200);
      expect((await call("GET", "/v1/webhooks/contact")).status).toBe(200);
      expect((await call("GET", "/v1/webhooks/none")).status).toBe(404);
      const put = await call("PUT", "/v1/webhooks/api-hook", {
        body: {
          url: `${sink.url}/api/hook`,
          integration: "crm",
          engine: "mustache",
          body: '{"a":"{{customer.id}}"}',
        },
      });
      expect(put).toMatchObject({ status: 200 });
      // Eta runs templates as code: the admin API refuses it (403).
      expect(
        (await call("PUT", "/v1/webhooks/eta-hook", { body: { url: `${sink.url}/api/x`, body: "{}" } }))
          .status,
      ).toBe(403);
      expect((await call("PUT", "/v1/webhooks/api-hook", { body: { url: 7 } })).status).toBe(400);
      expect((await call("POST", "/v1/webhooks/contact/test", { body: {} })).status).toBe(200);
      expect((await call("POST", "/v1/webhooks/contact/test", { body: { send: true } })).status).toBe(200);
      expect((await call("POST", "/v1/webhooks/contact/test", { body: { send: "yes" } })).status).toBe(400);
      expect((await call("POST", "/v1/webhooks/contact/resume")).status).toBe(409);
      expect((await call("DELETE", "/v1/webhooks/api-hook")).status).toBe(204);
      expect((await call("DELETE", "/v1/webhooks/contact")).status).toBeOneOf([404, 409]);
    });

    it("integrations, export and import, and the OAuth callback", async () => {
      expect((await call("GET", "/v1/integrations")).status).toBe(200);
      expect((await call("GET", "/v1/integrations/crm")).status).toBe(200);
      expect((await call("GET", "/v1/integrations/none")).status).toBe(404);
      expect((await call("POST", "/v1/integrations/crm/test")).status).toBe(200);
      expect((await call("POST", "/v1/integrations/crm/authorize")).status).toBe(400);
      const put = await call("PUT", "/v1/integrations/api-crm", {
        body: {
          kind: "headers",
          endpointPrefix: `${sink.url}/api`,
          headers: [{ name: "X-Key", value: "api-secret-0123" }],
        },
      });
      expect(put.status).toBe(200);
      expect((await call("PUT", "/v1/integrations/api-crm", { body: { kind: "nope" } })).status).toBe(400);
      expect((await call("POST", "/v1/integrations/api-crm/test")).status).toBe(400);
      const exported = await call("GET", "/v1/export");
      expect(exported.status).toBe(200);
      expect((await call("POST", "/v1/import", { body: exported.body })).status).toBe(200);
      expect((await call("DELETE", "/v1/integrations/api-crm")).status).toBe(204);
      expect((await call("GET", "/oauth/callback/crm?code=x&state=y", { token: null })).status).toBe(404);
    });

    it("policies", async () => {
      expect((await call("PUT", "/v1/policies/slow", { body: { concurrency: 2, rate: 5 } })).status).toBe(
        200,
      );
      expect((await call("PUT", "/v1/policies/slow", { body: { concurrency: 0 } })).status).toBe(400);
      expect((await call("GET", "/v1/policies")).status).toBe(200);
      expect((await call("DELETE", "/v1/policies/slow")).status).toBe(204);
      expect((await call("DELETE", "/v1/policies/slow")).status).toBe(404);
    });

    it("inbound receivers and their admin API", async () => {
      const headers = { "x-api-key": KEY };
      expect((await call("GET", "/in/esputnik", { token: null })).status).toBe(200);
      expect((await call("POST", "/in/esputnik", { token: null, body: [activity], headers })).status).toBe(
        200,
      );
      expect((await call("POST", "/in/esputnik", { token: null, body: [activity], headers })).status).toBe(
        200,
      );
      expect((await call("POST", "/in/esputnik", { token: null, body: [activity] })).status).toBe(401);
      expect((await call("POST", "/in/esputnik", { token: null, body: [{ iid: 1 }], headers })).status).toBe(
        400,
      );
      expect(
        (
          await call("POST", "/in/esputnik", {
            token: null,
            body: "a=b",
            headers: { ...headers, "content-type": "application/x-www-form-urlencoded" },
          })
        ).status,
      ).toBe(415);
      expect((await call("GET", "/in/crm-in", { token: null })).status).toBe(405);
      const update = { name: "Pat", date: "2024-05-01T10:00:00Z", total: 3 };
      expect(
        await call("POST", "/in/crm-in?email=p%40example.com", { token: null, body: update, headers }),
      ).toMatchObject({ status: 200 });
      expect((await call("POST", "/in/crm-in", { token: null, body: { name: "x" }, headers })).status).toBe(
        400,
      );
      expect((await call("POST", "/in/nowhere", { token: null, body: [], headers })).status).toBe(404);

      expect((await call("GET", "/v1/inbound")).status).toBe(200);
      expect((await call("GET", "/v1/inbound/esputnik")).status).toBe(200);
      expect((await call("GET", "/v1/inbound/none")).status).toBe(404);
      expect((await call("GET", "/v1/inbound/esputnik/activities?limit=5")).status).toBe(200);
      const endpoint = { kind: "activity-status", auth: { kind: "apiKey", keys: ["api-key-0123456789"] } };
      expect((await call("PUT", "/v1/inbound/api-in", { body: endpoint })).status).toBe(201);
      expect((await call("PUT", "/v1/inbound/api-in", { body: endpoint })).status).toBe(200);
      expect((await call("PUT", "/v1/inbound/api-in", { body: { kind: "nope" } })).status).toBe(400);
      expect((await call("DELETE", "/v1/inbound/esputnik")).status).toBe(409);
      expect((await call("DELETE", "/v1/inbound/api-in")).status).toBe(204);
      expect((await call("DELETE", "/v1/inbound/api-in")).status).toBe(404);

      const found = await call("GET", "/v1/profiles?property=email&value=p%40example.com");
      expect(found.status).toBe(200);
      const id = (found.body as { profile: { id: string } }).profile.id;
      expect((await call("GET", `/v1/profiles/${id}`)).status).toBe(200);
      expect((await call("GET", "/v1/profiles?property=email")).status).toBe(400);
      expect((await call("GET", "/v1/profiles?property=email&value=none%40example.com")).status).toBe(404);
      expect((await call("GET", `/v1/profiles/${crypto.randomUUID()}`)).status).toBe(404);
    });

    it("activity-status subscribers", async () => {
      expect((await call("POST", "/v1/activities", { body: [activity] })).status).toBe(202);
      expect((await call("POST", "/v1/activities", { body: [{ activityStatus: "NOPE" }] })).status).toBe(400);
      const subscriber = { url: `${sink.url}/callbacks` };
      expect((await call("PUT", "/v1/subscribers/partner", { body: subscriber })).status).toBe(201);
      expect((await call("PUT", "/v1/subscribers/partner", { body: { url: "nope" } })).status).toBe(400);
      expect((await call("GET", "/v1/subscribers")).status).toBe(200);
      expect((await call("GET", "/v1/subscribers/partner")).status).toBe(200);
      expect((await call("GET", "/v1/subscribers/none")).status).toBe(404);
      expect((await call("DELETE", "/v1/subscribers/partner")).status).toBe(204);
      expect((await call("DELETE", "/v1/subscribers/partner")).status).toBe(404);
    });

    it("no route answers outside the document", () => {
      expect(problems).toEqual([]);
      // The answers checked cover successes and refusals alike, on every route family.
      expect(checker.seen.size).toBeGreaterThan(60);
      for (const status of [200, 201, 202, 204, 400, 401, 404, 405, 409, 415])
        expect([...checker.seen].some((s) => s.endsWith(` ${status}`))).toBe(true);
    });
  });
}
