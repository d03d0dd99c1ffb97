import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { DeliveryObserver } from "../../../core/contracts/extension.ts";
import type { Plugin } from "../../../core/contracts/plugin.ts";
import { Tokens } from "../../../core/tokens.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

/** Two observers: one records every outcome in its own table, one writes and then throws. */
const observing: Plugin = {
  name: "observing",
  register(c) {
    c.register(Tokens.Migrations, {
      useValue: {
        plugin: "observing-test",
        migrations: [
          {
            version: 1,
            name: "observed",
            sql: "CREATE TABLE observed (delivery text, webhook text, status text, attempt int, customer text)",
          },
        ],
      },
    });
    const recorder: DeliveryObserver = {
      name: "recorder",
      async observe(tx, outcomes) {
        for (const o of outcomes)
          await tx.query("INSERT INTO observed VALUES ($1, $2, $3, $4, $5)", [
            o.delivery.id,
            o.delivery.webhook,
            o.status,
            o.attempt?.number ?? null,
            (o.delivery.context as { customer?: { id?: string } }).customer?.id ?? null,
          ]);
      },
    };
    const broken: DeliveryObserver = {
      name: "broken",
      async observe(tx) {
        await tx.query("INSERT INTO observed VALUES ('broken', 'broken', 'broken', 0, null)");
        throw new Error("observer bug");
      },
    };
    c.register(Tokens.DeliveryObserver, { useValue: recorder });
    c.register(Tokens.DeliveryObserver, { useValue: broken });
  },
};

for (const kind of storeKinds) {
  describe(`delivery observers on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;
    let flaky = 0;

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink((req) => {
        if (req.url === "/flaky") return { status: ++flaky === 1 ? 503 : 200 };
        return { status: 200 };
      });
      app = await testApp(
        `
engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"], retry: { delays: [30ms], jitter: 0 } }
webhooks:
  flaky: { url: ${sink.url}/flaky }
triggers:
  - { events: [order], webhooks: [flaky] }
`,
        driver,
        { plugins: [observing] },
      );
      await app.start();
    });
    afterAll(async () => {
      await app.stop(1_000);
      await sink.close();
      await driver.dispose();
    });

    it("sees each recorded outcome once, in the transaction that records it; a failing observer is undone alone", async () => {
      const r = await app.publish({ type: "order", customer: { id: "c9" } });
      const id = r.events[0]!.deliveries[0]!.id;
      await eventually(async () => (await app.store.getDelivery(id))?.status === "succeeded");
      const rows = await eventually(async () => {
        const x = await app.store.sql.query<Record<string, unknown>>(
          "SELECT delivery, webhook, status, attempt, customer FROM observed ORDER BY attempt",
        );
        return x.length >= 2 ? x : undefined;
      });
      expect(rows).toEqual([
        { delivery: id, webhook: "flaky", status: "pending", attempt: 1, customer: "c9" },
        { delivery: id, webhook: "flaky", status: "succeeded", attempt: 2, customer: "c9" },
      ]);
      await eventually(
        () => app.logs.some((l) => l.includes('"observer.failed"') && l.includes("broken")),
        5_000,
        "the broken observer's failure logged",
      );
      expect((await app.store.listAttempts(id)).map((a) => a.outcome)).toEqual(["retry", "succeeded"]);
    });
  });
}
