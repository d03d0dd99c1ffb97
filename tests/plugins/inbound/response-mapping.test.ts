import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { createHookline } from "../../../core/app.ts";
import { eta } from "../../../plugins/eta/index.ts";
import { findProfileId, inbound, readProfile, readTimeline } from "../../../plugins/inbound/index.ts";
import { eventually, testApp, useDriver } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

const config = (sink: string) => `
engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"], retry: { delays: [30ms], jitter: 0 } }
webhooks:
  crm-create:
    url: ${sink}/contacts
    body: '{"email": <%= json(it.customer.email) %>}'
    response:
      profile: { match: email, create: true }
      mapping:
        - { from: $.id, to: crm_id }
        - { from: $.segment, to: segment, mode: set-if-empty }
        - { from: "$.tags[*]", to: tags, mode: add-to-list }
        - { from: $.points, to: points, mode: sum }
  crm-score:
    url: ${sink}/score
    response: { mapping: [{ from: $.score, to: score }] }
  crm-text:
    url: ${sink}/text
    response: { mapping: [{ from: $.id, to: crm_id }] }
  crm-down:
    url: ${sink}/down
    response: { mapping: [{ from: $.id, to: crm_id }] }
  welcome-gold:
    url: ${sink}/gold
    body: '{"segment": <%= json(it.event.data.segment) %>, "cause": <%= json(it.event.data.cause) %>, "email": <%= json(it.customer.email) %>}'
  on-change:
    url: ${sink}/changed
    body: '{"changed": <%= json(it.event.data.changed) %>, "crm_id": <%= json(it.customer.crm_id) %>, "via": <%= json(it.event.data.webhook) %>}'
triggers:
  - { events: [signup], webhooks: [crm-create] }
  - { events: [score], webhooks: [crm-score] }
  - { events: [text], webhooks: [crm-text] }
  - { events: [down], webhooks: [crm-down] }
  - { kind: profile-change, properties: [crm_id], webhooks: [on-change] }
  - { kind: segment-entered, segment: gold, webhooks: [welcome-gold] }
segments:
  gold: { filter: { property: segment, equals: gold } }
`;

