import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { inbound } from "../../../../plugins/inbound/index.ts";
import { eventually, testApp } from "../../../support/app.ts";
import { storeKinds } from "../../../support/db.ts";
import { type Sink, startSink } from "../../../support/http-sink.ts";
import { profileTables } from "../../../support/segments.ts";

const KEY = "crm-key-7e51a0c3";

const config = (sink: string) => `
engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
webhooks:
  welcome-gold: &hook
    url: ${sink}/<%= it.event.type %>/<%= it.event.data.segment %>/<%= it.customer.id %>
    body: '{"tier": <%= json(it.customer.tier) %>, "segment": <%= json(it.event.data.segment) %>, "cause": <%= json(it.event.data.cause) %>}'
  bye-gold: *hook
  welcome-vip: *hook
  bye-vip: *hook
segments:
  gold: { filter: { property: tier, equals: gold } }
  vip:
    filter: { and: [{ property: tier, equals: gold }, { consent: [marketing-email] }] }
triggers:
  - { kind: segment-entered, segment: gold, webhooks: [welcome-gold] }
  - { kind: segment-exited, segment: gold, webhooks: [bye-gold] }
  - { kind: segment-entered, segment: vip, webhooks: [welcome-vip] }
  - { kind: segment-exited, segment: vip, webhooks: [bye-vip] }
inbound:
  endpoints:
    crm:
      kind: profile-update
      auth: { kind: apiKey, keys: ["${KEY}"] }
      identifier: { property: email }
      createProfiles: true
      mappings:
        - { from: $.tier, to: tier }
        - { from: $.name, to: name }
        - { from: $.newsletter, to: { consent: marketing-email } }
`;

for (const kind of storeKinds) {
  describe(`segment-entered and segment-exited triggers on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<typeof kind.open>>;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink(() => ({ status: 200 }));
      app = await testApp(config(sink.url), driver, { plugins: [inbound()] });
      await app.start();
    });
    afterAll(async () => {
      await app.stop(1_000);
      await sink.close();
      await driver.dispose();
    });

    const update = async (email: string, body: unknown, key?: string) => {
      const r = await app.fetch(
        new Request(`http://h/in/crm?email=${encodeURIComponent(email)}`, {
          method: "POST",
          body: JSON.stringify(body),
          headers: {
            "content-type": "application/json",
            "x-api-key": KEY,
            // Each request its own unless a replay is meant (equal bodies would be one by content).
            "idempotency-key": key ?? crypto.randomUUID(),
          },
        }),
      );
      expect(r.status).toBe(200);
      return ((await r.json()) as { result: { profileId: string } }).result.profileId;
    };
    const consents = async (id: string, granted: boolean) => {
      const r = await app.fetch(
        new Request(`http://h/v1/profiles/${id}/consents`, {
          method: "PUT",
          body: JSON.stringify({ consents: { "marketing-email": { granted } } }),
          headers: { "content-type": "application/json" },
        }),
      );
      expect(r.status).toBe(200);
    };
    // Deliveries are written before the update answers: counted at once, no waiting.
    const fired = async (webhook: string, customer?: string) => {
      const r = await app.fetch(new Request(`http://h/v1/deliveries?webhook=${webhook}&limit=1000`));
      const { deliveries } = (await r.json()) as { deliveries: Array<{ customerId?: string }> };
      return deliveries.filter((d) => customer === undefined || d.customerId === customer).length;
    };

    let ada = "";

    it("fires once per crossing: entered when an update brings a profile in, not while it stays, exited when it leaves", async () => {
      ada = await update("ada@example.com", { tier: "silver" });
      expect(await fired("welcome-gold", ada)).toBe(0);

      await update("ada@example.com", { tier: "gold" }, "ada-gold-1");
      expect(await fired("welcome-gold", ada)).toBe(1);
      // Changes that keep her inside, and a replay of the request that brought her in: nothing more.
      await update("ada@example.com", { tier: "gold", name: "Ada" });
      await update("ada@example.com", { name: "Ada Lovelace" });
      await update("ada@example.com", { tier: "gold" }, "ada-gold-1");
      expect(await fired("welcome-gold", ada)).toBe(1);
      expect(await fired("bye-gold", ada)).toBe(0);

      await update("ada@example.com", { tier: "silver" });
      expect(await fired("bye-gold", ada)).toBe(1);
      await update("ada@example.com", { name: "Ada L." });
      expect(await fired("bye-gold", ada)).toBe(1);

      await update("ada@example.com", { tier: "gold" });
      expect(await fired("welcome-gold", ada)).toBe(2);
      expect(await fired("bye-gold", ada)).toBe(1);
    });

    it("counts a profile created inside the segment as entering it", async () => {
      const bob = await update("bob@example.com", { tier: "gold" });
      expect(await fired("welcome-gold", bob)).toBe(1);
      const cy = await update("cy@example.com", { tier: "bronze" });
      expect(await fired("welcome-gold", cy)).toBe(0);
      expect(await fired("bye-gold", cy)).toBe(0);
    });

    it("moves a profile into and out of a consent segment when its consents change", async () => {
      expect(await fired("welcome-vip", ada)).toBe(0);
      await consents(ada, true);
      expect(await fired("welcome-vip", ada)).toBe(1);
      await consents(ada, true);
      expect(await fired("welcome-vip", ada)).toBe(1);
      await consents(ada, false);
      expect(await fired("bye-vip", ada)).toBe(1);
      // With consent given, a property update crosses the consent segment too.
      await consents(ada, true);
      expect(await fired("welcome-vip", ada)).toBe(2);
      await update("ada@example.com", { tier: "silver" });
      expect(await fired("bye-vip", ada)).toBe(2);
      expect(await fired("bye-gold", ada)).toBe(2);
    });

    it("crosses a consent segment when an inbound update maps a consent", async () => {
      const dee = await update("dee@example.com", { tier: "gold" });
      expect(await fired("welcome-vip", dee)).toBe(0);
      await update("dee@example.com", { newsletter: true });
      expect(await fired("welcome-vip", dee)).toBe(1);
      await update("dee@example.com", { newsletter: false });
      expect(await fired("bye-vip", dee)).toBe(1);
      expect(await fired("bye-gold", dee)).toBe(0);
    });

    it("sends the profile as the customer, with the segment and the cause in the event", async () => {
      const bob = (await update("bob@example.com", { name: "Bob" })) as string;
      const seen = await eventually(
        () => sink.requests.find((r) => r.url === `/segment.entered/gold/${bob}`),
        15_000,
        "bob's segment.entered webhook",
      );
      expect(JSON.parse(seen.body)).toEqual({
        tier: "gold",
        segment: "gold",
        cause: { type: "profile-update", endpoint: "crm" },
      });
    });
  });
}

