import { describe, expect, it } from "bun:test";
import type { TemplateContext } from "../../../core/contracts/renderer.ts";
import { TemplateError } from "../../../core/errors.ts";
import { jinjaRenderer } from "../../../plugins/jinja/index.ts";

const renderer = jinjaRenderer();
const render = (source: string, context: TemplateContext = {}) =>
  renderer.compile(source, { name: "t" }).render(context);
const thrown = (f: () => unknown): TemplateError => {
  try {
    f();
  } catch (e) {
    return e as TemplateError;
  }
  throw new Error("expected an error");
};

/** Earlier responses of a scenario, as the engine passes them in `context.responses`. */
const responses = [
  { actionId: "a1", name: "lookup", data: { some_property: "from step 1", tier: "gold" } },
  { actionId: "a2", name: "coupon", data: { some_property: "from step 2", code: "X7" } },
  { actionId: "a3", name: "score", data: { some_property: "from step 3", score: 0.91 } },
];

describe("jinja: Bloomreach's response forms", () => {
  it("{{ webhook.some_property }} reads the last response", () => {
    expect(render("{{ webhook.some_property }}", { responses })).toBe("from step 3");
  });

  it("{{ webhook(2).some_property }} reads the 2nd response of the scenario", () => {
    expect(render("{{ webhook(2).some_property }}", { responses })).toBe("from step 2");
  });

  it("{{ webhook.by_action_id('a1').data }} reads a response by its action id", () => {
    expect(render("{{ webhook.by_action_id('a1').data.tier }}", { responses })).toBe("gold");
    expect(render("{{ webhook.by_action_id('a1').data | tojson }}", { responses })).toBe(
      '{"some_property":"from step 1","tier":"gold"}',
    );
    expect(render("[{{ webhook.by_action_id('zz').data }}]", { responses })).toBe("[]");
  });

  it("{{ webhook.data }} is the text of a TEXT response", () => {
    const text = [...responses, { actionId: "a4", name: "plain", data: "OK 42" }];
    expect(render("{{ webhook.data }}|{{ webhook(1).tier }}", { responses: text })).toBe("OK 42|gold");
  });

  it("renders nothing for responses when there are none, and keeps the webhook's name as webhook_name", () => {
    expect(
      render("[{{ webhook.x }}][{{ webhook(1) }}]{{ webhook_name }}", { webhook: { name: "crm" } }),
    ).toBe("[][]crm");
  });
});

describe("jinja: the language", () => {
  const customer = { first_name: "ada", last_name: "LOVELACE", tags: ["vip", "beta"], age: 36, score: 2.5 };

  it("substitutes, loops with loop.index and branches with if/elif/else", () => {
    const out = render(
      "Hi {{ customer.first_name }}!{% for t in customer.tags %} {{ loop.index }}/{{ loop.length }}={{ t }}{% if loop.last %}.{% endif %}{% endfor %}{% if customer.age > 40 %} old{% elif customer.age > 30 and 'vip' in customer.tags %} prime{% else %} young{% endif %}",
      { customer },
    );
    expect(out).toBe("Hi ada! 1/2=vip 2/2=beta. prime");
  });

  it("sets variables, keeps loop scopes apart, and carries a namespace across iterations", () => {
    const out = render(
      "{% set n = 1 %}{% for i in [1, 2] %}{% set n = n + i %}{% endfor %}{{ n }} {% set ns = namespace(total=0) %}{% for i in range(1, 4) %}{% set ns.total = ns.total + i %}{% endfor %}{{ ns.total }} {% set a, b = [1, 2] %}{{ a }}{{ b }}",
    );
    expect(out).toBe("1 6 12");
  });

  it("evaluates comparisons, not, in, the ternary and arithmetic as Python does", () => {
    expect(
      render(
        "{{ 1 < 2 < 3 }} {{ not none }} {{ 'b' not in ['a'] }} {{ 'yes' if customer.age else 'no' }} {{ 7 // 2 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 'a' ~ 1 }} {{ customer.missing is defined }}",
        { customer },
      ),
    ).toBe("True True True yes 3 2 1024 a1 False");
  });

  it("applies the filters payloads need", () => {
    const out = render(
      [
        "{{ customer.nick | default('friend') }}{{ customer.nick | d('!') }}",
        "{{ customer.last_name | lower | title }}",
        "{{ customer.first_name | upper }}",
        "{{ '  x ' | trim }}",
        "{{ customer.tags | length }}",
        "{{ customer.tags | join(', ') }}",
        "{{ 'a-b-c' | replace('-', '+') }}",
        "{{ customer.score | round }}",
        "{{ 3.14159 | round(2) }}",
        "{{ '123.0' | int }}",
        "{{ '4.5' | float }}",
        "{{ customer.tags | first }}",
        "{{ customer.tags | last }}",
        "{{ 'the quick brown fox jumps' | truncate(12) }}",
        "{{ '<a & b>' | e }}",
        "{{ customer.tags | tojson }}",
      ].join("|"),
      { customer },
    );
    expect(out).toBe(
      'friend!|Lovelace|ADA|x|2|vip, beta|a+b+c|2|3.14|123|4.5|vip|beta|the...|&lt;a &amp; b&gt;|["vip","beta"]',
    );
  });

  it("prints values as Jinja does: True, None, lists and dicts in Python's form", () => {
    expect(render("{{ true }} {{ none }} {{ [1, 'a'] }} {{ {'k': false} }} [{{ missing }}]")).toBe(
      "True None [1, 'a'] {'k': False} []",
    );
  });

  it("keeps {% raw %} as text and honours whitespace control", () => {
    expect(render("{% raw %}{{ x }}{% endraw %}|  {%- if true -%}  y  {%- endif -%}  |")).toBe("{{ x }}|y|");
  });

  it("drops a single trailing newline, as Jinja does", () => {
    expect(render("{{ 1 }}\n")).toBe("1");
  });
});

