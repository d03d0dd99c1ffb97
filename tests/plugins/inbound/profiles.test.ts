import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { inbound, profileChangeTrigger } from "../../../plugins/inbound/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
const KEY = "crm-key-20b7f3aa";

const config = (sink: string) => `
engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"], retry: { delays: [50ms], jitter: 0 } }
webhooks:
  crm-sync:
    url: ${sink}/profiles/<%= it.customer.id %>
    body: '{"email": <%= json(it.customer.email) %>, "tier": <%= json(it.customer.tier) %>, "changed": <%= json(it.event.data.changed) %>}'
triggers:
  - { kind: profile-change, properties: [tier], webhooks: [crm-sync] }
inbound:
  endpoints:
    crm:
      kind: profile-update
      auth: { kind: apiKey, keys: ["${KEY}"] }
      identifier: { property: email }
      createProfiles: true
      mappings:
        - { from: $.name, to: name }
        - { from: $.tier, to: tier }
        - { from: $.source, to: firstSource, mode: set-if-empty }
        - { from: "$.interests[*]", to: interests, mode: add-to-list }
        - { from: $.order.total, to: lifetimeValue, mode: sum }
      timeline:
        - { type: order, date: $.order.date, fields: { total: $.order.total, sku: "$.order.items[*].sku" } }
        - { type: visit, fields: { page: $.page, seenAt: current date } }
    crm-form:
      kind: profile-update
      path: crm/form
      auth: { kind: apiKey, keys: ["${KEY}"] }
      identifier: { property: email, query: customer }
      mappings:
        - { from: name, to: name }
        - { from: points, to: points, mode: sum }
        - { from: tag, to: interests, mode: add-to-list }
    by-body:
      kind: profile-update
      auth: { kind: apiKey, keys: ["${KEY}"] }
      identifier: { property: customerId, from: $.id }
      createProfiles: true
      mappings: [{ from: $.city, to: city }]
`;

interface ProfileAnswer {
  success: boolean;
  result?: { profileId: string; created: boolean; changed: string[]; timeline: number };
  errors?: Array<{ code: string; description: string }>;
  replayed?: boolean;
}

