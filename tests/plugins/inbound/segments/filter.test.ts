/**
 * The segment filter language by example (docs/campaigns.md): each filter is run as SQL on PGlite and
 * Postgres and by the in-memory evaluator, and both must choose the profiles the example says.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { compileFilter } from "../../../../plugins/inbound/segments/compile.ts";
import { matchesFilter } from "../../../../plugins/inbound/segments/evaluate.ts";
import {
  checkFilter,
  FILTER_LIMITS,
  type SegmentFilter,
} from "../../../../plugins/inbound/segments/filter.ts";
import { segmentMembers, segmentSize } from "../../../../plugins/inbound/segments/members.ts";
import { storeKinds } from "../../../support/db.ts";
import { profileTables, sqlMatches, type TestProfile, writeProfiles } from "../../../support/segments.ts";

/** 2025-06-15T12:00:00Z: relative times count from here. */
const NOW = Date.UTC(2025, 5, 15, 12);

const PROFILES: TestProfile[] = [
  {
    id: "ada",
    properties: {
      tier: "gold",
      lifetimeValue: 1200,
      age: "36",
      lastOrder: "2025-06-01T10:00:00Z",
      interests: ["math", "engines"],
      address: { city: "London" },
      email: "ada@example.com",
      "utm.source": "newsletter",
    },
    consents: { "marketing-email": { granted: true } },
  },
  {
    id: "bob",
    properties: {
      tier: "silver",
      lifetimeValue: 80,
      age: 17,
      lastOrder: "2025-03-01",
      interests: ["cycling", 7],
      address: { city: "Ghent" },
      bio: "likes engines",
      renewal: "2025-06-20T09:00:00+02:00",
    },
    consents: { "marketing-email": { granted: false }, sms: { granted: true } },
  },
  {
    id: "cyd",
    properties: { tier: null, lifetimeValue: "n/a", lastOrder: "not a date", address: "Ghent", age: "4e1" },
  },
  { id: "dee", properties: {} },
];

/** The expected ids: asserted of the SQL on every store and of the evaluator. */
const examples: Array<[string, SegmentFilter, string[]]> = [
  ["equals compares text exactly", { property: "tier", equals: "gold" }, ["ada"]],
  ["in matches any of the values", { property: "tier", in: ["gold", "silver"] }, ["ada", "bob"]],
  ["exists: a null property counts as missing", { property: "tier", exists: true }, ["ada", "bob"]],
  ["exists: false matches missing and null", { property: "tier", exists: false }, ["cyd", "dee"]],
  ["notEquals needs a value that differs", { property: "tier", notEquals: "silver" }, ["ada"]],
  [
    "not of equals also takes the missing",
    { not: { property: "tier", equals: "silver" } },
    ["ada", "cyd", "dee"],
  ],
  ["a number compares as a number", { property: "lifetimeValue", gt: 100 }, ["ada"]],
  ["a number written in a string compares as the number", { property: "age", gte: 18 }, ["ada"]],
  ["a string that is no plain number never compares with one", { property: "age", lt: 100 }, ["ada", "bob"]],
  ["equals a number matches it written as text", { property: "age", equals: 36 }, ["ada"]],
  ["a missing property never matches a comparison", { property: "lifetimeValue", lte: 1e9 }, ["ada", "bob"]],
  ["not of a comparison takes the missing", { not: { property: "lifetimeValue", lte: 1e9 } }, ["cyd", "dee"]],
  ["an ISO date string compares as a time", { property: "lastOrder", gt: "2025-05-01" }, ["ada"]],
  ["before an absolute date", { property: "lastOrder", before: "2025-04-01T00:00:00Z" }, ["bob"]],
  ["after with an offset", { property: "renewal", after: "2025-06-20T06:59:59Z" }, ["bob"]],
  ["within the last 30 days", { property: "lastOrder", withinLast: "30d" }, ["ada"]],
  ["more than 30 days ago", { property: "lastOrder", before: { ago: "30d" } }, ["bob"]],
  ["within the next 7 days", { property: "renewal", withinNext: "7d" }, ["bob"]],
  ["other text compares by code point", { property: "address.city", lt: "H" }, ["bob"]],
  ["a dotted path walks into objects only", { property: "address.city", equals: "Ghent" }, ["bob"]],
  ["a list of keys reaches a key with a dot", { property: ["utm.source"], equals: "newsletter" }, ["ada"]],
  ["contains: substring of a string", { property: "bio", contains: "engine" }, ["bob"]],
  ["contains: member of a list", { property: "interests", contains: "engines" }, ["ada"]],
  ["contains: a number in a list", { property: "interests", contains: 7 }, ["bob"]],
  ["consent granted for one objective", { consent: ["marketing-email"] }, ["ada"]],
  ["consent: any one objective suffices", { consent: ["marketing-email", "sms"] }, ["ada", "bob"]],
  ["not consent: withdrawn or never given", { not: { consent: ["marketing-email"] } }, ["bob", "cyd", "dee"]],
  [
    "and / or combine",
    {
      and: [
        {
          or: [
            { property: "tier", equals: "gold" },
            { property: "lifetimeValue", gte: 50 },
          ],
        },
        { not: { property: "age", lt: 18 } },
      ],
    },
    ["ada"],
  ],
  ["and of nothing is everyone", { and: [] }, ["ada", "bob", "cyd", "dee"]],
  ["or of nothing is no one", { or: [] }, []],
];

