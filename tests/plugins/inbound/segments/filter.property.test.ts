/**
 * Property-based test of the segment filter (issue 16): the SQL a filter compiles to and the in-memory
 * evaluator choose the same profiles, for generated filters over generated profiles, on PGlite and on
 * Postgres. The profiles carry what makes the two disagree if any rule differs: missing keys, null,
 * integers and doubles (-0, 1e21, 5e-324), strings that look like numbers or dates (valid or not,
 * zoned or not, with fractions), arrays, nested objects, keys with dots, unicode past U+FFFF.
 * - "thousands": 3,000 profiles written once, hundreds of filters against them;
 * - "shrinking": a few profiles and one filter per run, so that a failure shrinks to a small example.
 * fast-check prints the seed and the shrunk counterexample when a property fails; replay one with
 * HOOKLINE_PROPERTY_SEED and HOOKLINE_PROPERTY_PATH. HOOKLINE_PROPERTY_RUNS scales the runs.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import fc from "fast-check";
import { filterMatcher, matchesFilter } from "../../../../plugins/inbound/segments/evaluate.ts";
import {
  SegmentFilter as FilterSchema,
  type SegmentFilter,
} from "../../../../plugins/inbound/segments/filter.ts";
import { storeKinds } from "../../../support/db.ts";
import { profileTables, sqlMatches, type TestProfile, writeProfiles } from "../../../support/segments.ts";

const RUNS = Number(process.env.HOOKLINE_PROPERTY_RUNS ?? 1);
const runs = (n: number) =>
  process.env.HOOKLINE_PROPERTY_SEED
    ? {
        seed: Number(process.env.HOOKLINE_PROPERTY_SEED),
        path: process.env.HOOKLINE_PROPERTY_PATH,
        endOnFailure: true,
      }
    : { numRuns: Math.max(1, Math.round(n * RUNS)) };

/** The fixed clock relative times count from: 2025-06-15T12:00:00Z. */
const NOW = Date.UTC(2025, 5, 15, 12);
const DAY = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Values, shared by profiles and filters so that filters hit what profiles hold

const storable = (s: string) => !s.includes("\u0000") && !/\p{Surrogate}/u.test(s);
const pad = (n: number, w = 2) => String(n).padStart(w, "0");

