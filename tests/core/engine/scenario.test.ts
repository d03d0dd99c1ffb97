import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { jinja } from "../../../plugins/jinja/index.ts";
import { velocity } from "../../../plugins/velocity/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

for (const kind of storeKinds) {
  describe(`scenarios (webhook steps that see earlier responses) on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink((req) => {
        if (req.url.startsWith("/lookup/broken")) return { status: 500 };
        if (req.url.startsWith("/lookup"))
          return {
            status: 200,
            body: JSON.stringify({ promocode: "SPRING-10", contacts: [{ id: "123.0" }] }),
          };
        if (req.url === "/sms") return { status: 200, body: JSON.stringify({ ref: "R-2", sent: true }) };
        if (req.url === "/text") return { status: 200, body: "plain words" };
        return { status: 200 };
      });
      app = await testApp(
        `
engine: { pollInterval: 20ms, retry: { delays: [20ms], jitter: 0 }, allowNetworks: ["127.0.0.1/32"] }
webhooks:
  lookup:
    method: GET
    url: ${sink.url}/lookup/<%= it.customer.id %>
    next: sms
  sms:
    engine: velocity
    url: ${sink.url}/sms
    body: '{"code": "$data.get(''lookup'').get(''promocode'')", "contact": $!mathTool.toInteger($data.lookup.contacts.get(0).id)}'
    next: note
  note:
    engine: jinja
    url: ${sink.url}/note
    body: '{"last": "{{ webhook.ref }}", "first": "{{ webhook(1).promocode }}", "by_id": "{{ webhook.by_action_id(''lookup'').data.promocode }}"}'
    next: eta-step
  eta-step:
    url: ${sink.url}/text
    body: '{"first": <%= json(it.webhooks.lookup.promocode) %>, "second": <%= json(it.webhooks[1].ref) %>}'
    response: { format: text }
    next: after-text
  after-text:
    engine: jinja
    url: ${sink.url}/after-text
    body: '{"text": "{{ webhook.data }}"}'
triggers:
  - { kind: event, events: [signup], webhooks: [lookup] }
`,
        driver,
        { plugins: [velocity(), jinja()] },
      );
      await app.start();
    });
    afterAll(async () => {
      await app.stop(1_000);
      await sink.close();
      await driver.dispose();
    });

    const body = (url: string) => JSON.parse(sink.requests.find((r) => r.url === url)!.body);

    it("runs the steps in order, each seeing earlier responses in its engine's idiom", async () => {
      await app.publish({ type: "signup", customer: { id: "c1" } });
      await eventually(() => sink.requests.some((r) => r.url === "/after-text"), 20_000, "the last step");
      const order = sink.requests.map((r) => r.url.split("/")[1]);
      expect(order).toEqual(["lookup", "sms", "note", "text", "after-text"]);
      // eSputnik's Velocity forms, verbatim.
      expect(body("/sms")).toEqual({ code: "SPRING-10", contact: 123 });
      // Bloomreach's three Jinja forms, verbatim.
      expect(body("/note")).toEqual({ last: "R-2", first: "SPRING-10", by_id: "SPRING-10" });
      // Eta by action id and by position.
      expect(body("/text")).toEqual({ first: "SPRING-10", second: "R-2" });
      // A text response is `webhook.data`.
      expect(body("/after-text")).toEqual({ text: "plain words" });
      const steps = await eventually(async () => {
        const all = await app.store.listDeliveries({ limit: 10 });
        return all.every((d) => d.status === "succeeded") ? all : undefined;
      });
      expect(steps).toHaveLength(5);
      expect(new Set(steps.map((d) => d.eventId)).size).toBe(1);
    });

    it("does not go on after a step that failed", async () => {
      const r = await app.publish({ type: "signup", customer: { id: "broken" } });
      const id = r.events[0]!.deliveries[0]!.id;
      const d = await eventually(async () => {
        const x = await app.store.getDelivery(id);
        return x?.status === "failed" ? x : undefined;
      });
      expect(d.reason).toBe("gave up after 4 attempts; last: HTTP 500");
      const later = await app.store.listDeliveries({ limit: 100 });
      expect(later.filter((x) => x.eventId === d.eventId).map((x) => x.webhook)).toEqual(["lookup"]);
    });

    const test = async (body: unknown) => {
      const r = await app.fetch(
        new Request("http://h/v1/webhooks/lookup/test", { method: "POST", body: JSON.stringify(body) }),
      );
      return { status: r.status, body: (await r.json()) as Record<string, any> };
    };

    it("previews every step of a scenario, later ones rendered with the sample responses given", async () => {
      const before = sink.requests.length;
      const { status, body } = await test({
        customer: { id: "c7" },
        responses: { lookup: { promocode: "PREVIEW-1", contacts: [{ id: "9" }] }, sms: { ref: "R-9" } },
      });
      expect(status).toBe(200);
      expect(sink.requests.length).toBe(before);
      expect(body.steps.map((s: { webhook: string }) => s.webhook)).toEqual([
        "lookup",
        "sms",
        "note",
        "eta-step",
        "after-text",
      ]);
      expect(body.request.url).toBe(`${sink.url}/lookup/c7`);
      expect(JSON.parse(body.steps[1].request.body)).toEqual({ code: "PREVIEW-1", contact: 9 });
      expect(JSON.parse(body.steps[2].request.body)).toEqual({
        last: "R-9",
        first: "PREVIEW-1",
        by_id: "PREVIEW-1",
      });
    });

    it("with send, sends each step with the real responses before it, and stops at one that fails", async () => {
      const sent = await test({ customer: { id: "c8" }, send: true });
      expect(sent.status).toBe(200);
      expect(sent.body.steps.map((s: { response: { status: number } }) => s.response.status)).toEqual([
        200, 200, 200, 200, 200,
      ]);
      expect(JSON.parse(sent.body.steps[1].request.body)).toEqual({ code: "SPRING-10", contact: 123 });
      expect(sent.body.steps[4].request.body).toBe('{"text": "plain words"}');

      const broken = await test({ customer: { id: "broken" }, send: true });
      expect(broken.body.steps).toHaveLength(1);
      expect(broken.body.response.status).toBe(500);
      expect(broken.body.stopped).toBe('step "lookup" did not succeed (HTTP 500)');
    });
  });
}