for (const kind of storeKinds) {
  describe(`response mapping on ${kind.name}`, () => {
    let driver: Driver;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;
    let created = 0;

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink((req) => {
        if (req.url === "/contacts") {
          created++;
          return {
            status: 200,
            body: JSON.stringify({
              id: "crm-42",
              segment: created === 1 ? "gold" : "silver",
              tags: created === 1 ? ["a", "b"] : ["b", "c"],
              points: 5,
            }),
          };
        }
        if (req.url === "/score") return { status: 200, body: '{"score": 0.93}' };
        if (req.url === "/text") return { status: 200, body: "created crm-7" };
        if (req.url === "/down") return { status: 500, body: '{"id": "never"}' };
        return { status: 200, body: "{}" };
      });
      app = await testApp(config(sink.url), driver, { plugins: [inbound()] });
      await app.start();
    });
    afterAll(async () => {
      await app.stop(1_000);
      await sink.close();
      await driver.dispose();
    });

    const settled = (ids: string[]) =>
      eventually(async () => {
        const ds = await Promise.all(ids.map((id) => app.store.getDelivery(id)));
        return ds.every((d) => d && !["pending", "in_flight"].includes(d.status)) ? ds : undefined;
      });

    it("copies response values into the customer's profile with each mode, once per success", async () => {
      const first = await app.publish({
        type: "signup",
        customer: { id: "c1", email: "ada@example.com" },
      });
      await settled([first.events[0]!.deliveries[0]!.id]);
      const id = await findProfileId(app.store.sql, "email", "ada@example.com");
      expect(id).toBeDefined();
      expect((await readProfile(app.store.sql, id!))!.properties).toEqual({
        email: "ada@example.com",
        crm_id: "crm-42",
        segment: "gold",
        tags: ["a", "b"],
        points: 5,
      });

      const second = await app.publish({
        type: "signup",
        customer: { id: "c1", email: "ada@example.com" },
      });
      await settled([second.events[0]!.deliveries[0]!.id]);
      // set keeps crm-42, set-if-empty keeps gold, add-to-list adds only c, sum adds 5 once.
      expect((await readProfile(app.store.sql, id!))!.properties).toEqual({
        email: "ada@example.com",
        crm_id: "crm-42",
        segment: "gold",
        tags: ["a", "b", "c"],
        points: 10,
      });
      const timeline = await readTimeline(app.store.sql, id!, 10);
      expect(timeline.filter((t) => t.type === "webhook.response")).toHaveLength(2);
      expect(timeline[0]!.data).toMatchObject({ webhook: "crm-create", changed: ["tags", "points"] });
      expect(timeline[0]!.endpoint).toBe("webhook:crm-create");
    });

    it("fires the profile-change trigger when a mapped property changed value", async () => {
      const changed = await eventually(
        () => sink.requests.find((r) => r.url === "/changed"),
        10_000,
        "the profile-change webhook",
      );
      expect(JSON.parse(changed.body)).toEqual({
        changed: ["email", "crm_id", "segment", "tags", "points"],
        crm_id: "crm-42",
        via: "crm-create",
      });
      // The second mapping changed tags and points, not crm_id: no second call.
      await new Promise((r) => setTimeout(r, 200));
      expect(sink.requests.filter((r) => r.url === "/changed")).toHaveLength(1);
    });

    it("fires segment-entered when a mapped property brings the profile into a segment, once", async () => {
      // The first mapping set segment: gold (the profile was made by it, so it was in no segment before).
      const entered = await eventually(
        () => sink.requests.find((r) => r.url === "/gold"),
        10_000,
        "the segment-entered webhook",
      );
      expect(JSON.parse(entered.body)).toEqual({
        segment: "gold",
        cause: { type: "webhook.response", webhook: "crm-create" },
        email: "ada@example.com",
      });
      // The second mapping left it in the segment: no second entry.
      await new Promise((r) => setTimeout(r, 200));
      expect(sink.requests.filter((r) => r.url === "/gold")).toHaveLength(1);
    });

    it("finds the profile by the customer id when the webhook matches by id", async () => {
      const id = (await findProfileId(app.store.sql, "email", "ada@example.com"))!;
      const r = await app.publish({ type: "score", customer: { id } });
      await settled([r.events[0]!.deliveries[0]!.id]);
      expect((await readProfile(app.store.sql, id))!.properties.score).toBe(0.93);
    });

    it("maps nothing from a response that is not JSON, a failed delivery, or an unknown customer", async () => {
      const id = (await findProfileId(app.store.sql, "email", "ada@example.com"))!;
      const before = (await readProfile(app.store.sql, id))!.properties;
      const text = await app.publish({ type: "text", customer: { id } });
      const down = await app.publish({ type: "down", customer: { id } });
      const stranger = await app.publish({ type: "score", customer: { id: "prof_nobody" } });
      const [t, d, s] = await settled([text, down, stranger].map((x) => x.events[0]!.deliveries[0]!.id));
      expect(t!.status).toBe("succeeded");
      expect(d!.status).toBe("failed");
      expect(s!.status).toBe("succeeded");
      expect((await readProfile(app.store.sql, id))!.properties).toEqual(before);
      // The mapping runs after the result is recorded: its lines may follow the status by a moment.
      await eventually(
        () => app.logs.some((l) => /"response_mapping\.skipped".*the response is not JSON/.test(l)),
        5_000,
        "the text response's skip logged",
      );
      await eventually(
        () => app.logs.some((l) => l.includes('no profile has id = \\"prof_nobody\\"')),
        5_000,
        "the unknown customer's skip logged",
      );
    });
  });
}

describe("response mapping without profiles", () => {
  it("is refused at load, naming the webhook and the line, when no plugin keeps profiles", async () => {
    const driver = await storeKinds[0]!.open();
    try {
      const yaml = `webhooks:
  crm:
    url: https://crm.example.com/contacts
    response:
      mapping: [{ from: $.id, to: crm_id }]
`;
      const attempt = createHookline({
        config: { text: yaml, file: "hookline.yaml" },
        plugins: [eta(), useDriver(driver)],
        migrate: false,
      });
      await expect(attempt).rejects.toThrow(/hookline\.yaml:5:\d+.*webhooks\.crm\.response\.mapping/s);
      await expect(attempt).rejects.toThrow(/add the inbound plugin/);
    } finally {
      await driver.dispose();
    }
  });
});
