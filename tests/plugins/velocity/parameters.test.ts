import { describe, expect, it } from "bun:test";
import { velocityRenderer } from "../../../plugins/velocity/index.ts";

const { parameters } = velocityRenderer();

describe("Velocity parameter discovery", () => {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Velocity's ${…} reference, not JavaScript's
  it("finds $params.x, $!params.x, ${params.x}, $params.get('x') and $params['x'], once each", () => {
    const source = [
      "$params.a",
      "$!params.b",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Velocity's ${…} reference, not JavaScript's
      "${params.c}",
      "$!{params.d}",
      "$params.get('e')",
      '$params.get("f")',
      "$params['g']",
      "$params.a",
    ].join(" ");
    expect(parameters!(source)).toEqual(["a", "b", "c", "d", "e", "f", "g"]);
  });

  it("finds them inside directives and method arguments", () => {
    const source = "#if($params.vip)#foreach($i in $params.items)$i#end#end$mathTool.add($params.n, 1)";
    expect(parameters!(source)).toEqual(["vip", "items", "n"]);
  });

  it("ignores comments, raw blocks, escaped references, other names and interpolated keys", () => {
    const source =
      '## $params.a\n#* $params.b *#\\$params.c #[[ $params.d ]]# $customer.params $params.get("$k")';
    expect(parameters!(source)).toEqual([]);
  });

  it("answers [] for a template that does not parse", () => {
    expect(parameters!("#if($params.a")).toEqual([]);
  });
});
