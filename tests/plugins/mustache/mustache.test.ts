import { describe, expect, it } from "bun:test";
import type { TemplateContext } from "../../../core/contracts/renderer.ts";
import { TemplateError } from "../../../core/errors.ts";
import { mustacheRenderer } from "../../../plugins/mustache/index.ts";

const renderer = mustacheRenderer();
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

const profile = {
  customer: {
    id: "p-1",
    email: "ada@example.com",
    name: "Ada & <Co>",
    interests: ["math", "poetry"],
    vip: true,
  },
  params: { list: "newsletter" },
};

describe("mustache: BlueConic-style bodies", () => {
  it("writes values raw (no HTML escaping: payloads are JSON or XML)", () => {
    expect(render("{{customer.name}}|{{{customer.name}}}|{{&customer.name}}", profile)).toBe(
      "Ada & <Co>|Ada & <Co>|Ada & <Co>",
    );
  });

  it("renders sections over lists and objects, inverted sections and {{.}}", () => {
    const out = render(
      "{{#customer.interests}}[{{.}}]{{/customer.interests}}{{#customer}} {{email}}{{/customer}}{{^customer.optOut}} subscribed{{/customer.optOut}}{{#customer.vip}} vip{{/customer.vip}}",
      profile,
    );
    expect(out).toBe("[math][poetry] ada@example.com subscribed vip");
  });

  it("builds a JSON body with {{#json}}: every value a JSON string literal", () => {
    const body = render(
      '{"id": {{#json}}{{customer.id}}{{/json}}, "name": {{#json}}{{customer.name}}{{/json}}, "interests": [{{#customer.interests}}{{#json}}{{.}}{{/json}},{{/customer.interests}}null], "list": "{{params.list}}"}',
      profile,
    );
    expect(JSON.parse(body)).toEqual({
      id: "p-1",
      name: "Ada & <Co>",
      interests: ["math", "poetry", null],
      list: "newsletter",
    });
  });

  it("escapes for XML with {{#xml}}", () => {
    expect(render("<name>{{#xml}}{{customer.name}}{{/xml}}</name>", profile)).toBe(
      "<name>Ada &amp; &lt;Co&gt;</name>",
    );
  });

  it("keeps json and xml as the lambdas even when the data has keys of those names", () => {
    const out = render("{{#customer}}{{#json}}{{name}}{{/json}}{{/customer}}", {
      customer: { name: 'a"b', json: "raw!" },
    });
    expect(JSON.parse(out)).toBe('a"b');
  });
});

describe("mustache: sandbox", () => {
  it("finds nothing on prototypes, and never calls a function of the data", () => {
    let called = false;
    const context = {
      customer: {
        email: "a@example.com",
        tags: ["x"],
        hook: () => {
          called = true;
          return "ran";
        },
      },
    };
    const out = render(
      "[{{constructor}}][{{__proto__}}][{{customer.constructor}}][{{customer.__proto__}}][{{customer.constructor.name}}][{{customer.hasOwnProperty}}][{{customer.toString}}][{{customer.tags.constructor}}][{{#constructor}}x{{/constructor}}][{{customer.hook}}][{{#customer.hook}}x{{/customer.hook}}][{{process}}][{{globalThis}}][{{json}}][{{{xml}}}]",
      context,
    );
    expect(out).toBe("[][][][][][][][][][][][][][][]");
    expect(called).toBe(false);
  });

  it("still reads own properties of primitives in dotted names, as mustache.js does", () => {
    expect(render("{{customer.email.length}} {{customer.interests.length}}", profile)).toBe("15 2");
  });
});

describe("mustache: syntax errors at compile", () => {
  it("reports an unclosed section at the tag that opens it", () => {
    const e = compileError('{\n  "a": 1,\n  {{#customer}}\n}');
    expect(e).toBeInstanceOf(TemplateError);
    expect([e.line, e.column]).toEqual([3, 3]);
    expect(e.message).toBe('mustache syntax error: Unclosed section "customer"');
    const inverted = compileError("{{#a}}x{{/a}}\n{{^ a }}\n{{#a}}{{/a}}");
    expect([inverted.line, inverted.column]).toEqual([2, 1]);
  });

  it("reports an unclosed tag where it starts", () => {
    const e = compileError("ok\n  {{customer.name");
    expect([e.line, e.column]).toEqual([2, 3]);
  });

  it("is a renderer for user-authored templates (not trusted)", () => {
    expect([renderer.name, renderer.trusted]).toEqual(["mustache", false]);
  });
});
