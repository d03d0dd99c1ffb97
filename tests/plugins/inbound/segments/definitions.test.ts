import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { ConfigError } from "../../../../core/errors.ts";
import { inbound } from "../../../../plugins/inbound/index.ts";
import { segmentFilter, segmentFilters } from "../../../../plugins/inbound/segments/definitions.ts";
import { testApp } from "../../../support/app.ts";
import { storeKinds } from "../../../support/db.ts";

const config = `
segments:
  vip:
    description: gold and platinum customers
    filter:
      and:
        - { property: tier, in: [gold, platinum] }
        - { consent: [marketing-email] }
`;

describe("the segments: config section", () => {
  it("refuses a bad filter naming its path, file and line", async () => {
    const driver = await storeKinds[0]!.open();
    try {
      const bad = `
segments:
  vip:
    filter:
      and:
        - { property: tier, equals: gold }
        - { property: spend, gt: true }
`;
      const e = await testApp(bad, driver, { plugins: [inbound()] }).catch((x) => x);
      expect(e).toBeInstanceOf(ConfigError);
      const issues = (e as ConfigError).issues;
      expect(issues).toHaveLength(1);
      expect(issues[0]).toMatchObject({ file: "test.yaml", line: 7, path: "segments.vip.filter.and.1.gt" });
      expect(issues[0]!.message).toBe(
        "expected a number or a date (or a string, compared by code point) (got true)",
      );
    } finally {
      await driver.dispose();
    }
  });

  it("refuses a segment name that is not one, and unknown keys", async () => {
    const driver = await storeKinds[0]!.open();
    try {
      const bad = `
segments:
  "no spaces": { filter: { property: tier, exists: true } }
  vip: { filter: { property: tier, exists: true }, audience: all }
`;
      const e = (await testApp(bad, driver, { plugins: [inbound()] }).catch((x) => x)) as ConfigError;
      expect(e).toBeInstanceOf(ConfigError);
      const paths = e.issues.map((i) => i.path).sort();
      expect(paths).toEqual(["segments.no spaces", "segments.vip.audience"]);
    } finally {
      await driver.dispose();
    }
  });
});

for (const kind of storeKinds) {
  describe(`segment definitions on ${kind.name}`, () => {
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

    it("finds a config segment's filter, then a stored one's, and nothing for an unknown name", async () => {
      expect(await segmentFilter(app.host, "vip")).toEqual({
        and: [{ property: "tier", in: ["gold", "platinum"] }, { consent: ["marketing-email"] }],
      });
      await driver.query(
        `INSERT INTO hookline_segments (name, filter) VALUES ('churn-risk', '{"property":"orders","lt":2}')`,
      );
      expect(await segmentFilter(app.host, "churn-risk")).toEqual({ property: "orders", lt: 2 });
      expect(await segmentFilter(app.host, "nobody")).toBeUndefined();
      const both = await segmentFilters(app.host, ["vip", "churn-risk", "nobody"]);
      expect([...both.keys()].sort()).toEqual(["churn-risk", "vip"]);
    });

    it("reads the config file's segment before a stored one of the same name", async () => {
      await driver.query(
        `INSERT INTO hookline_segments (name, filter) VALUES ('vip', '{"property":"tier","equals":"bronze"}')`,
      );
      expect(await segmentFilter(app.host, "vip")).toMatchObject({ and: expect.any(Array) });
    });
  });
}