describe("jinja: sandbox", () => {
  const context = () => ({ customer: { email: "a@example.com", tags: ["x"] }, responses });

  it("gives nothing for constructors, prototypes and globals", () => {
    for (const source of [
      "{{ customer.constructor }}",
      "{{ ''.__class__ }}",
      "{{ ''.__class__.__mro__ }}",
      "{{ customer.__proto__ }}",
      "{{ customer['__proto__'] }}",
      "{{ customer.email.constructor }}",
      "{{ customer.tags.constructor }}",
      "{{ customer.hasOwnProperty }}",
      "{{ process }}",
      "{{ process.env }}",
      "{{ globalThis }}",
      "{{ Deno }}",
      "{{ Function }}",
      "{{ constructor }}",
      "{{ range.constructor }}",
      "{{ webhook.constructor }}",
      "{{ webhook(1).constructor }}",
      "{{ webhook.by_action_id.constructor }}",
    ]) {
      expect({ source, out: render(source, context()) }).toEqual({ source, out: "" });
    }
  });

  it("fails calls on what is not callable with a render error, not a crash", () => {
    for (const source of [
      "{{ customer.constructor('return process')() }}",
      "{{ ''.__class__.__mro__[1].__subclasses__() }}",
      "{{ customer.toString() }}",
      "{{ process.exit(1) }}",
    ]) {
      expect(thrown(() => render(source, context()))).toBeInstanceOf(TemplateError);
    }
  });

  it("does not change the caller's data or Object.prototype", () => {
    const c = context();
    const before = structuredClone(c);
    render(
      "{% set customer = 1 %}{% set __proto__ = {'polluted': 1} %}{% set d = {'__proto__': {'polluted': 1}} %}{{ d.polluted }}",
      c,
    );
    expect(c).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("stops a runaway template with a render error", () => {
    expect(() => render("{% for i in range(10000000) %}{% endfor %}")).toThrow(TemplateError);
    expect(() =>
      render("{% for i in range(2000) %}{% for j in range(2000) %}{% endfor %}{% endfor %}"),
    ).toThrow(/loop iterations/);
    expect(() =>
      render(
        "{% set ns = namespace(s='xxxxxxxxxxxxxxxx') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
      ),
    ).toThrow(/exceeds/);
  });
});

describe("jinja: errors", () => {
  const compile = (source: string) => thrown(() => renderer.compile(source, { name: "webhooks.w.body" }));

  it("reports a syntax error at compile with its line and column", () => {
    const e = compile('{\n  "a": {{ customer.name | }}\n}');
    expect(e).toBeInstanceOf(TemplateError);
    expect([e.line, e.column]).toEqual([2, 27]);
    expect(e.message).toBe("jinja syntax error: expected a name, got '}}'");
  });

  it("reports an unclosed block at its opening tag, and an unknown filter at its name", () => {
    expect([
      compile("a\n  {% for x in y %}\n{{ x }}").line,
      compile("a\n  {% for x in y %}\n{{ x }}").column,
    ]).toEqual([2, 6]);
    const e = compile("{{ x | upcase }}");
    expect([e.line, e.column, e.message]).toEqual([1, 8, "jinja syntax error: unknown filter 'upcase'"]);
  });

  it("reports a render error with the place of the expression", () => {
    const e = thrown(() => render("ok\n{{ 1 + customer.name }}", { customer: { name: "x" } }));
    expect([e.line, e.column]).toEqual([2, 6]);
    expect(e.message).toContain("unsupported operands for '+'");
  });

  it("is a renderer for user-authored templates (not trusted)", () => {
    expect([renderer.name, renderer.trusted]).toEqual(["jinja", false]);
  });
});
