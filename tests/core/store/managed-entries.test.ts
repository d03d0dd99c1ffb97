import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { managedEntries } from "../../../core/store/managed-entries.ts";
import { type Driver, migrated, storeKinds } from "./fixture.ts";

for (const kind of storeKinds) {
  describe(`managed entries on ${kind.name}`, () => {
    let db: Driver;
    let entries: ReturnType<typeof managedEntries>;
    beforeAll(async () => {
      db = await migrated(kind);
      entries = managedEntries(db);
    });
    afterAll(() => db.dispose());

    it("writes, reads back, lists and replaces entries, moving the version with each write", async () => {
      const empty = await entries.version();
      expect(empty).toBe("0:");
      await entries.upsert("webhook", "b-hook", { url: "https://b.example.com" }, null, []);
      await entries.upsert("integration", "z-crm", { kind: "basic" }, "v1.sealed", ["password"]);
      const v1 = await entries.version();
      expect(v1).toStartWith("2:");
      expect(await entries.get("integration", "z-crm")).toEqual({
        kind: "integration",
        name: "z-crm",
        spec: { kind: "basic" },
        sealed: "v1.sealed",
        missing_secrets: ["password"],
      });
      expect(await entries.get("webhook", "z-crm")).toBeUndefined();
      expect((await entries.list()).map((r) => [r.kind, r.name, r.updated_at != null])).toEqual([
        ["integration", "z-crm", true],
        ["webhook", "b-hook", true],
      ]);
      expect((await entries.listByName()).map((r) => r.name)).toEqual(["b-hook", "z-crm"]);
      await entries.upsert("webhook", "b-hook", { url: "https://b2.example.com" }, null, []);
      expect((await entries.get("webhook", "b-hook"))!.spec).toEqual({ url: "https://b2.example.com" });
      expect(await entries.version()).not.toBe(v1);
    });

    it("deletes an entry of one kind only, and an integration's state with it on request", async () => {
      await entries.upsert("integration", "both", { kind: "basic" }, null, []);
      await entries.upsert("webhook", "both", { url: "https://x.example.com" }, null, []);
      await db.query(
        "INSERT INTO hookline_integration_state (integration, key, sealed) VALUES ('both', 'refresh_token', 's')",
      );
      await entries.delete("integration", "both");
      await entries.deleteIntegrationState("both");
      expect(await entries.get("integration", "both")).toBeUndefined();
      expect(await entries.get("webhook", "both")).toBeDefined();
      expect(await db.query("SELECT * FROM hookline_integration_state WHERE integration = 'both'")).toEqual(
        [],
      );
      await entries.delete("webhook", "both");
      expect(await entries.get("webhook", "both")).toBeUndefined();
    });
  });
}