/** Instants filters and profiles share: now, its relative bounds, a leap day (ms). */
const ANCHORS = [NOW, NOW - 30 * DAY, NOW - 7 * DAY, NOW + 7 * DAY, NOW - 365 * DAY, Date.UTC(2024, 1, 29)];
/** An instant in microseconds: anywhere in years 1000–9999, near now, or a few µs from an anchor. */
const instant = fc.oneof(
  {
    weight: 1,
    arbitrary: fc.integer({ min: Date.UTC(1000, 0, 1), max: Date.UTC(9999, 11, 31) }).map((ms) => ms * 1000),
  },
  { weight: 2, arbitrary: fc.integer({ min: (NOW - 400 * DAY) * 1000, max: (NOW + 400 * DAY) * 1000 }) },
  {
    weight: 4,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...ANCHORS),
        fc.constantFrom(0, 1, 499, 500, 999, 1000, 1001, -1, -500, -1000, -1001),
      )
      .map(([ms, us]) => ms * 1000 + us),
  },
);
const ZONES: Record<string, number> = {
  "": 0,
  Z: 0,
  "+02:00": 120,
  "-05:30": -330,
  "+14:00": 840,
  "-00:45": -45,
};
/** ISO dates in every form the filter reads: date only, minutes, seconds, 1–6 fraction digits, zones. */
const isoDate = fc
  .record({
    at: instant,
    form: fc.constantFrom("date", "minutes", "seconds", "fraction", "fraction", "fraction", "iso"),
    zone: fc.constantFrom(...Object.keys(ZONES)),
    fraction: fc.integer({ min: 1, max: 6 }),
    separator: fc.constantFrom("T", " "),
  })
  .map(({ at, form, zone, fraction, separator }) => {
    // The wall-clock time in the zone written, so that the text names the instant `at`.
    const wall = at + ZONES[zone]! * 60_000_000;
    const d = new Date(Math.floor(wall / 1000));
    if (form === "iso") return d.toISOString();
    const day = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
    if (form === "date") return day;
    const hm = `${day}${separator}${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
    if (form === "minutes") return `${hm}${zone}`;
    const s = `${hm}:${pad(d.getUTCSeconds())}`;
    if (form === "seconds") return `${s}${zone}`;
    const micros = ((wall % 60_000_000) + 60_000_000) % 1_000_000;
    return `${s}.${pad(micros, 6).slice(0, fraction)}${zone}`;
  });
const notQuiteDates = fc.constantFrom(
  "2023-02-29",
  "2024-02-29",
  "2024-04-31",
  "2024-04-30T24:00:00Z",
  "2024-06-01T10:00:00.1234567Z",
  "2024-06-01T10:00:00+15:00",
  "0999-12-31",
  "+010000-01-01T00:00:00.000Z",
  "2025-06-15T12:00:00Z",
  "2025-06-15T12:00:00.000+00:00",
  "2025-06-15t12:00:00z",
  "2025-6-1",
  "now",
  "today",
);
const numericText = fc.oneof(
  fc.constantFrom("42", "042", "-0", "0", "1.50", "7", "0.1", "1e3", " 42", "4.", ".5", "+5", "1,5"),
  fc.constantFrom(
    "123456789012345",
    "1234567890123456",
    "0.123456789012345",
    "-999999999999999.999999999999999",
  ),
  fc.integer({ min: -200, max: 200 }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map(String),
);
const word = fc.constantFrom(
  "gold",
  "Gold",
  "gold ",
  "silver",
  "",
  "é",
  "e\u0301",
  "😀",
  "\uE000",
  "\uFFFF",
  "ab",
  "abc",
  "b",
  "Ghent",
  "a'b",
  'quote"d',
  "back\\slash",
  "%_",
);
const anyText = fc.string({ unit: "binary", maxLength: 6 }).filter(storable);
const text = fc.oneof(
  { weight: 4, arbitrary: word },
  { weight: 3, arbitrary: isoDate },
  { weight: 1, arbitrary: notQuiteDates },
  { weight: 3, arbitrary: numericText },
  { weight: 2, arbitrary: anyText },
);
const number = fc.oneof(
  fc.integer({ min: -200, max: 200 }),
  fc.constantFrom(0, -0, 0.1, 0.30000000000000004, 1.5, 42, 7, 1e21, -1e21, 5e-324, 2 ** 53, 123456789012345),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const scalar: fc.Arbitrary<string | number | boolean> = fc.oneof(
  { weight: 5, arbitrary: text },
  { weight: 3, arbitrary: number },
  { weight: 1, arbitrary: fc.boolean() },
);

// ---------------------------------------------------------------------------------------------
// Profiles

const KEYS = ["a", "b", "c", "n", "d", "tags", "nested", "a.b", "__proto__"] as const;
const INNER_KEYS = ["x", "y", "a.b", "__proto__"] as const;
const leafValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 8, arbitrary: scalar },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.array(fc.oneof(scalar, fc.constant(null)), { maxLength: 4 }) },
);
const value: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: leafValue },
  {
    weight: 2,
    arbitrary: fc.dictionary(fc.constantFrom(...INNER_KEYS), leafValue, { maxKeys: 3 }),
  },
);
const properties = fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 6 });
const OBJECTIVES = ["email", "sms", "push"] as const;
const consents = fc.dictionary(
  fc.constantFrom(...OBJECTIVES),
  fc.boolean().map((granted) => ({ granted })),
  { maxKeys: 3 },
);
const profiles = (min: number, max: number) =>
  fc
    .array(fc.record({ properties, consents }), { minLength: min, maxLength: max })
    .map((list): TestProfile[] =>
      // What the store gives back: JSON as Postgres keeps it (no undefined, -0 as 0, no own __proto__ lost).
      list.map((p, i) => ({ id: `p${pad(i, 5)}`, ...JSON.parse(JSON.stringify(p)) })),
    );

// ---------------------------------------------------------------------------------------------
// Filters

const path = fc.constantFrom<string | string[]>(
  "a",
  "b",
  "c",
  "n",
  "d",
  "tags",
  "nested",
  "nested.x",
  "nested.y",
  "missing",
  "a.b",
  ["a.b"],
  ["nested", "a.b"],
  "__proto__",
  "nested.__proto__",
  "a.x",
);
const duration = fc.constantFrom("1d", "30d", "7d", "12h", "365d", "90m", "2w", "400d", "36500d", "0d");
const timeBound = fc.oneof(
  isoDate,
  duration.map((d) => ({ ago: d })),
  duration.map((d) => ({ fromNow: d })),
);
const comparable = fc.oneof(number, text);
const leaf: fc.Arbitrary<SegmentFilter> = fc.oneof(
  fc.record({ property: path, equals: scalar }),
  fc.record({ property: path, notEquals: scalar }),
  fc.record({ property: path, in: fc.array(scalar, { minLength: 1, maxLength: 5 }) }),
  fc.record({ property: path, exists: fc.boolean() }),
  fc.record({ property: path, lt: comparable }),
  fc.record({ property: path, lte: comparable }),
  fc.record({ property: path, gt: comparable }),
  fc.record({ property: path, gte: comparable }),
  fc.record({ property: path, contains: scalar }),
  fc.record({ property: path, before: timeBound }),
  fc.record({ property: path, after: timeBound }),
  fc.record({ property: path, withinLast: duration }),
  fc.record({ property: path, withinNext: duration }),
  fc.record({ consent: fc.uniqueArray(fc.constantFrom(...OBJECTIVES), { minLength: 1, maxLength: 3 }) }),
);
const filter: fc.Arbitrary<SegmentFilter> = fc
  .letrec<{ f: SegmentFilter }>((tie) => ({
    f: fc.oneof(
      { depthSize: "small", maxDepth: 4, withCrossShrink: true },
      leaf,
      fc.record({ and: fc.array(tie("f"), { maxLength: 3 }) }),
      fc.record({ or: fc.array(tie("f"), { maxLength: 3 }) }),
      fc.record({ not: tie("f") }),
    ),
  }))
  .f.filter((f) => FilterSchema.safeParse(f).success);

/** The ids the evaluator chooses, by the matcher made once (the thousands) or per profile (the few). */
const evaluated = (list: readonly TestProfile[], f: SegmentFilter) => {
  const matches =
    list.length > 100
      ? filterMatcher(f, { now: NOW })
      : (p: TestProfile) => matchesFilter(f, p, { now: NOW });
  return list
    .filter(matches)
    .map((p) => p.id)
    .sort();
};

for (const kind of storeKinds) {
  describe(`segment filter: SQL equals the evaluator on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<typeof kind.open>>;
    beforeAll(async () => {
      driver = await kind.open();
      await profileTables(driver);
    });
    afterAll(() => driver.dispose());

    it("chooses the same profiles among 3,000 for every generated filter", async () => {
      const list = fc.sample(profiles(3000, 3000), { numRuns: 1, seed: 16 })[0]!;
      await writeProfiles(driver, list);
      let matchedSome = 0;
      await fc.assert(
        fc.asyncProperty(filter, async (f) => {
          const expected = evaluated(list, f);
          if (expected.length > 0 && expected.length < list.length) matchedSome++;
          expect(await sqlMatches(driver, f, NOW)).toEqual(expected);
        }),
        runs(kind.name === "pglite" ? 300 : 500),
      );
      // The generators are worth something only if filters split the profiles.
      expect(matchedSome).toBeGreaterThan(10);
    });

    it("chooses the same profiles for one filter over a few, shrinking a failure to a small example", async () => {
      await fc.assert(
        fc.asyncProperty(profiles(0, 12), filter, async (list, f) => {
          await writeProfiles(driver, list);
          expect(await sqlMatches(driver, f, NOW)).toEqual(evaluated(list, f));
        }),
        runs(kind.name === "pglite" ? 200 : 300),
      );
    });
  });
}
