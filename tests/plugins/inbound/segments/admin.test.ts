import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { rolesFor } from "../../../../core/http/roles.ts";
import { inbound } from "../../../../plugins/inbound/index.ts";
import { testApp } from "../../../support/app.ts";
import { storeKinds } from "../../../support/db.ts";
import { writeProfiles } from "../../../support/segments.ts";

const config = `
segments:
  vip:
    description: gold customers who take email
    filter:
      and:
        - { property: tier, equals: gold }
        - { consent: [marketing-email] }
`;

type Answer = { status: number; body: any };

for (const kind of storeKinds) {
  describe(`the segments admin API on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<typeof kind.open>>;
    let app: Awaited<ReturnType<typeof testApp>>;

    beforeAll(async () => {
      driver = await kind.open();
      app = await testApp(config, driver, { plugins: [inbound()] });
      await app.start();
    });
    afterAll(async () => {
      await app.stop(1_000);
      await driver.dispose();
    });

    const call = async (method: string, path: string, body?: unknown): Promise<Answer> => {
      const r = await app.fetch(
        new Request(`http://h${path}`, {
          method,
          ...(body === undefined
            ? {}
            : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
        }),
      );
      return { status: r.status, body: r.status === 204 ? undefined : await r.json() };
    };

    it("creates, replaces, lists, shows and deletes a segment of the API", async () => {
      const churn = { filter: { property: "orders", lt: 2 }, description: "few orders" };
      const created = await call("PUT", "/v1/segments/churn-risk", churn);
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: "churn-risk", source: "api", ...churn });
      const replaced = await call("PUT", "/v1/segments/churn-risk", {
        filter: { property: "orders", lt: 3 },
      });
      expect(replaced.status).toBe(200);
      expect(replaced.body.filter).toEqual({ property: "orders", lt: 3 });
      expect(replaced.body.description).toBeUndefined();

      const list = await call("GET", "/v1/segments");
      expect(list.body.segments.map((s: any) => [s.name, s.source])).toEqual([
        ["churn-risk", "api"],
        ["vip", "config"],
      ]);
      expect((await call("GET", "/v1/segments/vip")).body).toMatchObject({
        source: "config",
        description: "gold customers who take email",
      });

      expect((await call("DELETE", "/v1/segments/churn-risk")).status).toBe(204);
      expect((await call("GET", "/v1/segments/churn-risk")).status).toBe(404);
      expect((await call("DELETE", "/v1/segments/churn-risk")).status).toBe(404);
    });

    it("refuses a filter that does not check, each problem at its place", async () => {
      const r = await call("PUT", "/v1/segments/bad", {
        filter: {
          and: [
            { property: "tier", equals: "gold" },
            { property: "spend", gt: true },
          ],
        },
      });
      expect(r.status).toBe(400);
      expect(r.body.code).toBe("HOOKLINE_HTTP_INVALID");
      expect(r.body.issues).toEqual([
        {
          path: "filter.and.1.gt",
          message: "expected a number or a date (or a string, compared by code point)",
        },
      ]);
      expect((await call("PUT", "/v1/segments/no%20spaces", { filter: { consent: ["sms"] } })).status).toBe(
        400,
      );
      expect((await call("GET", "/v1/segments/bad")).status).toBe(404);
    });

    it("keeps the config file's segments read-only (409)", async () => {
      const put = await call("PUT", "/v1/segments/vip", { filter: { property: "tier", exists: true } });
      expect(put.status).toBe(409);
      expect(put.body).toMatchObject({ code: "HOOKLINE_HTTP_CONFLICT" });
      expect(put.body.error).toContain("config file");
      expect((await call("DELETE", "/v1/segments/vip")).status).toBe(409);
      expect((await call("GET", "/v1/segments/vip")).body.filter.and).toHaveLength(2);
    });

    it("previews a segment: the member count and its members with their properties, paged by id", async () => {
      const email = { "marketing-email": { granted: true } };
      await writeProfiles(driver, [
        { id: "p1", properties: { tier: "gold", name: "Ada" }, consents: email },
        { id: "p2", properties: { tier: "gold" } },
        { id: "p3", properties: { tier: "gold", name: "Cy" }, consents: email },
        { id: "p4", properties: { tier: "silver" }, consents: email },
        { id: "p5", properties: { tier: "gold", name: "Eve" }, consents: email },
      ]);
      const first = await call("GET", "/v1/segments/vip/preview?limit=2");
      expect(first.status).toBe(200);
      expect(first.body).toEqual({
        segment: "vip",
        count: 3,
        members: [
          { id: "p1", properties: { tier: "gold", name: "Ada" } },
          { id: "p3", properties: { tier: "gold", name: "Cy" } },
        ],
        next: "p3",
      });
      const second = await call("GET", "/v1/segments/vip/preview?limit=2&after=p3");
      expect(second.body).toEqual({
        segment: "vip",
        count: 3,
        members: [{ id: "p5", properties: { tier: "gold", name: "Eve" } }],
      });
      const all = await call("GET", "/v1/segments/vip/preview");
      expect(all.body.members.map((m: any) => m.id)).toEqual(["p1", "p3", "p5"]);
      expect(all.body.next).toBeUndefined();

      expect((await call("GET", "/v1/segments/vip/preview?limit=0")).status).toBe(400);
      expect((await call("GET", "/v1/segments/nobody/preview")).status).toBe(404);
    });
  });
}

describe("who may use the segments admin API", () => {
  it("lets every reader list and preview segments, editors change them", () => {
    expect(rolesFor("GET", "/v1/segments")).toEqual(["admin", "editor", "viewer"]);
    expect(rolesFor("GET", "/v1/segments/vip/preview")).toEqual(["admin", "editor", "viewer"]);
    expect(rolesFor("PUT", "/v1/segments/vip")).toEqual(["admin", "editor"]);
    expect(rolesFor("DELETE", "/v1/segments/vip")).toEqual(["admin", "editor"]);
  });
});
