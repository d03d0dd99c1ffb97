import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { ConsentCheck } from "../../../core/contracts/consent.ts";
import type { Plugin } from "../../../core/contracts/plugin.ts";
import { Tokens } from "../../../core/tokens.ts";
import { consentCheck } from "../../../plugins/inbound/consent-check.ts";
import { inbound } from "../../../plugins/inbound/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
const KEY = "crm-key-5c1e0d77";

const config = (sink: string) => `
engine: { concurrency: 4, pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"], retry: { delays: [20ms], jitter: 0 } }
webhooks:
  promo:
    url: ${sink}/promo/<%= it.customer.id %>
    consent: [marketing-email, sms]
    body: '{"id": <%= json(it.customer.id) %>}'
  digest-batch:
    url: ${sink}/batch
    consent: [marketing-email]
    body: '[<%= it.items.join(",") %>]'
    batch: { size: 10, linger: 200ms, item: '<%= json(it.customer.id) %>' }
  plain: { url: "${sink}/plain/<%= it.customer.id %>", body: '{}' }
  noted:
    url: ${sink}/noted
    body: '{"webhook": <%= json(it.event.data.webhook) %>, "customer": <%= json(it.customer.id) %>, "status": <%= json(it.event.data.status) %>, "reason": <%= json(it.event.data.reason) %>}'
triggers:
  - { kind: event, events: [promo], webhooks: [promo] }
  - { kind: event, events: [digest], webhooks: [digest-batch] }
  - { kind: event, events: [plain], webhooks: [plain] }
  - { kind: event, events: [newsletter], webhooks: [plain], consent: [newsletter] }
  - { kind: event, events: [webhook.failed], webhooks: [noted] }
inbound:
  endpoints:
    crm:
      kind: profile-update
      auth: { kind: apiKey, keys: ["${KEY}"] }
      identifier: { property: email }
      createProfiles: true
      mappings:
        - { from: $.name, to: name }
        - { from: $.emailOptIn, to: { consent: marketing-email } }
`;

/** The inbound plugin's check, with the customers it was asked about written down. */
const asked: string[] = [];
const spyingCheck: Plugin = {
  name: "spying-consent-check",
  register(c) {
    const spy: ConsentCheck = {
      granted(sql, questions) {
        asked.push(...questions.map((q) => q.customerId));
        return consentCheck.granted(sql, questions);
      },
    };
    c.register(Tokens.ConsentCheck, { useValue: spy });
  },
};

