import { describe, expect, it } from "bun:test";
import type { TemplateContext } from "../../../core/contracts/renderer.ts";
import { TemplateError } from "../../../core/errors.ts";
import { formatDate, velocityRenderer } from "../../../plugins/velocity/index.ts";

const renderer = velocityRenderer();
const render = (source: string, context: TemplateContext = {}) =>
  renderer.compile(source, { name: "t" }).render(context);
const compileError = (source: string): TemplateError => {
  try {
    renderer.compile(source, { name: "webhooks.w.body" });
  } catch (e) {
    return e as TemplateError;
  }
  throw new Error("expected a compile error");
};

/** Earlier workflow responses as eSputnik documents them: by step name, and a contact search result. */
const esputnikData = () => ({
  WH5: { promocode: "SPRING-2024-X7", expires: "2024-06-01" },
  contacts_get_by_email: [
    { id: "123.0", email: "ada@example.com", firstName: "Ada" },
    { id: "456.0", email: "bo@example.com", firstName: "Bo" },
  ],
});

describe("velocity: eSputnik's expressions", () => {
  it("reads $data.get('WH5').get('promocode') from an earlier response, verbatim", () => {
    expect(render("$data.get('WH5').get('promocode')", { data: esputnikData() })).toBe("SPRING-2024-X7");
  });

  it('turns a contact id like "123.0" into 123 with $!mathTool.toInteger($data.contacts_get_by_email.get(0).id)', () => {
    expect(
      render("$!mathTool.toInteger($data.contacts_get_by_email.get(0).id)", { data: esputnikData() }),
    ).toBe("123");
  });

  it("renders both inside a JSON body and leaves the caller's data untouched", () => {
    const data = esputnikData();
    const before = structuredClone(data);
    const body = render(
      "{\"promo\": $esc.json($data.get('WH5').get('promocode')), \"contactId\": $!mathTool.toInteger($data.contacts_get_by_email.get(0).id)}",
      { data },
    );
    expect(JSON.parse(body)).toEqual({ promo: "SPRING-2024-X7", contactId: 123 });
    expect(data).toEqual(before);
    // velocityjs would otherwise hang an `eval` function on every object a method is called on.
    expect(Object.keys(data.WH5)).toEqual(["promocode", "expires"]);
  });

  it("exposes $event, $customer, $params and $webhook, and $data as {} when there are no responses", () => {
    const out = render("$event.type $customer.email $params.campaign $webhook.name $data.size()", {
      event: { type: "signup" },
      customer: { email: "a@example.com" },
      params: { campaign: "spring" },
      webhook: { name: "crm" },
    });
    expect(out).toBe("signup a@example.com spring crm 0");
  });
});

describe("velocity: the language", () => {
  it("prints a missing reference as written, and nothing with a quiet reference", () => {
    expect(render("[$customer.nickname][$!customer.nickname]", { customer: {} })).toBe(
      "[$customer.nickname][]",
    );
  });

  it("runs #foreach with $foreach.count, #if/#elseif/#else and #set", () => {
    const out = render(
      "#set($n = 0)#foreach($c in $data.contacts_get_by_email)#set($n = $n + 1)$foreach.count:$c.firstName#if($foreach.hasNext),#end#end #if($n > 2)many#elseif($n == 2)two#else few#end",
      { data: esputnikData() },
    );
    expect(out).toBe("1:Ada,2:Bo two");
  });

  it("supports Java-style methods on maps, lists and strings", () => {
    const out = render(
      "$m.containsKey('a') $m.keySet() $m.size() $l.size() $l.get(1) $l.isEmpty() $s.toUpperCase() $s.length() $s.substring(1, 3) $m.getA()",
      { m: { a: 1, b: 2 }, l: ["x", "y"], s: "hello" },
    );
    expect(out).toBe("true [a, b] 2 2 y false HELLO 5 el 1");
  });

  it("lets the template change maps and lists it built itself", () => {
    expect(render("#set($m = {})#set($m.k = 'v')$m.k #set($l = [])#set($ok = $l.add(3))$l.size()")).toBe(
      "v 1",
    );
  });
});

