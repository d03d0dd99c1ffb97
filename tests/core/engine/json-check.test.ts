import { describe, expect, it } from "bun:test";
import { jsonErrorAt } from "../../../core/engine/json-check.ts";

describe("jsonErrorAt", () => {
  it("accepts what JSON.parse accepts", () => {
    for (const t of [
      '{"a": [1, -2.5e3, true, false, null, "x\\n\\u00e9"]}',
      "[]",
      " 3 ",
      '"s"',
      '{"a":{}}',
    ]) {
      expect(() => JSON.parse(t)).not.toThrow();
      expect(jsonErrorAt(t)).toBeUndefined();
    }
  });

  it("points at the first error, by line and column", () => {
    expect(jsonErrorAt('{"email": ada@example.com}')).toEqual({ line: 1, column: 11, expected: "a value" });
    expect(jsonErrorAt('{\n  "a": 1,\n  "b": 2,\n}')).toEqual({
      line: 4,
      column: 1,
      expected: "a property name in double quotes",
    });
    expect(jsonErrorAt('{"a": "line\nbreak"}')).toMatchObject({ line: 1, column: 12 });
    expect(jsonErrorAt('{"a": 1} x')).toMatchObject({ expected: "the end of the text" });
    expect(jsonErrorAt('{"a": 1')).toMatchObject({ expected: "',' or '}'" });
  });
});