describe("segment triggers at start-up", () => {
  it("refuses to start with a trigger naming a segment that is not defined, naming the trigger", async () => {
    const driver = await storeKinds[0]!.open();
    try {
      const yaml = `
webhooks: { w: { url: "https://example.com/x" } }
segments: { gold: { filter: { property: tier, equals: gold } } }
triggers:
  - { kind: segment-entered, segment: gold, webhooks: [w] }
  - { kind: segment-exited, segment: platinum, webhooks: [w] }
`;
      const app = await testApp(yaml, driver, { plugins: [inbound()] });
      const e = (await app.start().catch((x) => x)) as Error;
      await app.stop(1_000);
      expect(e).toBeInstanceOf(Error);
      expect(e.message).toContain('triggers[1] names segment "platinum"');
    } finally {
      await driver.dispose();
    }
  });

  it("takes a segment of the admin API, which then cannot be deleted while a trigger names it", async () => {
    const driver = await storeKinds[0]!.open();
    try {
      await profileTables(driver);
      await driver.query(
        `INSERT INTO hookline_segments (name, filter) VALUES ('platinum', '{"property":"tier","equals":"platinum"}'),
                                                             ('spare', '{"property":"tier","exists":true}')`,
      );
      const yaml = `
webhooks: { w: { url: "https://example.com/x" } }
triggers:
  - { events: [signup], webhooks: [w] }
  - { kind: segment-exited, segment: platinum, webhooks: [w] }
`;
      const app = await testApp(yaml, driver, { plugins: [inbound()] });
      try {
        await app.start();
        const named = await app.fetch(new Request("http://h/v1/segments/platinum", { method: "DELETE" }));
        expect(named.status).toBe(409);
        expect(((await named.json()) as { error: string }).error).toContain("triggers[1]");
        const spare = await app.fetch(new Request("http://h/v1/segments/spare", { method: "DELETE" }));
        expect(spare.status).toBe(204);
      } finally {
        await app.stop(1_000);
      }
    } finally {
      await driver.dispose();
    }
  });
});
