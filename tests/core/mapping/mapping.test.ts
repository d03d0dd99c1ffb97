import { describe, expect, it } from "bun:test";
import {
  applyMapping,
  canonicalJson,
  checkExpression,
  formSource,
  jsonSource,
  MappingRule,
  select,
} from "../../../core/mapping/index.ts";

const rules = (...r: Array<Partial<MappingRule> & { from: string; to: string }>) =>
  r.map((x) => MappingRule.parse(x));

describe("select", () => {
  const body = jsonSource({
    customer: { email: "ada@example.com", tags: ["a", "b"] },
    items: [{ v: 1 }, { v: 2 }],
  });

  it("selects by JSONPath, every match in document order", () => {
    expect(select(body, "$.customer.email")).toEqual(["ada@example.com"]);
    expect(select(body, "$..v")).toEqual([1, 2]);
    expect(select(body, "$.missing")).toEqual([]);
  });

  it("reads form fields by name, repeated fields keeping every value, and by JSONPath over the fields", () => {
    const form = formSource(new URLSearchParams("email=ada%40example.com&tag=a&tag=b"));
    expect(select(form, "email")).toEqual(["ada@example.com"]);
    expect(select(form, "tag")).toEqual(["a", "b"]);
    expect(select(form, "$.email")).toEqual(["ada@example.com"]);
    expect(select(form, "nope")).toEqual([]);
  });

  it("reads a plain name as a top-level key of a JSON object", () => {
    expect(select(jsonSource({ email: "x@y.z" }), "email")).toEqual(["x@y.z"]);
    expect(select(jsonSource([1, 2]), "email")).toEqual([]);
  });

  it("never runs script: filters and expressions are refused before jsonpath-plus sees them", () => {
    expect(checkExpression("$.items[?(@.v > 1)].v")).toContain("script expressions");
    expect(checkExpression("$..[(@.length-1)]")).toContain("script expressions");
    expect(() => select(body, "$.items[?(@.v > 1)].v")).toThrow(/script expressions/);
    // Nothing global was touched by an attempted expression.
    expect(() => select(body, "$[?(globalThis.pwned = 1)]")).toThrow();
    expect((globalThis as Record<string, unknown>).pwned).toBeUndefined();
    expect(MappingRule.safeParse({ from: "$[?(@.x)]", to: "p" }).success).toBe(false);
  });

  it("does not reach prototypes", () => {
    expect(select(jsonSource({}), "$.constructor")).toEqual([]);
    expect(select(jsonSource({}), "constructor")).toEqual([]);
    expect(MappingRule.safeParse({ from: "$.x", to: "__proto__" }).success).toBe(false);
  });
});

describe("applyMapping", () => {
  it("set writes the value, or the list of values when several match", () => {
    const r = applyMapping(
      { name: "old" },
      jsonSource({ name: "Ada", tags: ["x", "y"] }),
      rules({ from: "$.name", to: "name" }, { from: "$.tags[*]", to: "tags" }),
    );
    expect(r.properties).toEqual({ name: "Ada", tags: ["x", "y"] });
    expect(r.changed).toEqual(["name", "tags"]);
  });

  it("set-if-empty writes only into a missing, null, empty or [] property", () => {
    const src = jsonSource({ v: "new" });
    const rs = rules({ from: "$.v", to: "p", mode: "set-if-empty" });
    expect(applyMapping({}, src, rs).properties.p).toBe("new");
    expect(applyMapping({ p: null }, src, rs).properties.p).toBe("new");
    expect(applyMapping({ p: "" }, src, rs).properties.p).toBe("new");
    expect(applyMapping({ p: [] }, src, rs).properties.p).toBe("new");
    const kept = applyMapping({ p: "old" }, src, rs);
    expect(kept.properties.p).toBe("old");
    expect(kept.changed).toEqual([]);
  });

  it("add-to-list appends values not yet in the list, turning a scalar into a list", () => {
    const rs = rules({ from: "$.tags", to: "tags", mode: "add-to-list" });
    const r = applyMapping({ tags: ["a"] }, jsonSource({ tags: ["a", "b", "b", "c"] }), rs);
    expect(r.properties.tags).toEqual(["a", "b", "c"]);
    expect(applyMapping({ tags: "a" }, jsonSource({ tags: "z" }), rs).properties.tags).toEqual(["a", "z"]);
    expect(applyMapping({}, jsonSource({ tags: { k: 1 } }), rs).properties.tags).toEqual([{ k: 1 }]);
    const same = applyMapping({ tags: [{ k: 1 }] }, jsonSource({ tags: { k: 1 } }), rs);
    expect(same.changed).toEqual([]);
  });

  it("sum adds numbers and numeric strings, missing counting as 0", () => {
    const rs = rules({ from: "amount", to: "total", mode: "sum" });
    expect(applyMapping({ total: 10 }, jsonSource({ amount: 2.5 }), rs).properties.total).toBe(12.5);
    expect(applyMapping({}, formSource(new URLSearchParams("amount=7")), rs).properties.total).toBe(7);
    expect(
      applyMapping({ total: "3" }, formSource(new URLSearchParams("amount=1&amount=2")), rs).properties.total,
    ).toBe(6);
  });

  it("sum reports a value that is not a number and leaves the property alone, applying the other rules", () => {
    const r = applyMapping(
      { total: 1 },
      jsonSource({ amount: "lots", name: "Ada" }),
      rules({ from: "$.amount", to: "total", mode: "sum" }, { from: "$.name", to: "name" }),
    );
    expect(r.properties).toEqual({ total: 1, name: "Ada" });
    expect(r.errors).toEqual([
      {
        code: "HOOKLINE_MAPPING_NOT_A_NUMBER",
        rule: 0,
        property: "total",
        description: expect.stringContaining('"lots"'),
      },
    ]);
    expect(r.changed).toEqual(["name"]);
    const intoText = applyMapping(
      { total: "abc" },
      jsonSource({ amount: 1 }),
      rules({ from: "$.amount", to: "total", mode: "sum" }),
    );
    expect(intoText.errors[0]?.description).toContain("is not a number");
  });

  it("leaves properties alone when nothing or null is selected, and reports no change for an equal value", () => {
    const r = applyMapping(
      { a: 1, b: { x: [1, 2] } },
      jsonSource({ a: null, b: { x: [1, 2] } }),
      rules({ from: "$.a", to: "a" }, { from: "$.b", to: "b" }, { from: "$.c", to: "c" }),
    );
    expect(r.properties).toEqual({ a: 1, b: { x: [1, 2] } });
    expect(r.changed).toEqual([]);
  });

  it("applies rules in order and does not change its input", () => {
    const profile = Object.freeze({ n: 1 });
    const r = applyMapping(
      profile,
      jsonSource({ n: 5 }),
      rules({ from: "$.n", to: "n", mode: "sum" }, { from: "$.n", to: "n", mode: "sum" }),
    );
    expect(r.properties.n).toBe(11);
    expect(profile).toEqual({ n: 1 });
  });

  it("canonicalJson ignores key order", () => {
    expect(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] })).toBe('{"a":[2,{"c":4,"d":3}],"b":1}');
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });
});
