import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { inbound } from "../../../../plugins/inbound/index.ts";
import { segmentMembers } from "../../../../plugins/inbound/segments/members.ts";
import { testApp } from "../../../support/app.ts";
import { storeKinds } from "../../../support/db.ts";

const KEY = "crm-key-5d1c08e2";
const config = `
inbound:
  endpoints:
    crm:
      kind: profile-update
      auth: { kind: apiKey, keys: ["${KEY}"] }
      identifier: { property: email }
      createProfiles: true
      mappings: [{ from: $.tier, to: tier }]
`;

for (const kind of storeKinds) {
  describe(`consents per objective on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<typeof kind.open>>;
    let app: Awaited<ReturnType<typeof testApp>>;
    const ids: Record<string, string> = {};

    beforeAll(async () => {
      driver = await kind.open();
      app = await testApp(config, driver, { plugins: [inbound()] });
      await app.start();
      for (const name of ["ada", "bob"]) {
        const r = await app.fetch(
          new Request(`http://h/in/crm?email=${name}%40example.com`, {
            method: "POST",
            body: JSON.stringify({ tier: "gold" }),
            headers: { "content-type": "application/json", "x-api-key": KEY },
          }),
        );
        ids[name] = ((await r.json()) as { result: { profileId: string } }).result.profileId;
      }
    });
    afterAll(async () => {
      await app.stop(1_000);
      await driver.dispose();
    });

    const put = async (id: string, body: unknown) => {
      const r = await app.fetch(
        new Request(`http://h/v1/profiles/${id}/consents`, {
          method: "PUT",
          body: JSON.stringify(body),
          headers: { "content-type": "application/json" },
        }),
      );
      return { status: r.status, body: (await r.json()) as Record<string, any> };
    };
    const consenting = (objectives: string[]) =>
      segmentMembers(driver, { consent: objectives }, { now: Date.now(), limit: 100 });

    it("gives consent per objective, which the segment filter's consent condition then reads", async () => {
      const r = await put(ids.ada!, {
        consents: {
          "marketing-email": { granted: true, at: "2025-06-01T10:00:00+02:00", source: "signup-form" },
        },
      });
      expect(r.status).toBe(200);
      expect(r.body.consents).toEqual({
        "marketing-email": { granted: true, at: "2025-06-01T08:00:00.000Z", source: "signup-form" },
      });
      await put(ids.bob!, { consents: { sms: { granted: true } } });
      expect(await consenting(["marketing-email"])).toEqual([ids.ada!]);
      expect((await consenting(["marketing-email", "sms"])).sort()).toEqual([ids.ada!, ids.bob!].sort());
    });

    it("withdraws a consent, leaving the other objectives as they are", async () => {
      await put(ids.bob!, { consents: { "marketing-email": { granted: true } } });
      const r = await put(ids.bob!, { consents: { "marketing-email": { granted: false } } });
      expect(r.body.consents["marketing-email"]).toMatchObject({ granted: false, source: "api" });
      expect(r.body.consents.sms).toMatchObject({ granted: true });
      expect(await consenting(["marketing-email"])).toEqual([ids.ada!]);
      const read = await app.fetch(new Request(`http://h/v1/profiles/${ids.bob}/consents`));
      expect(((await read.json()) as { consents: unknown }).consents).toEqual(r.body.consents);
    });

    it("ignores a change dated before the one it holds: the latest decision stands", async () => {
      const r = await put(ids.ada!, {
        consents: {
          "marketing-email": { granted: false, at: "2025-05-01T00:00:00Z", source: "late-import" },
        },
      });
      expect(r.body.consents["marketing-email"]).toEqual({
        granted: true,
        at: "2025-06-01T08:00:00.000Z",
        source: "signup-form",
      });
      expect(await consenting(["marketing-email"])).toEqual([ids.ada!]);
    });

    it("answers 404 for an unknown profile and 400 naming a bad objective or value", async () => {
      expect((await put("prof_nobody", { consents: { sms: { granted: true } } })).status).toBe(404);
      const badName = await put(ids.ada!, { consents: { "marketing email": { granted: true } } });
      expect(badName.status).toBe(400);
      expect(badName.body.issues[0].path).toBe("consents.marketing email");
      expect(badName.body.issues[0].message).toStartWith("expected an objective name");
      const badValue = await put(ids.ada!, { consents: { sms: { granted: "yes" } } });
      expect(badValue.body.issues).toEqual([
        { path: "consents.sms.granted", message: "expected true (given) or false (withdrawn)" },
      ]);
      const empty = await put(ids.ada!, { consents: {} });
      expect(empty.status).toBe(400);
      expect(JSON.stringify(empty.body)).toContain("at least one objective");
    });
  });
}