for (const kind of storeKinds) {
  describe(`consent objectives on ${kind.name}`, () => {
    let driver: Driver;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink(() => ({ status: 200, body: "{}" }));
      app = await testApp(config(sink.url), driver, { plugins: [inbound(), spyingCheck] });
      await app.start();
    });
    afterAll(async () => {
      await app.stop(1_000);
      await sink.close();
      await driver.dispose();
    });

    /** A profile made through the inbound endpoint; its id is the customer id deliveries carry. */
    const profileUpdate = async (email: string, body: Record<string, unknown>) => {
      const r = await app.fetch(
        new Request(`http://h/in/crm?email=${encodeURIComponent(email)}`, {
          method: "POST",
          body: JSON.stringify(body),
          headers: { "content-type": "application/json", "x-api-key": KEY },
        }),
      );
      expect(r.status).toBe(200);
      return (await r.json()) as {
        success: boolean;
        result: { profileId: string; consents?: number };
        errors?: Array<{ code: string; description: string }>;
      };
    };
    const setConsents = async (id: string, consents: Record<string, { granted: boolean }>) => {
      const r = await app.fetch(
        new Request(`http://h/v1/profiles/${id}/consents`, {
          method: "PUT",
          body: JSON.stringify({ consents }),
          headers: { "content-type": "application/json" },
        }),
      );
      expect(r.status).toBe(200);
    };
    const ended = (id: string) =>
      eventually(
        async () => {
          const d = await app.store.getDelivery(id);
          return d && !["pending", "waiting", "paused", "in_flight"].includes(d.status) ? d : undefined;
        },
        15_000,
        `delivery ${id} to end`,
      );
    const noted = (customer: string) =>
      eventually(
        () =>
          sink.requests
            .filter((r) => r.url === "/noted")
            .map((r) => JSON.parse(r.body) as Record<string, string>)
            .find((b) => b.customer === customer),
        15_000,
        `the fail branch for ${customer}`,
      );

    it("sends to a customer who granted one of the objectives and skips one who granted none, into the fail branch", async () => {
      const ada = (await profileUpdate("ada@example.com", { name: "Ada" })).result.profileId;
      const bob = (await profileUpdate("bob@example.com", { name: "Bob" })).result.profileId;
      const eve = (await profileUpdate("eve@example.com", { name: "Eve" })).result.profileId;
      await setConsents(ada, { sms: { granted: true } });
      // A withdrawn consent is none: Eve withdrew the one she gave.
      await setConsents(eve, { "marketing-email": { granted: true } });
      await setConsents(eve, { "marketing-email": { granted: false } });
      const run = await app.publish([
        { type: "promo", customer: { id: ada } },
        { type: "promo", customer: { id: bob } },
        { type: "promo", customer: { id: eve } },
      ]);
      const [sent, skipped, withdrawn] = await Promise.all(run.events.map((e) => ended(e.deliveries[0]!.id)));
      expect(sent!.status).toBe("succeeded");
      expect(sink.requests.some((r) => r.url === `/promo/${ada}`)).toBe(true);
      for (const d of [skipped!, withdrawn!]) {
        expect(d.status).toBe("skipped");
        expect(d.reason).toBe("consent: none of marketing-email, sms granted");
        // Nothing was attempted: no attempt recorded, none counted.
        expect(d.attempts).toBe(0);
        expect(await app.store.listAttempts(d.id)).toEqual([]);
      }
      expect(sink.requests.some((r) => r.url === `/promo/${bob}` || r.url === `/promo/${eve}`)).toBe(false);
      expect(await noted(bob)).toEqual({
        webhook: "promo",
        customer: bob,
        status: "skipped",
        reason: "consent: none of marketing-email, sms granted",
      });
      await noted(eve);
      const summary = await eventually(async () => {
        const r = await app.store.getRun(run.runId);
        return r?.state === "finished" ? r : undefined;
      });
      expect(summary.counts).toMatchObject({ total: 3, succeeded: 1, skipped: 2, failed: 0, queued: 0 });
      // The API lists it under its status.
      const listed = await app.fetch(new Request(`http://h/v1/deliveries?status=skipped&run=${run.runId}`));
      expect(listed.status).toBe(200);
      const page = (await listed.json()) as { deliveries: Array<{ id: string; status: string }> };
      expect(page.deliveries.map((d) => d.id).sort()).toEqual([skipped!.id, withdrawn!.id].sort());
      // Counted as ended unsent, as halts in this process and webhooks gone are.
      const metrics = await (await app.fetch(new Request("http://h/metrics"))).text();
      expect(metrics).toMatch(
        /^hookline_deliveries_total\{[^}]*webhook="promo"[^}]*outcome="skipped"[^}]*\} 2$/m,
      );
    });

    it("skips a queued delivery whose customer withdrew consent before it was sent", async () => {
      const cy = (await profileUpdate("cy@example.com", { name: "Cy" })).result.profileId;
      await setConsents(cy, { "marketing-email": { granted: true } });
      await app.worker.stop();
      let id: string;
      try {
        const run = await app.publish({ type: "promo", customer: { id: cy } });
        id = run.events[0]!.deliveries[0]!.id;
        expect((await app.store.getDelivery(id))!.status).toBe("pending");
        await setConsents(cy, { "marketing-email": { granted: false } });
      } finally {
        app.worker.start();
      }
      const d = await ended(id);
      expect(d.status).toBe("skipped");
      expect(sink.requests.some((r) => r.url === `/promo/${cy}`)).toBe(false);
      expect((await noted(cy)).status).toBe("skipped");
    });

    it("takes a consent given or withdrawn through a profile-update mapping at the next send", async () => {
      const given = await profileUpdate("dee@example.com", { name: "Dee", emailOptIn: "yes" });
      expect(given).toMatchObject({ success: true, result: { consents: 1 } });
      const dee = given.result.profileId;
      const stored = await app.fetch(new Request(`http://h/v1/profiles/${dee}/consents`));
      const consents = (
        (await stored.json()) as { consents: Record<string, { granted: boolean; source: string }> }
      ).consents;
      expect(consents["marketing-email"]).toMatchObject({ granted: true, source: "crm" });
      const first = await app.publish({ type: "promo", customer: { id: dee } });
      expect((await ended(first.events[0]!.deliveries[0]!.id)).status).toBe("succeeded");
      expect(sink.requests.some((r) => r.url === `/promo/${dee}`)).toBe(true);

      expect((await profileUpdate("dee@example.com", { emailOptIn: false })).success).toBe(true);
      const second = await app.publish({ type: "promo", customer: { id: dee } });
      expect((await ended(second.events[0]!.deliveries[0]!.id)).status).toBe("skipped");

      // A value that is neither a yes nor a no changes nothing and says so.
      const odd = await profileUpdate("dee@example.com", { emailOptIn: "maybe" });
      expect(odd.success).toBe(false);
      expect(odd.errors?.[0]?.code).toBe("HOOKLINE_MAPPING_NOT_A_CONSENT");
    });

    it("needs a trigger's objectives in addition to the webhook's, and sends a batch only for those who consented", async () => {
      const fay = (await profileUpdate("fay@example.com", { name: "Fay", emailOptIn: true })).result
        .profileId;
      const gus = (await profileUpdate("gus@example.com", { name: "Gus" })).result.profileId;
      await setConsents(gus, { newsletter: { granted: true } });
      // plain needs no consent; the newsletter trigger's deliveries of it need `newsletter`.
      const news = await app.publish([
        { type: "newsletter", customer: { id: fay } },
        { type: "newsletter", customer: { id: gus } },
      ]);
      const [toFay, toGus] = await Promise.all(news.events.map((e) => ended(e.deliveries[0]!.id)));
      expect([toFay!.status, toGus!.status]).toEqual(["skipped", "succeeded"]);
      expect(toFay!.reason).toBe("consent: none of newsletter granted");

      const digest = await app.publish([
        { type: "digest", customer: { id: fay } },
        { type: "digest", customer: { id: gus } },
      ]);
      const [batchFay, batchGus] = await Promise.all(digest.events.map((e) => ended(e.deliveries[0]!.id)));
      expect([batchFay!.status, batchGus!.status]).toEqual(["succeeded", "skipped"]);
      const batches = sink.requests.filter((r) => r.url === "/batch").map((r) => JSON.parse(r.body));
      expect(batches).toEqual([[fay]]);
    });

    it("never asks about consent for a webhook that needs none", async () => {
      const before = asked.length;
      const run = await app.publish(
        Array.from({ length: 20 }, (_, i) => ({ type: "plain", customer: { id: `walk-in-${i}` } })),
      );
      for (const e of run.events) expect((await ended(e.deliveries[0]!.id)).status).toBe("succeeded");
      expect(asked.slice(before).filter((c) => c.startsWith("walk-in-"))).toEqual([]);
      // The spy is the check in use: a delivery that needs consent is asked about.
      await app.publish({ type: "promo", customer: { id: "walk-in-promo" } });
      await eventually(() => asked.includes("walk-in-promo"), 15_000, "the consent check");
    });

    it("refuses to start when a webhook or trigger needs consent and no plugin checks consents", async () => {
      const yaml = `
webhooks:
  promo: { url: "http://127.0.0.1:9/x", consent: [marketing-email] }
  plain: { url: "http://127.0.0.1:9/y" }
triggers:
  - { kind: event, events: [news], webhooks: [plain], consent: [newsletter] }
`;
      const refused = await testApp(yaml, driver).then(
        () => undefined,
        (e: Error & { code?: string }) => e,
      );
      expect(refused?.code).toBe("HOOKLINE_CONSENT_UNCHECKED");
      expect(refused?.message).toContain("webhooks.promo.consent, triggers[0].consent");
      // Nor does the admin API take such a webhook there.
      const bare = await testApp('webhooks: { plain: { url: "http://127.0.0.1:9/y" } }', driver);
      try {
        const put = await bare.fetch(
          new Request("http://h/v1/webhooks/promo", {
            method: "PUT",
            body: JSON.stringify({ url: "http://127.0.0.1:9/x", consent: ["marketing-email"] }),
            headers: { "content-type": "application/json" },
          }),
        );
        expect(put.status).toBe(400);
        expect(await put.text()).toContain("no plugin here checks consents");
      } finally {
        await bare.stop(0);
      }
    });

    it("takes a webhook that needs consent through the admin API, and skips its customers without one", async () => {
      const put = await app.fetch(
        new Request("http://h/v1/webhooks/api-promo", {
          method: "PUT",
          body: JSON.stringify({
            url: `${sink.url}/api-promo`,
            consent: ["sms"],
            events: ["api-promo"],
          }),
          headers: { "content-type": "application/json" },
        }),
      );
      expect(put.status).toBeLessThan(300);
      const hal = (await profileUpdate("hal@example.com", { name: "Hal" })).result.profileId;
      const run = await app.publish({ type: "api-promo", customer: { id: hal } });
      const d = await ended(run.events[0]!.deliveries[0]!.id);
      expect([d.status, d.reason]).toEqual(["skipped", "consent: none of sms granted"]);
      expect(sink.requests.some((r) => r.url === "/api-promo")).toBe(false);
    });
  });
}