describe("segment filter examples, in memory", () => {
  for (const [name, filter, ids] of examples) {
    it(name, () => {
      expect(checkFilter(filter)).toEqual({ ok: true, filter });
      expect(PROFILES.filter((p) => matchesFilter(filter, p, { now: NOW })).map((p) => p.id)).toEqual(ids);
    });
  }
});

for (const kind of storeKinds) {
  describe(`segment filter examples in SQL on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<typeof kind.open>>;
    beforeAll(async () => {
      driver = await kind.open();
      await profileTables(driver);
      await writeProfiles(driver, PROFILES);
    });
    afterAll(() => driver.dispose());

    it("chooses the profiles each example says", async () => {
      for (const [name, filter, ids] of examples)
        expect([name, await sqlMatches(driver, filter, NOW)]).toEqual([name, ids]);
    });

    it("binds every value and property key: nothing the user wrote is in the SQL text", async () => {
      const key = `x'); DROP TABLE hookline_profiles; --`;
      const value = `o'clock"\\`;
      await writeProfiles(driver, [...PROFILES, { id: "eve", properties: { [key]: value } }]);
      const filter: SegmentFilter = { property: [key], equals: value };
      const { where, params } = compileFilter(filter, { now: NOW });
      expect(where).not.toContain("DROP");
      expect(where).not.toContain("clock");
      expect(params).toContain(key);
      expect(await sqlMatches(driver, filter, NOW)).toEqual(["eve"]);
      await writeProfiles(driver, PROFILES);
    });

    it("pages members in id order and counts them", async () => {
      const everyone: SegmentFilter = { and: [] };
      expect(await segmentSize(driver, everyone, { now: NOW })).toBe(4);
      const first = await segmentMembers(driver, everyone, { now: NOW, limit: 3 });
      const rest = await segmentMembers(driver, everyone, { now: NOW, limit: 3, after: first.at(-1) });
      expect([...first, ...rest]).toEqual(["ada", "bob", "cyd", "dee"]);
      expect(await segmentSize(driver, { consent: ["sms"] }, { now: NOW })).toBe(1);
    });
  });
}

describe("segment filter checks", () => {
  const problems = (filter: unknown) => {
    const checked = checkFilter(filter, "segments.vip.filter");
    return checked.ok ? [] : checked.problems;
  };

  it("names the path of a wrong value in the filter", () => {
    expect(
      problems({
        and: [
          { property: "tier", equals: "gold" },
          { property: "lifetimeValue", gt: true },
        ],
      }),
    ).toEqual([
      "segments.vip.filter.and[1].gt: expected a number or a date (or a string, compared by code point)",
    ]);
  });

  it("takes one condition per object, and a property only with a property operator", () => {
    expect(problems({ property: "age", gt: 1, lt: 9 })).toEqual([
      "segments.vip.filter.gt: one condition per object (found lt and gt): combine conditions with and",
    ]);
    expect(problems({ gt: 1 })).toEqual([
      "segments.vip.filter.gt: gt needs a property: { property: …, gt: … }",
    ]);
    expect(problems({ property: "age" })[0]).toContain("expected one condition");
    expect(problems({ property: "age", consent: ["sms"] })).toEqual([
      "segments.vip.filter.property: consent takes no property",
    ]);
  });

  it("refuses unknown operators, null values, bad dates and durations, empty path keys", () => {
    expect(problems({ property: "age", equal: 1 }).join()).toContain("equal");
    expect(problems({ property: "tier", equals: null })).toEqual([
      "segments.vip.filter.equals: expected a string, a number or a boolean (for a missing value use exists: false)",
    ]);
    expect(problems({ property: "d", before: "2023-02-29" })[0]).toStartWith(
      "segments.vip.filter.before: expected an ISO 8601 date",
    );
    expect(problems({ property: "d", withinLast: "1 month" })[0]).toStartWith(
      'segments.vip.filter.withinLast: expected a duration such as "30d"',
    );
    expect(problems({ property: "d", withinLast: "36501d" })).toEqual([
      "segments.vip.filter.withinLast: expected a duration of at most 36500d",
    ]);
    expect(problems({ property: "a..b", exists: true })).toEqual([
      "segments.vip.filter.property: expected keys joined by '.', none of them empty",
    ]);
    expect(problems({ consent: ["marketing email"] })[0]).toStartWith(
      "segments.vip.filter.consent[0]: expected an objective name",
    );
  });

  it("bounds the depth and the size of a filter", () => {
    let deep: SegmentFilter = { property: "a", exists: true };
    for (let i = 0; i <= FILTER_LIMITS.depth; i++) deep = { not: deep };
    expect(problems(deep)).toEqual([
      `segments.vip.filter${".not".repeat(FILTER_LIMITS.depth)}: nested deeper than ${FILTER_LIMITS.depth} levels of and, or, not`,
    ]);
    let past = deep;
    for (let i = 0; i < 20_000; i++) past = { not: past };
    expect(problems(past)).toEqual([
      `segments.vip.filter: nested deeper than ${FILTER_LIMITS.depth} levels of and, or, not`,
    ]);
    const wide = {
      or: Array.from({ length: FILTER_LIMITS.conditions }, () => ({ property: "a", exists: true })),
    };
    expect(problems(wide)).toEqual([
      `segments.vip.filter.or[${FILTER_LIMITS.conditions - 1}]: more than ${FILTER_LIMITS.conditions} conditions in one filter`,
    ]);
    expect(
      problems({ property: "a", in: Array.from({ length: FILTER_LIMITS.inValues + 1 }, (_, i) => i) }),
    ).toEqual([`segments.vip.filter.in: expected at most ${FILTER_LIMITS.inValues} values`]);
  });
});