for (const kind of storeKinds) {
  describe(`profile updates on ${kind.name}`, () => {
    let driver: Driver;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink(() => ({ status: 200, body: "{}" }));
      app = await testApp(config(sink.url), driver, { plugins: [inbound()] });
      await app.start();
    });
    afterAll(async () => {
      await app.stop(1_000);
      await sink.close();
      await driver.dispose();
    });

    const json = async (query: string, body: unknown, headers: Record<string, string> = {}) => {
      const r = await app.fetch(
        new Request(`http://h/in/crm?${query}`, {
          method: "POST",
          body: JSON.stringify(body),
          headers: { "content-type": "application/json", "x-api-key": KEY, ...headers },
        }),
      );
      return { status: r.status, body: (await r.json()) as ProfileAnswer };
    };
    const form = async (query: string, body: string, headers: Record<string, string> = {}) => {
      const r = await app.fetch(
        new Request(`http://h/in/crm/form?${query}`, {
          method: "POST",
          body,
          headers: { "content-type": "application/x-www-form-urlencoded", "x-api-key": KEY, ...headers },
        }),
      );
      return { status: r.status, body: (await r.json()) as ProfileAnswer };
    };
    const profile = async (id: string) => {
      const r = await app.fetch(new Request(`http://h/v1/profiles/${id}`));
      expect(r.status).toBe(200);
      return (await r.json()) as {
        profile: { properties: Record<string, unknown>; identifiers: unknown[] };
        timeline: Array<{ type: string; at: string; data: Record<string, unknown> }>;
      };
    };

    let adaId = "";

    it("creates a profile from a JSON body, mapping each mode, with timeline events (one at the current date)", async () => {
      const before = Date.now();
      const r = await json("email=ada%40example.com", {
        name: "Ada",
        tier: "gold",
        source: "ads",
        interests: ["math", "engines"],
        order: { total: 10, date: "2024-05-01T10:00:00Z", items: [{ sku: "A1" }, { sku: "B2" }] },
        page: "/home",
      });
      expect(r.status).toBe(200);
      expect(r.body.success).toBe(true);
      expect(r.body.result!.created).toBe(true);
      expect(r.body.result!.changed.sort()).toEqual([
        "email",
        "firstSource",
        "interests",
        "lifetimeValue",
        "name",
        "tier",
      ]);
      adaId = r.body.result!.profileId;
      const p = await profile(adaId);
      expect(p.profile.properties).toEqual({
        email: "ada@example.com",
        name: "Ada",
        tier: "gold",
        firstSource: "ads",
        interests: ["math", "engines"],
        lifetimeValue: 10,
      });
      expect(p.profile.identifiers).toEqual([{ property: "email", value: "ada@example.com" }]);
      const order = p.timeline.find((t) => t.type === "order")!;
      expect(order).toMatchObject({ at: "2024-05-01T10:00:00.000Z", data: { total: 10, sku: ["A1", "B2"] } });
      const visit = p.timeline.find((t) => t.type === "visit")!;
      expect(visit.data.page).toBe("/home");
      expect(Date.parse(String(visit.data.seenAt))).toBeGreaterThanOrEqual(before - 1000);
      expect(Date.parse(visit.at)).toBeGreaterThanOrEqual(before - 1000);
    });

    it("a change of a watched property fires the outbound webhook end to end; other changes do not", async () => {
      await eventually(() => sink.requests.length === 1, 15_000, "the first profile-change webhook");
      expect(sink.requests[0]!.url).toBe(`/profiles/${adaId}`);
      expect(JSON.parse(sink.requests[0]!.body)).toMatchObject({ email: "ada@example.com", tier: "gold" });

      // Same tier, set-if-empty on a filled property, a list add and a sum: no tier change, no webhook.
      const r = await json("email=ada%40example.com", {
        tier: "gold",
        source: "email",
        interests: ["engines", "poetry"],
        order: { total: 5.5 },
      });
      expect(r.body.result!.changed).toEqual(["interests", "lifetimeValue"]);
      const p = await profile(adaId);
      expect(p.profile.properties).toMatchObject({
        firstSource: "ads",
        interests: ["math", "engines", "poetry"],
        lifetimeValue: 15.5,
      });

      const up = await json("email=ada%40example.com", { tier: "platinum" });
      expect(up.body.result!.changed).toEqual(["tier"]);
      await eventually(() => sink.requests.length === 2, 15_000, "the second profile-change webhook");
      expect(JSON.parse(sink.requests[1]!.body)).toEqual({
        email: "ada@example.com",
        tier: "platinum",
        changed: ["tier"],
      });
      await new Promise((res) => setTimeout(res, 200));
      expect(sink.requests.length).toBe(2);
    });

    it("maps form fields by name into an existing profile (sum, add-to-list with repeated fields)", async () => {
      const r = await form("customer=ada%40example.com", "name=Ada+Lovelace&points=5&tag=x&tag=y");
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        success: true,
        result: { created: false, changed: ["name", "points", "interests"] },
      });
      await form("customer=ada%40example.com", "points=2.5");
      const p = await profile(adaId);
      expect(p.profile.properties).toMatchObject({
        name: "Ada Lovelace",
        points: 7.5,
        interests: ["math", "engines", "poetry", "x", "y"],
      });
    });

    it("answers a replayed update with the first answer and applies it once", async () => {
      const first = await form("customer=ada%40example.com", "points=100", { "idempotency-key": "upd-1" });
      const again = await form("customer=ada%40example.com", "points=100", { "idempotency-key": "upd-1" });
      expect(again.status).toBe(200);
      expect(again.body.replayed).toBe(true);
      expect(again.body.result).toEqual(first.body.result!);
      // Without an id, the same URL and body is a replay too (content hash).
      await form("customer=ada%40example.com", "points=1000");
      await form("customer=ada%40example.com", "points=1000");
      expect((await profile(adaId)).profile.properties.points).toBe(1107.5);
    });

    it("with createProfiles off, answers 200 with success false and creates nothing", async () => {
      const r = await form("customer=nobody%40example.com", "name=Nobody");
      expect(r.status).toBe(200);
      expect(r.body.success).toBe(false);
      expect(r.body.errors![0]!.code).toBe("HOOKLINE_PROFILE_NOT_FOUND");
      const look = await app.fetch(
        new Request("http://h/v1/profiles?property=email&value=nobody%40example.com"),
      );
      expect(look.status).toBe(404);
    });

    it("reports a per-item failure (a sum of text) with 200 and success false, applying the rest", async () => {
      const r = await form("customer=ada%40example.com", "points=many&name=Ada+K");
      expect(r.status).toBe(200);
      expect(r.body.success).toBe(false);
      expect(r.body.errors![0]!.code).toBe("HOOKLINE_MAPPING_NOT_A_NUMBER");
      expect((await profile(adaId)).profile.properties).toMatchObject({ name: "Ada K", points: 1107.5 });
    });

    it("takes the identifier from the body, and refuses (400) a request without one", async () => {
      const r = await app.fetch(
        new Request("http://h/in/by-body", {
          method: "POST",
          body: JSON.stringify({ id: 42, city: "London" }),
          headers: { "content-type": "application/json", "x-api-key": KEY },
        }),
      );
      const body = (await r.json()) as ProfileAnswer;
      expect(body.result!.created).toBe(true);
      expect((await profile(body.result!.profileId)).profile.properties).toEqual({
        customerId: "42",
        city: "London",
      });
      const missing = await json("", { name: "x" });
      expect(missing.status).toBe(400);
      expect(missing.body.errors![0]!.code).toBe("HOOKLINE_PROFILE_IDENTIFIER");
    });

    it("answers 415 to a body that is neither JSON nor a form, and 400 to a JSON array", async () => {
      const r = await app.fetch(
        new Request("http://h/in/crm?email=ada%40example.com", {
          method: "POST",
          body: "<x/>",
          headers: { "content-type": "application/xml", "x-api-key": KEY },
        }),
      );
      expect(r.status).toBe(415);
      expect((await json("email=ada%40example.com", [1, 2])).status).toBe(400);
    });

    it("adds up concurrent sums on one profile (the profile row is locked per update)", async () => {
      const before = Number((await profile(adaId)).profile.properties.points);
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          form("customer=ada%40example.com", "points=1", { "idempotency-key": `c-${i}` }),
        ),
      );
      expect(answers.every((a) => a.status === 200 && a.body.success)).toBe(true);
      expect((await profile(adaId)).profile.properties.points).toBe(before + 20);
    });

    it("creates one profile when several first updates for a new customer race", async () => {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) => json("email=race%40example.com", { interests: [`i${i}`] })),
      );
      const rows = await driver.query(
        "SELECT profile_id FROM hookline_profile_identifiers WHERE value = 'race@example.com'",
      );
      expect(rows.length).toBe(1);
      const n = await driver.query<{ n: unknown }>(
        "SELECT count(*) AS n FROM hookline_profiles WHERE properties->>'email' = 'race@example.com'",
      );
      expect(Number(n[0]!.n)).toBe(1);
      const look = (await (
        await app.fetch(new Request("http://h/v1/profiles?property=email&value=race%40example.com"))
      ).json()) as {
        profile: { properties: { interests: string[] } };
      };
      expect(look.profile.properties.interests.sort()).toEqual(
        Array.from({ length: 10 }, (_, i) => `i${i}`).sort(),
      );
    });
  });
}

describe("the profile-change trigger kind", () => {
  const event = (changed: string[], endpoint = "crm") => ({
    id: "e",
    type: "profile.changed",
    data: { changed, endpoint },
    timestamp: new Date().toISOString(),
  });
  it("matches profile.changed events naming a watched property, from the named endpoints", () => {
    const t = profileChangeTrigger.create(
      profileChangeTrigger.schema.parse({ properties: ["tier", "email"] }),
      { webhooks: ["w"] },
    );
    expect(t.matches!(event(["name", "tier"]))).toBe(true);
    expect(t.matches!(event(["name"]))).toBe(false);
    expect(t.matches!({ ...event(["tier"]), type: "activity.read" })).toBe(false);
    const any = profileChangeTrigger.create(profileChangeTrigger.schema.parse({ endpoints: ["crm"] }), {
      webhooks: ["w"],
    });
    expect(any.matches!(event(["x"]))).toBe(true);
    expect(any.matches!(event(["x"], "other"))).toBe(false);
    expect(any.matches!(event([]))).toBe(false);
  });
});
