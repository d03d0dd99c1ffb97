/**
 * The value limits the receivers apply (core/model/json-limits.ts) and the hashing they rely on
 * (canonicalJson, activityKey): pure functions, judged against the stores themselves.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import fc from "fast-check";
import { canonicalJson } from "../../../core/mapping/index.ts";
import { activityKey } from "../../../core/model/activity.ts";
import { JSON_LIMITS, unstorableJson, unstorableText } from "../../../core/model/json-limits.ts";
import { storeKinds } from "../../support/db.ts";

/** arrays nested `levels` deep, built without recursion */
const nested = (levels: number): unknown => {
  let v: unknown = null;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
};

/** The recursive canonical JSON the iterative one replaced: the reference it must agree with. */
const reference = (value: unknown): string => {
  if (value === undefined) return "undefined";
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? "null" : reference(v))).join(",")}]`;
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(o[k])}`).join(",")}}`;
};

describe("canonicalJson", () => {
  it("gives the text of a value nested 200,000 levels deep instead of overflowing the stack", () => {
    const text = canonicalJson({ a: nested(200_000) });
    expect(text.length).toBe('{"a":'.length + 200_000 * 2 + 4 + 1);
    expect(text.startsWith('{"a":[[[')).toBe(true);
  });

  it("keys an activity whose whole content (no iid) is nested 200,000 levels deep", () => {
    const key = activityKey({
      activityStatus: "READ",
      activityDateTime: "2024-01-01T10:00:00",
      partner: nested(200_000),
    } as never);
    expect(key).toMatch(/^[0-9a-f]{32}$/);
  });

  it("throws a TypeError on a cycle rather than running out of memory", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = [cyclic];
    expect(() => canonicalJson(cyclic)).toThrow(TypeError);
  });

  it("writes exactly what the recursive definition writes, for any JSON value (undefined members included)", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue({ maxDepth: 6 }),
          fc.anything({ maxDepth: 4, withNullPrototype: true, withObjectString: false }),
        ),
        (v) => {
          expect(canonicalJson(v)).toBe(reference(v));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("gives equal text for equal values whatever the key order, and text that parses back to the value", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        const shuffled = JSON.parse(JSON.stringify(v), (_k, x) =>
          x && typeof x === "object" && !Array.isArray(x)
            ? Object.fromEntries(Object.entries(x).reverse())
            : x,
        );
        expect(canonicalJson(shuffled)).toBe(canonicalJson(v));
        expect(JSON.parse(canonicalJson(v))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      { numRuns: 1000 },
    );
  });
});

describe("unstorableJson", () => {
  it("names the outermost field of a value nested deeper than the limit, without walking it all", () => {
    expect(unstorableJson({ ok: 1, partner: nested(1_000_000) })).toEqual({
      path: ["partner"],
      message: `nested deeper than ${JSON_LIMITS.depth} levels`,
    });
    expect(unstorableJson(nested(JSON_LIMITS.depth))).toBeUndefined();
    expect(unstorableJson(nested(JSON_LIMITS.depth + 1))?.path).toEqual([0]);
  });

  it("names the path to NUL, lone surrogates, overlong strings and keys, and numbers JSON cannot carry", () => {
    expect(unstorableJson({ a: [1, { b: "x\u0000" }] })?.path).toEqual(["a", 1, "b"]);
    const key = unstorableJson({ a: { "k\u0000": 1 } });
    expect(key?.path).toEqual(["a"]);
    // The key is quoted JSON-escaped: the message itself holds no NUL.
    expect(key?.message).toStartWith('key "k\\u0000": contains U+0000');
    expect(unstorableJson({ a: ["\ud800"] })?.message).toMatch(/lone surrogate \(U\+D800\) at character 0/);
    expect(unstorableJson({ a: "ok \udc00" })?.message).toMatch(/U\+DC00\) at character 3/);
    expect(unstorableJson({ a: "x".repeat(JSON_LIMITS.stringLength + 1) })?.path).toEqual(["a"]);
    expect(unstorableJson({ a: Number.POSITIVE_INFINITY })?.path).toEqual(["a"]);
    expect(unstorableJson({ a: 10n })?.message).toMatch(/bigint is not a JSON value/);
    expect(
      unstorableJson({ a: "😀 ✓", b: [true, null, -0, 1e308], c: "x".repeat(JSON_LIMITS.stringLength) }),
    ).toBe(undefined);
  });

  it("judges text as the string check does", () => {
    expect(unstorableText("a\u0000b")).toMatch(/U\+0000 \(NUL\) at character 1/);
    expect(unstorableText("\ud83d\ude00")).toBeUndefined();
    expect(unstorableText("\ude00\ud83d")).toMatch(/lone surrogate/);
  });
});

for (const kind of storeKinds) {
  describe(`unstorableJson agrees with ${kind.name}`, () => {
    let driver: Awaited<ReturnType<typeof kind.open>>;
    beforeAll(async () => {
      driver = await kind.open();
    });
    afterAll(async () => {
      await driver.dispose();
    });

    it("accepts exactly the values jsonb takes (strings of any UTF-16 code units, NUL and lone surrogates included)", async () => {
      // Strings from every code unit, weighted toward NUL and surrogates; shallow enough for the limits.
      const unit = fc.oneof(
        fc.constantFrom("\u0000", "\ud800", "\udbff", "\udc00", "\udfff", "\ud83d\ude00"),
        fc.string({ unit: "binary", maxLength: 3 }),
      );
      const text = fc.array(unit, { maxLength: 4 }).map((parts) => parts.join(""));
      const value = fc.letrec((tie) => ({
        node: fc.oneof(
          { depthSize: "small" },
          text,
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.boolean(),
          fc.constant(null),
          fc.array(tie("node"), { maxLength: 3 }),
          fc.dictionary(text, tie("node"), { maxKeys: 3 }),
        ),
      })).node;
      await fc.assert(
        fc.asyncProperty(value, async (v) => {
          let stored: boolean;
          try {
            await driver.query("SELECT $1::text::jsonb AS j", [JSON.stringify(v)]);
            stored = true;
          } catch (e) {
            // Only the data exception a bad character raises: anything else is not this property.
            expect(String((e as { code?: string }).code)).toMatch(/^22/);
            stored = false;
          }
          expect(unstorableJson(v) === undefined).toBe(stored);
        }),
        { numRuns: 300 },
      );
    });
  });
}