describe("velocity: tools", () => {
  it("mathTool computes, and answers nothing for what is not a number", () => {
    expect(
      render(
        "$mathTool.add(1, '2.5') $mathTool.sub(10, 4) $mathTool.mul(3, 4) $mathTool.div(7, 2) $mathTool.max(3, 9, 4) $mathTool.min(3, 9) $mathTool.round(2.5) $mathTool.floor('2.7') $mathTool.ceil(2.1) $mathTool.toNumber('4.50') [$!mathTool.toInteger('abc')]",
      ),
    ).toBe("3.5 6 12 3.5 9 3 3 2 3 4.5 []");
  });

  it("dateTool formats Java patterns in UTC and knows the current time", () => {
    expect(render("$dateTool.format(\"yyyy-MM-dd'T'HH:mm:ss\", '2024-05-01T10:02:03Z')")).toBe(
      "2024-05-01T10:02:03",
    );
    expect(formatDate("EEE, d MMM yy hh:mm a", new Date("2024-05-01T15:04:00Z"))).toBe(
      "Wed, 1 May 24 03:04 PM",
    );
    expect(render("[$!dateTool.format('yyyy', $customer.missing)]", { customer: {} })).toBe("[]");
    const now = Date.parse(render("$dateTool.current"));
    expect(Math.abs(now - Date.now())).toBeLessThan(5_000);
  });

  it("esc writes JSON literals, XML text and URL components", () => {
    const context = { v: 'a "b" & <c>\n' };
    expect(JSON.parse(render("$esc.json($v)", context))).toBe(context.v);
    expect(render("$esc.xml($v)", context)).toBe("a &quot;b&quot; &amp; &lt;c&gt;\n");
    expect(render("$esc.url('a b/c?')")).toBe("a%20b%2Fc%3F");
    expect(render("$esc.json($missing)")).toBe("null");
  });
});

describe("velocity: sandbox", () => {
  const customer = () => ({ email: "a@example.com", tags: ["x"] });

  it("reaches no constructor, prototype or global from a template", () => {
    const out = render(
      "[$!customer.constructor][$!customer.__proto__][$!customer.constructor.constructor('return process')][$!customer.email.constructor][$!customer.tags.constructor.prototype][$!process][$!globalThis][$!Deno][$!Function][$!constructor][$!toString]",
      { customer: customer() },
    );
    expect(out).toBe("[][][][][][][][][][][]");
  });

  it("calls no function of the host or the data, only the allowed methods", () => {
    let called = false;
    const context = {
      customer: {
        ...customer(),
        hook: () => {
          called = true;
          return "ran";
        },
      },
    };
    const out = render(
      "[$!customer.hook()][$!customer.hook][$!customer.toString()][$!customer.hasOwnProperty('email')][$!customer.email.constructor.fromCharCode(65)][$!customer.tags.push(1)][$!customer.valueOf()]",
      context,
    );
    expect(out).toBe("[][][][][][][]");
    expect(called).toBe(false);
    expect(context.customer.tags).toEqual(["x"]);
  });

  it("never changes the caller's data: #set, put and add on it do nothing", () => {
    const context = { customer: customer(), data: { WH5: { promocode: "P" } } };
    const out = render(
      "#set($customer.email = 'evil')#set($c = $customer)#set($c.email = 'evil')#set($x = $data.WH5.put('promocode', 'evil'))#set($y = $customer.tags.add('evil'))#set($customer.__proto__.polluted = 1)$customer.email $data.WH5.promocode",
      context,
    );
    expect(out).toBe("a@example.com P");
    expect(context).toEqual({ customer: customer(), data: { WH5: { promocode: "P" } } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("ignores undefined macros, including those named after Object's methods", () => {
    expect(
      render("[#constructor('x')][#toString()][#hasOwnProperty('a')][#eval('$customer')]", { customer: 1 }),
    ).toBe("[][][][]");
  });

  it("fails a runaway template with a render error instead of taking the process down", () => {
    expect(() => render("#foreach($i in [1..100000000])x#end")).toThrow(TemplateError);
    expect(() =>
      render("#foreach($a in [1..1000])#foreach($b in [1..1000])#foreach($c in [1..10])#end#end#end"),
    ).toThrow(/steps/);
  });
});

describe("velocity: syntax errors at compile", () => {
  it("reports the parser's line and column", () => {
    const e = compileError('{\n  "a": 1,\n  #set($x = )\n}');
    expect(e).toBeInstanceOf(TemplateError);
    expect(e.line).toBe(3);
    expect(e.column).toBeGreaterThan(1);
    expect(e.message).toStartWith("velocity syntax error: ");
    expect(e.message).not.toContain("webhooks.w.body"); // the config names the key path, once
  });

  it("reports an #if never closed, at the #if", () => {
    const e = compileError("line one\n  #if($customer.vip)\nvip");
    expect([e.line, e.column]).toEqual([2, 3]);
    expect(e.message).toContain("#if is never closed by #end");
  });

  it("reports a character the lexer cannot take at its line and column", () => {
    const e = compileError("ok\n  $x \u0000 y");
    expect([e.line, e.column]).toEqual([2, 6]);
    expect(e.message).toBe("velocity syntax error: Lexical error: Unrecognized text.");
  });

  it("reports a stray #end", () => {
    const e = compileError("a\nb #end");
    expect([e.line, e.column]).toEqual([2, 3]);
  });

  it("is a renderer for user-authored templates (not trusted)", () => {
    expect(renderer.name).toBe("velocity");
    expect(renderer.trusted).toBe(false);
  });
});
