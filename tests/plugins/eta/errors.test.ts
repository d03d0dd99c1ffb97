import { describe, expect, it } from "bun:test";
import { TemplateError } from "../../../core/errors.ts";
import { etaRenderer } from "../../../plugins/eta/index.ts";
import { precompileEta } from "../../../plugins/eta/precompile.ts";

const renderer = etaRenderer();
const compileError = (source: string): TemplateError => {
  try {
    renderer.compile(source, { name: "webhooks.w.body" });
  } catch (e) {
    if (e instanceof TemplateError) return e;
    throw e;
  }
  throw new Error("expected a TemplateError");
};

describe("eta: syntax errors at compile carry the line and column inside the template", () => {
  it("places JavaScript that does not compile in an output tag at that tag", () => {
    const e = compileError('{\n  "a": <%= json(it.a) %>,\n  "b": <%= it.b( %>\n}');
    expect([e.line, e.column]).toEqual([3, 8]);
    expect(e.message).toStartWith("eta syntax error in <%= it.b( %>: ");
    expect(e.message).not.toContain("webhooks.w.body"); // the config names the key path, once
  });

  it("places a bad statement inside an open block at its own tag, not at the block's", () => {
    const e = compileError("<% if (it.x) { %>\nyes\n  <% const = 1 %>\n<% } %>");
    expect([e.line, e.column]).toEqual([3, 3]);
  });

  it("places a block never closed at the tag that opens it", () => {
    const e = compileError("<%= json(it.a) %>\n<% it.items.forEach(function (i) { %>\n  <%= json(i) %>\n");
    expect([e.line, e.column]).toEqual([2, 1]);
    expect(e.message).toContain("<% it.items.forEach(function (i) { %>");
  });

  it("counts earlier tags on the same line to find the column", () => {
    const e = compileError("<%= 1 %><%= 2 %> <%~ 3 + %>");
    expect([e.line, e.column]).toEqual([1, 18]);
  });

  it("keeps Eta's own place for a tag left open", () => {
    const e = compileError("ok\n  <%= it.x");
    expect([e.line, e.column]).toEqual([2, 3]);
    expect(e.message).toBe("eta syntax error: unclosed tag");
  });

  it("names the templates and the place when precompiling", () => {
    expect(() => precompileEta({ "webhooks.a.body": "x\n<%= it.b( %>" })).toThrow(
      /^webhooks\.a\.body: eta syntax error in <%= it\.b\( %>: .* \(line 2, column 1\)$/,
    );
  });
});
