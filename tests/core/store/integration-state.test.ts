import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import * as legacy from "../../../core/managed-state.ts";
import { SecretBox } from "../../../core/security/secret-box.ts";
import { integrationState } from "../../../core/store/integration-state.ts";
import { type Driver, migrated, storeKinds } from "./fixture.ts";

const key = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

describe("integration state's old import path", () => {
  it("still gives the same function", () => {
    expect(legacy.integrationState).toBe(integrationState);
  });
});

for (const kind of storeKinds) {
  describe(`integration state on ${kind.name}`, () => {
    let db: Driver;
    beforeAll(async () => {
      db = await migrated(kind);
    });
    afterAll(() => db.dispose());

    it("keeps a value sealed at rest, bound to its integration", async () => {
      const box = (await SecretBox.fromEnv(key))!;
      const crm = integrationState(db, box, "crm");
      await crm.set("refresh_token", "rt-1");
      expect(await crm.get("refresh_token")).toBe("rt-1");
      expect(await integrationState(db, box, "erp").get("refresh_token")).toBeUndefined();
      const [row] = await db.query<{ sealed: string }>("SELECT sealed FROM hookline_integration_state");
      expect(row!.sealed).not.toContain("rt-1");
      await crm.delete("refresh_token");
      expect(await crm.get("refresh_token")).toBeUndefined();
    });

    it("refuses to keep state without HOOKLINE_SECRET_KEY, saying how to make one", async () => {
      const err = await integrationState(db, undefined, "crm")
        .set("refresh_token", "rt")
        .catch((e) => e);
      expect(err.code).toBe("HOOKLINE_SECRET_KEY_MISSING");
      expect(err.message).toContain("openssl rand -base64 32");
    });
  });
}
