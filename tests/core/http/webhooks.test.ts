import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mustache } from "../../../plugins/mustache/index.ts";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";

const yaml = `
presets:
  crm:
    method: PUT
    url: https://crm.example.com/api/contacts/<%= it.customer.id %>
    headers: { X-Source: "<%= it.params.source %>" }
    params: { source: hookline }
  crm-mustache:
    engine: mustache
    method: PATCH
    headers: { X-Source: "{{params.source}}" }
    params: { source: api }
webhooks:
  contact:
    extends: crm
    body: '{"list": <%= json(it.params.list) %>, "campaign": <%= json(it.params.campaign) %>}'
    params: { list: main, legacy: 1 }
`;

for (const kind of storeKinds) {
  describe(`webhooks through the HTTP API on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
    let app: Awaited<ReturnType<typeof testApp>>;
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await app.fetch(
        new Request(`http://h${path}`, {
          method,
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
      return { status: r.status, json: (await r.json()) as Record<string, any> };
    };

    beforeAll(async () => {
      driver = await kind.open();
      app = await testApp(yaml, driver, { plugins: [mustache()] });
    });
    afterAll(async () => {
      await app.stop(0);
      await driver.dispose();
    });

    it("shows a webhook merged with its preset, with the parameters its templates use", async () => {
      const r = await call("GET", "/v1/webhooks/contact");
      expect(r.status).toBe(200);
      expect(r.json).toMatchObject({
        name: "contact",
        extends: "crm",
        method: "PUT",
        headers: { "X-Source": "<%= it.params.source %>" },
        params: { source: "hookline", list: "main", legacy: 1 },
      });
      expect(r.json.parameters).toEqual([
        { name: "source", default: "hookline", usedIn: ["headers.X-Source"] },
        { name: "list", default: "main", usedIn: ["body"] },
        { name: "legacy", default: 1, usedIn: [], unused: true },
        { name: "campaign", usedIn: ["body"] },
      ]);
    });

    it("takes a webhook that extends a config preset through the admin API, storing it merged", async () => {
      const put = await call("PUT", "/v1/webhooks/from-api", {
        extends: "crm-mustache",
        url: "https://crm.example.com/api/{{customer.id}}",
        headers: { "X-Team": "{{params.team}}" },
      });
      expect(put.status).toBe(200);
      expect(put.json).toMatchObject({
        method: "PATCH",
        engine: "mustache",
        headers: { "X-Source": "{{params.source}}", "X-Team": "{{params.team}}" },
        params: { source: "api" },
      });
      expect(put.json.parameters).toEqual([
        { name: "source", default: "api", usedIn: ["headers.X-Source"] },
        { name: "team", usedIn: ["headers.X-Team"] },
      ]);
      const [row] = await driver.query<{ spec: Record<string, unknown> }>(
        "SELECT spec FROM hookline_managed WHERE kind = 'webhook' AND name = 'from-api'",
      );
      expect(row!.spec).toMatchObject({ method: "PATCH", params: { source: "api" } });
    });

    it("refuses a webhook that extends an unknown preset, naming the known ones", async () => {
      const r = await call("PUT", "/v1/webhooks/nope", { extends: "crn", url: "https://x.example.com" });
      expect(r.status).toBe(400);
      expect(r.json.error).toBe(
        'unknown preset "crn"; expected one of: crm, crm-mustache (or a built-in preset: slack, teams, teams-messagecard, zapier, twilio-sms, whatsapp, cm-sms, rest-json)',
      );
      expect((await call("GET", "/v1/webhooks/nope")).status).toBe(404);
    });

    it("exports webhooks merged with their presets and without extends, so that they stand alone", async () => {
      const r = await call("GET", "/v1/export");
      expect(r.status).toBe(200);
      for (const name of ["contact", "from-api"]) expect(r.json.webhooks[name]).not.toHaveProperty("extends");
      expect(r.json.webhooks.contact).toMatchObject({
        method: "PUT",
        params: { source: "hookline", list: "main" },
      });
      expect(r.json.webhooks["from-api"]).toMatchObject({
        method: "PATCH",
        headers: { "X-Source": "{{params.source}}" },
      });
    });
  });
}
