import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { SqlDriver } from "../../../../core/contracts/store.ts";
import { inbound } from "../../../../plugins/inbound/index.ts";
import { eventually, testApp } from "../../../support/app.ts";
import { storeKinds } from "../../../support/db.ts";
import { type Sink, startSink } from "../../../support/http-sink.ts";
import { writeProfiles } from "../../../support/segments.ts";

const KEY = "crm-key-4b9d27e1";

const config = (sink: string) => `
engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
webhooks:
  offer: { url: "${sink}/offer/<%= it.customer.id %>" }
  receipt: { url: "${sink}/receipt/<%= it.customer.id %>" }
  upgrade: { url: "${sink}/upgrade/<%= it.customer.id %>" }
segments:
  vip: { filter: { property: tier, equals: gold } }
  churn-risk: { filter: { property: orders, lt: 2 } }
  mailable: { filter: { consent: [marketing-email] } }
triggers:
  - { events: [purchase], segments: [vip, churn-risk], webhooks: [offer] }
  - { events: [purchase], webhooks: [receipt] }
  - { kind: profile-change, properties: [tier], segments: [vip], webhooks: [upgrade] }
  - { events: [newsletter], segments: [mailable], webhooks: [offer] }
inbound:
  endpoints:
    crm:
      kind: profile-update
      auth: { kind: apiKey, keys: ["${KEY}"] }
      identifier: { property: email }
      mappings: [{ from: $.tier, to: tier }]
`;

/** The driver, counting the statements that ask who is in which segment. */
function counting(driver: SqlDriver): SqlDriver & { audienceQueries: number } {
  const counted = {
    ...driver,
    audienceQueries: 0,
    query<T>(text: string, params?: unknown[]) {
      if (text.includes("hookline_profile_identifiers i WHERE i.property = 'id'")) counted.audienceQueries++;
      return driver.query<T>(text, params);
    },
  };
  return counted;
}

for (const kind of storeKinds) {
  describe(`triggers restricted to segments on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<typeof kind.open>>;
    let sql: ReturnType<typeof counting>;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink(() => ({ status: 200 }));
      sql = counting(driver);
      app = await testApp(config(sink.url), sql, { plugins: [inbound()] });
      await app.start();
      await writeProfiles(driver, [
        { id: "gold", properties: { tier: "gold", orders: 9 } },
        { id: "new", properties: { tier: "silver", orders: 1 } },
        { id: "both", properties: { tier: "gold", orders: 0 } },
        {
          id: "plain",
          properties: { tier: "silver", orders: 7 },
          consents: { "marketing-email": { granted: true } },
        },
        { id: "withdrawn", properties: {}, consents: { "marketing-email": { granted: false } } },
        { id: "prof_ext", properties: { tier: "gold", email: "ext@example.com" } },
      ]);
      await driver.query(
        `INSERT INTO hookline_profile_identifiers (property, value, profile_id)
         VALUES ('id', 'crm-7', 'prof_ext'), ('email', 'ext@example.com', 'prof_ext')`,
      );
    });
    afterAll(async () => {
      await app.stop(1_000);
      await sink.close();
      await driver.dispose();
    });

    it("fires for customers in at least one of the segments only, in one publish of mixed customers, with one question", async () => {
      const customers = ["gold", "new", "both", "plain", "crm-7", "nobody"];
      const before = sql.audienceQueries;
      const r = await app.fetch(
        new Request("http://h/v1/events", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            events: [
              ...customers.map((id) => ({ id: `buy-${id}`, type: "purchase", customer: { id } })),
              { id: "buy-anonymous", type: "purchase" },
            ],
          }),
        }),
      );
      expect(r.status).toBe(202);
      const { events } = (await r.json()) as {
        events: Array<{ id: string; deliveries: Array<{ webhook: string }> }>;
      };
      const fired = Object.fromEntries(events.map((e) => [e.id, e.deliveries.map((d) => d.webhook).sort()]));
      expect(fired).toEqual({
        "buy-gold": ["offer", "receipt"],
        "buy-new": ["offer", "receipt"],
        "buy-both": ["offer", "receipt"],
        "buy-plain": ["receipt"],
        // A customer id that is a profile's `id` identifier is that profile.
        "buy-crm-7": ["offer", "receipt"],
        "buy-nobody": ["receipt"],
        "buy-anonymous": ["receipt"],
      });
      expect(sql.audienceQueries - before).toBe(1);
      await eventually(() => sink.requests.some((q) => q.url === "/offer/crm-7"), 15_000, "crm-7's offer");
    });

    it("reads consents for a segment of consents", async () => {
      const r = await app.fetch(
        new Request("http://h/v1/events", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            events: ["plain", "withdrawn", "gold"].map((id) => ({
              id: `news-${id}`,
              type: "newsletter",
              customer: { id },
            })),
          }),
        }),
      );
      const { events } = (await r.json()) as { events: Array<{ id: string; deliveries: unknown[] }> };
      expect(events.map((e) => [e.id, e.deliveries.length])).toEqual([
        ["news-plain", 1],
        ["news-withdrawn", 0],
        ["news-gold", 0],
      ]);
    });

    it("asks nothing when no event matches a restricted trigger", async () => {
      const before = sql.audienceQueries;
      const r = await app.fetch(
        new Request("http://h/v1/events", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ id: "visit-1", type: "page.view", customer: { id: "gold" } }),
        }),
      );
      expect(r.status).toBe(202);
      expect(sql.audienceQueries - before).toBe(0);
    });

    it("restricts a profile-change trigger to the profiles in its segment after the change", async () => {
      const update = async (tier: string) => {
        const r = await app.fetch(
          new Request("http://h/in/crm?email=ext%40example.com", {
            method: "POST",
            body: JSON.stringify({ tier }),
            headers: { "content-type": "application/json", "x-api-key": KEY },
          }),
        );
        expect(r.status).toBe(200);
      };
      const upgrades = async () => {
        const r = await app.fetch(new Request("http://h/v1/deliveries?webhook=upgrade"));
        return ((await r.json()) as { deliveries: unknown[] }).deliveries.length;
      };
      await update("silver");
      expect(await upgrades()).toBe(0);
      await update("gold");
      expect(await upgrades()).toBe(1);
      await update("platinum");
      expect(await upgrades()).toBe(1);
    });
  });
}

describe("a trigger restricted to segments without a plugin that keeps them", () => {
  it("is refused at start-up, naming the trigger", async () => {
    const driver = await storeKinds[0]!.open();
    try {
      const yaml = `
webhooks: { w: { url: "https://example.com/x" } }
triggers:
  - { events: [signup], webhooks: [w] }
  - { events: [purchase], segments: [vip], webhooks: [w] }
`;
      const e = (await testApp(yaml, driver).catch((x) => x)) as Error;
      expect(e).toBeInstanceOf(Error);
      expect(e.message).toContain("triggers[1] names segments (vip)");
    } finally {
      await driver.dispose();
    }
  });
});
