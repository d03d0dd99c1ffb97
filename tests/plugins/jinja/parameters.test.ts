import { describe, expect, it } from "bun:test";
import { jinjaRenderer } from "../../../plugins/jinja/index.ts";

const { parameters } = jinjaRenderer();

describe("Jinja parameter discovery", () => {
  it("finds params.x, params['x'] and params.get('x') in output, filters, tests and statements", () => {
    const source = [
      "{{ params.a }}",
      '{{ params["b"] | default(params.c) }}',
      "{% if params.get('d', 1) is defined %}{% for x in params.e %}{{ x }}{% endfor %}{% endif %}",
      "{% set y = params.a %}",
    ].join("");
    expect(parameters!(source)).toEqual(["a", "b", "c", "d", "e"]);
  });

  it("ignores comments, raw blocks, dict methods, other objects' params and computed keys", () => {
    const source =
      "{# params.a #}{% raw %}{{ params.b }}{% endraw %}{% for k, v in params.items() %}{% endfor %}{{ event.params.c }}{{ params[k] }}";
    expect(parameters!(source)).toEqual([]);
  });

  it("answers [] for a template that does not parse", () => {
    expect(parameters!("{{ params.a ")).toEqual([]);
  });
});
