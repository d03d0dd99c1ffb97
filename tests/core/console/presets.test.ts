import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { BUILTIN_PRESETS } from "../../../core/config/builtin-presets.ts";
import { mustache } from "../../../plugins/mustache/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

const customer = { id: "c-1", email: "ann@example.com" };
// The request the Slack preset's own test (tests/core/config/builtin-presets.test.ts) checks.
const slackParams = {
  text: 'Signup: <&> "quoted"',
  blocks: [{ type: "section", text: { type: "mrkdwn", text: "*New*" } }],
};

for (const kind of storeKinds) {
  describe(`a webhook from a preset through the admin API on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await app.fetch(
        new Request(`http://h${path}`, {
          method,
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
      const text = await r.text();
      return { status: r.status, json: text ? JSON.parse(text) : undefined };
    };
    const delivered = async (path: string) =>
      eventually(() => sink.requests.find((r) => r.url === path), 15_000, `a request to ${path}`);

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink(() => ({ status: 200, body: "ok" }));
      app = await testApp(
        `engine: { allowNetworks: ["127.0.0.1/32"], pollInterval: 20ms }
presets:
  team-slack: { extends: slack, params: { text: "From the team preset" } }
  house-json: { method: PUT, body: '{"who": <%= json(it.customer.id) %>}' }
`,
        driver,
        { plugins: [mustache()] },
      );
      await app.start();
    });
    afterAll(async () => {
      await app.stop(0);
      await sink.close();
      await driver.dispose();
    });

    it("creates a webhook that extends a built-in Eta preset, and it sends the preset's Slack request", async () => {
      const put = await call("PUT", "/v1/webhooks/signup-alert", {
        extends: "slack",
        url: `${sink.url}/services/T000/B000/XXXX`,
        params: slackParams,
        events: ["signup"],
      });
      expect(put.status).toBe(200);
      await app.publish({ type: "signup", customer });
      const r = await delivered("/services/T000/B000/XXXX");
      expect(r.method).toBe("POST");
      expect(r.headers["content-type"]).toBe("application/json");
      expect(JSON.parse(r.body)).toEqual(slackParams);
    });

    it("takes a config preset that extends a built-in, and a config preset's own Eta templates", async () => {
      expect(
        (
          await call("PUT", "/v1/webhooks/team-alert", {
            extends: "team-slack",
            url: `${sink.url}/services/team`,
            events: ["team"],
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await call("PUT", "/v1/webhooks/house", {
            extends: "house-json",
            url: `${sink.url}/house/1`,
            events: ["team"],
          })
        ).status,
      ).toBe(200);
      await app.publish({ type: "team", customer });
      expect(JSON.parse((await delivered("/services/team")).body)).toEqual({ text: "From the team preset" });
      const house = await delivered("/house/1");
      expect({ method: house.method, body: JSON.parse(house.body) }).toEqual({
        method: "PUT",
        body: { who: "c-1" },
      });
    });

    it("takes an exported preset webhook back: merged, without extends, its templates still the preset's", async () => {
      const { body, engine, format } = BUILTIN_PRESETS.slack!.fields;
      const put = await call("PUT", "/v1/webhooks/imported", {
        url: `${sink.url}/services/imported`,
        body,
        engine,
        format,
        params: { text: "again" },
      });
      expect(put.status).toBe(200);
    });

    it("refuses a template the request writes itself with a code engine, naming the field", async () => {
      const url = `${sink.url}/services/x`;
      const refused = [
        [{ extends: "slack", url, body: '{"text": <%= json(it.customer.email) %>}' }, "body"],
        [{ extends: "slack", url, body: '{"text": "plain"}' }, "body"],
        [{ extends: "slack", url: `<%= "${sink.url}/services/x" %>` }, "url"],
        [{ extends: "slack", url, headers: { "X-Who": "<%= it.customer.id %>" } }, "headers.X-Who"],
        [{ extends: "cm-sms", integration: "none", batch: { size: 5, item: "<%= 1 %>" } }, "batch.item"],
        [{ url, body: "{}" }, "body"],
      ] as const;
      for (const [body, path] of refused) {
        const r = await call("PUT", "/v1/webhooks/evil", body);
        expect({ path, status: r.status }).toEqual({ path, status: 403 });
        expect(r.json.error).toContain("runs templates as code");
        expect(r.json.issues?.[0]?.path ?? r.json.details?.issues?.[0]?.path).toBe(path);
      }
      expect((await call("GET", "/v1/webhooks/evil")).status).toBe(404);
    });

    it("takes the preset's templates overridden with an interpreted engine", async () => {
      const put = await call("PUT", "/v1/webhooks/mustache-alert", {
        extends: "slack",
        engine: "mustache",
        url: `${sink.url}/services/mustache`,
        body: '{"text": "hi {{customer.id}}"}',
        events: ["mustache"],
      });
      expect(put.status).toBe(200);
      await app.publish({ type: "mustache", customer });
      expect(JSON.parse((await delivered("/services/mustache")).body)).toEqual({ text: "hi c-1" });
    });

    it("says what a built-in preset still needs (a required param, its integration)", async () => {
      const r = await call("PUT", "/v1/webhooks/sms", { extends: "twilio-sms", params: { from: "+1555" } });
      expect(r.status).toBe(400);
      expect(r.json.error).toContain('preset "twilio-sms" needs param "accountSid"');
      const unknown = await call("PUT", "/v1/webhooks/sms", {
        extends: "slak",
        url: "https://x.example.com",
      });
      expect(unknown.status).toBe(400);
      expect(unknown.json.error).toContain('unknown preset "slak"');
      expect(unknown.json.error).toContain("built-in preset: slack");
    });
  });
}
