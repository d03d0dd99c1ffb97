import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Plugin } from "../../core/contracts/plugin.ts";
import { eventually, testApp } from "./app.ts";
import { storeKinds } from "./db.ts";
import { type Sink, startSink } from "./http-sink.ts";

/** An engine's templates for the shared end-to-end case, and what it is expected to send. */
export interface DeliveryCase {
  /** The url template after `${sink}/hooks/`. */
  url: string;
  /** The X-Campaign header template. */
  campaignHeader: string;
  /** The body template's lines for email, name, campaign, skus and count. */
  body: string[];
  /** `count` as the event carries it (engines differ in what they can convert). */
  count: string | number;
  /** The X-Campaign header the sink should see. */
  expectedCampaign: string;
  /** The skus the body should hold (Mustache, logic-less, ends its list with a null). */
  expectedSkus?: unknown[];
}

/**
 * One end-to-end case for every engine: a webhook in that engine, a real store (PGlite: the renderer
 * does not touch the store) and a real sink; the request that arrives is checked.
 *
 * @example deliverySuite("jinja", jinja(), { url: "{{ customer.id }}", … })
 */
export function deliverySuite(engine: string, plugin: Plugin, c: DeliveryCase): void {
  const store = storeKinds[0]!;
  const config = (sinkUrl: string) => `
engine:
  concurrency: 2
  pollInterval: 20ms
  lease: 5s
  timeout: 2s
  allowNetworks: ["127.0.0.1/32"]
webhooks:
  promo:
    engine: ${engine}
    url: ${sinkUrl}/hooks/${c.url}
    headers: { X-Campaign: ${JSON.stringify(c.campaignHeader)} }
    params: { campaign: spring }
    body: |
      {
${c.body.map((l) => `        ${l}`).join("\n")}
      }
triggers:
  - { kind: event, events: [signup], webhooks: [promo] }
`;

  describe(`${engine} end to end`, () => {
    let driver: Awaited<ReturnType<typeof store.open>>;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;

    beforeAll(async () => {
      driver = await store.open();
      sink = await startSink(() => ({ status: 200, body: '{"ok":true}' }));
      app = await testApp(config(sink.url), driver, { plugins: [plugin] });
      await app.start();
    });
    afterAll(async () => {
      await app.stop(1_000);
      await sink.close();
      await driver.dispose();
    });

    it(`delivers the JSON body a ${engine} webhook renders`, async () => {
      const published = await app.publish({
        type: "signup",
        customer: { id: "c-17", email: "ada@example.com", name: 'Ada "the first" <Lovelace>' },
        data: { items: [{ sku: "A-1" }, { sku: "B-2" }], count: c.count },
      });
      const id = published.events[0]!.deliveries[0]!.id;
      const done = await eventually(async () => {
        const d = await app.store.getDelivery(id);
        return d && ["succeeded", "failed", "halted"].includes(d.status) ? d : undefined;
      });
      // A render fault would show here with its reason rather than as a timeout.
      expect(`${done?.status} ${done?.reason ?? ""}`.trim()).toBe("succeeded");
      const [req] = sink.requests;
      expect(req!.url).toBe("/hooks/c-17");
      expect(req!.headers["x-campaign"]).toBe(c.expectedCampaign);
      expect(req!.headers["content-type"]).toBe("application/json");
      expect(JSON.parse(req!.body)).toEqual({
        email: "ada@example.com",
        name: 'Ada "the first" <Lovelace>',
        campaign: "spring",
        skus: c.expectedSkus ?? ["A-1", "B-2"],
        count: 2,
      });
    });
  });
}
