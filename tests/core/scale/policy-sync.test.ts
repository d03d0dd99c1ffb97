/**
 * Throughput policies are shared by every process on one store. A process writes the policies its
 * config declares, and only what it was told: what a caller leaves out (a rate, a policy another
 * process's config declares) stays as it is in the store.
 */
import { afterEach, describe, expect, it } from "bun:test";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

const serverWith = (policies: string) => `
policies:
${policies}
webhooks:
  call: { url: "https://crm.example.com/api/call", body: "{}" }
`;

for (const kind of storeKinds) {
  describe(`throughput policies shared on one store (${kind.name})`, () => {
    const disposals: Array<() => Promise<unknown>> = [];
    afterEach(async () => {
      for (const d of disposals.splice(0).reverse()) await d();
    });
    const open = async (): Promise<Driver> => {
      const driver = await kind.open();
      disposals.push(() => driver.dispose());
      return driver;
    };
    const start = async (driver: Driver, yaml: string) => {
      const app = await testApp(yaml, driver);
      disposals.push(() => app.stop(0));
      return app;
    };

    it("keeps a policy's stored rate when a sync leaves the rate out", async () => {
      const app = await start(await open(), serverWith("  partner: { concurrency: 5, rate: 25 }"));
      await app.store.syncPolicies([{ name: "partner", concurrency: 6 }]);
      expect(await app.store.listPolicies()).toEqual([
        { name: "partner", concurrency: 6, rate: 25, inUse: 0 },
      ]);
    });

    it("removes a policy's rate when a sync says rate: null", async () => {
      const app = await start(await open(), serverWith("  partner: { concurrency: 5, rate: 25 }"));
      await app.store.syncPolicies([{ name: "partner", concurrency: 5, rate: null }]);
      expect(await app.store.listPolicies()).toEqual([{ name: "partner", concurrency: 5, inUse: 0 }]);
    });

    it("keeps a policy's rate when its limits are set without one, and removes it on rate: null", async () => {
      const app = await start(await open(), serverWith("  partner: { concurrency: 5, rate: 25 }"));
      const put = (body: object) =>
        app.fetch(new Request("http://h/v1/policies/partner", { method: "PUT", body: JSON.stringify(body) }));
      expect((await put({ concurrency: 20 })).status).toBe(200);
      expect(await app.store.listPolicies()).toEqual([
        { name: "partner", concurrency: 20, rate: 25, inUse: 0 },
      ]);
      expect((await put({ concurrency: 20, rate: null })).status).toBe(200);
      expect(await app.store.listPolicies()).toEqual([{ name: "partner", concurrency: 20, inUse: 0 }]);
    });

    it("a server whose config lacks another server's policy leaves that policy in place", async () => {
      const driver = await open();
      await start(driver, serverWith("  partner: { concurrency: 5, rate: 25 }"));
      const other = await start(driver, serverWith("  bulk: { concurrency: 2 }"));
      expect(await other.store.listPolicies()).toEqual([
        { name: "bulk", concurrency: 2, inUse: 0 },
        { name: "partner", concurrency: 5, rate: 25, inUse: 0 },
      ]);
    });

    it("a server's config that drops a policy's rate removes it: the config owns the limits it declares", async () => {
      const driver = await open();
      await start(driver, serverWith("  partner: { concurrency: 5, rate: 25 }"));
      const next = await start(driver, serverWith("  partner: { concurrency: 8 }"));
      expect(await next.store.listPolicies()).toEqual([{ name: "partner", concurrency: 8, inUse: 0 }]);
    });
  });
}
