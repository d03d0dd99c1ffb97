import { describe, expect, it } from "bun:test";
import { etaRenderer } from "../../../plugins/eta/index.ts";
import { etaPrecompiledRenderer } from "../../../plugins/eta/precompile.ts";

const { parameters } = etaRenderer();

describe("Eta parameter discovery", () => {
  it('finds it.params.x and it.params["x"] (and optional chaining) in every kind of tag, once each', () => {
    const source = [
      "<%= it.params.a %>",
      '<%~ it.params["b"] %>',
      "<% if (it.params?.c || it.params['d'] || it.params?.[`e`]) { %>x<% } %>",
      "<%= it.params.a %>",
    ].join("");
    expect(parameters!(source)).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("ignores text outside tags, other objects' params, and computed keys", () => {
    expect(
      parameters!("it.params.text <%= it.event.params.x %><%= it.params[key] %><%= bit.params.y %>"),
    ).toEqual([]);
  });

  it("answers [] for a template that does not parse", () => {
    expect(parameters!("<%= it.params.a ")).toEqual([]);
  });

  it("finds the same parameters with the precompiled renderer (no code generation)", () => {
    expect(etaPrecompiledRenderer({}).parameters!("<%= it.params.a %>")).toEqual(["a"]);
  });
});
