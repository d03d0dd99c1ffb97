import { describe, expect, it } from "bun:test";
import { mustacheRenderer } from "../../../plugins/mustache/index.ts";

const { parameters } = mustacheRenderer();

describe("Mustache parameter discovery", () => {
  it("finds {{params.x}}, {{{params.x}}}, {{&params.x}}, {{#params.x}} and {{^params.x}}, nested too", () => {
    const source =
      "{{params.a}}{{{params.b}}}{{&params.c}}{{#params.d}}{{params.e.name}}{{/params.d}}{{^params.f}}-{{/params.f}}{{params.a}}";
    expect(parameters!(source)).toEqual(["a", "b", "c", "d", "e", "f"]);
  });

  it("follows changed delimiters and ignores comments and other names", () => {
    expect(parameters!("{{! params.a }}{{customer.params}}{{params}}{{=<% %>=}}<%params.b%>")).toEqual(["b"]);
  });

  it("answers [] for a template that does not parse", () => {
    expect(parameters!("{{#params.a}}")).toEqual([]);
  });
});
