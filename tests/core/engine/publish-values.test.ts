import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { ZodError } from "zod";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";

// `app.publish` from a library caller gets the rule the HTTP API and the receivers apply: an event
// whose values the store cannot keep is refused before anything is written, naming the field — not
// a store failure after the fact, and never a 10,000-level jsonb value (which stalls PGlite).
for (const kind of storeKinds) {
  describe(`publishing values the store cannot keep on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<typeof kind.open>>;
    let app: Awaited<ReturnType<typeof testApp>>;

    beforeAll(async () => {
      driver = await kind.open();
      app = await testApp(
        `
webhooks:
  sync: { url: "https://crm.example.com/sync", body: "{}" }
triggers: [{ kind: event, events: [change], webhooks: [sync] }]
`,
        driver,
      );
    });
    afterAll(async () => {
      await app.stop(0);
      await driver.dispose();
    });

    const deep = (levels: number): unknown => {
      let v: unknown = 1;
      for (let i = 0; i < levels; i++) v = { a: v };
      return v;
    };

    for (const [what, event, path] of [
      ["nested 10,000 levels deep", { type: "change", data: { x: deep(10_000) } }, "data"],
      ["holding U+0000", { type: "change", customer: { id: "c-1", email: "a\u0000b" } }, "customer.email"],
      ["holding a lone surrogate", { type: "change", data: { note: "x\ud800" } }, "data.note"],
    ] as const) {
      it(`refuses an event ${what} with a validation error naming ${path}, writing nothing`, async () => {
        const error = await app.publish(event as never).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ZodError);
        expect((error as ZodError).issues[0]!.path.join(".")).toStartWith(path);
        const rows = await driver.query<{ n: number }>("SELECT count(*)::int AS n FROM hookline_deliveries");
        expect(rows[0]!.n).toBe(0);
      });
    }

    it("still takes ordinary events afterwards (the store answers)", async () => {
      const r = await app.publish({ type: "change", customer: { id: "c-2" }, data: { emoji: "👋" } });
      expect(r.events[0]!.deliveries).toHaveLength(1);
    });
  });
}
