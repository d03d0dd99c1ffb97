import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { assertWellFormedXml, xmlErrorAt } from "../../../core/engine/xml-check.ts";
import { TemplateError } from "../../../core/errors.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

describe("xmlErrorAt: well-formed bodies pass", () => {
  const wellFormed: Record<string, string> = {
    "a declaration, comments and processing instructions around the root": [
      '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>',
      "<!-- before -->",
      '<?xml-stylesheet href="s.xsl"?>',
      "<contact/>",
      "<!-- after --><?done?>",
      "",
    ].join("\n"),
    "attributes in either quotes, with entities, around white space": `<a  x="1" y='it&apos;s' z = "&lt;&amp;&gt;&quot;" />`,
    "every predefined entity and character references":
      "<a>&amp;&lt;&gt;&quot;&apos;&#65;&#x1F600;&#xe9;</a>",
    "CDATA holding markup, ampersands and lone brackets": "<a><![CDATA[<b>&nbsp; ]] ]>]]><![CDATA[]]></a>",
    "nesting, mixed content, namespaces and non-ASCII names": `<s:Envelope xmlns:s="urn:x"><s:Body><né id="1">text <b>bold</b> tail</né></s:Body></s:Envelope>`,
    "a byte-order mark, an end tag with white space, line breaks in tags": '\uFEFF<a\n  b="1"\n></a >',
    "a DOCTYPE with an internal subset and the entity it declares":
      '<!DOCTYPE a [<!ENTITY co "ACME">]><a>&co;</a>',
  };
  for (const [what, text] of Object.entries(wellFormed)) {
    it(`accepts ${what}`, () => {
      expect(xmlErrorAt(text)).toBeUndefined();
      expect(() => assertWellFormedXml(text)).not.toThrow();
    });
  }

  it("accepts a deeply nested document without running out of stack", () => {
    expect(xmlErrorAt(`${"<a>".repeat(100_000)}${"</a>".repeat(100_000)}`)).toBeUndefined();
  });
});

describe("xmlErrorAt: each malformation names its line and column", () => {
  const malformed: Array<[string, string, number, number, string]> = [
    [
      "a mismatched end tag",
      "<a>\n  <b>x</c>\n</a>",
      2,
      7,
      "end tag </c> does not match the open element <b> (opened at line 2, column 3)",
    ],
    [
      "an element never closed",
      "<a><b></b>",
      1,
      11,
      "element <a> (opened at line 1, column 1) is never closed",
    ],
    ["an empty body", "", 1, 1, "the body is empty; expected a root element"],
    ["no root element, only a comment", "<!-- x -->", 1, 11, "expected a root element"],
    ["two root elements", "<a/>\n<b/>", 2, 1, "a second root element; an XML document has exactly one"],
    ["text before the root", "hello <a/>", 1, 1, "text is not allowed before the root element"],
    ["text after the root", "<a/> trailing", 1, 6, "text is not allowed after the root element"],
    ["an unquoted attribute value", "<a x=1/>", 1, 6, 'expected a quoted value for the attribute "x"'],
    ["an attribute without a value", "<a x/>", 1, 5, `expected '=' after the attribute name "x"`],
    ["an attribute given twice", '<a x="1" x="2"/>', 1, 10, 'attribute "x" appears twice in the tag <a>'],
    [
      "attributes without white space between",
      '<a x="1"y="2"/>',
      1,
      9,
      "expected white space, '>' or '/>' in the tag <a>",
    ],
    [
      "'<' in an attribute value",
      '<a x="a<b"/>',
      1,
      8,
      `'<' is not allowed in the value of the attribute "x" (write &lt;)`,
    ],
    [
      "an attribute value never closed",
      '<a x="1/>',
      1,
      6,
      'the value of the attribute "x" is never closed by "',
    ],
    ["a tag never closed", "<a", 1, 3, "the tag <a> is never closed by '>'"],
    ["a bad element name", "<1a/>", 1, 2, "expected an element name after '<'"],
    ["a bare ampersand", "<a>Tom & Jerry</a>", 1, 8, "'&' must start an entity reference"],
    [
      "an entity XML does not predefine",
      "<a>&nbsp;</a>",
      1,
      4,
      "unknown entity &nbsp; (XML predefines only &amp; &lt; &gt; &quot; &apos;)",
    ],
    [
      "a character reference to an illegal character",
      "<a>&#0;</a>",
      1,
      4,
      "&#0; names a character XML does not allow",
    ],
    [
      "a malformed character reference",
      "<a>&#xZZ;</a>",
      1,
      4,
      "expected a character reference &#n; or &#xh;",
    ],
    ["'--' inside a comment", "<a><!-- a -- b --></a>", 1, 11, "'--' is not allowed inside a comment"],
    ["a comment never closed", "<a><!-- x </a>", 1, 4, "the comment is never closed by '-->'"],
    [
      "a CDATA section never closed",
      "<a><![CDATA[ x </a>",
      1,
      4,
      "the CDATA section is never closed by ']]>'",
    ],
    [
      "a CDATA section outside the root",
      "<![CDATA[x]]><a/>",
      1,
      1,
      "a CDATA section is allowed only inside the root element",
    ],
    ["']]>' in text", "<a>x]]>y</a>", 1, 5, "']]>' is not allowed in text (it ends only a CDATA section)"],
    [
      "a processing instruction never closed",
      "<a><?pi x</a>",
      1,
      4,
      "the processing instruction is never closed by '?>'",
    ],
    [
      "an XML declaration after the start",
      ' <?xml version="1.0"?><a/>',
      1,
      2,
      "the XML declaration <?xml …?> is allowed only at the very start of the body",
    ],
    [
      "an XML declaration without a version",
      '<?xml encoding="UTF-8"?><a/>',
      1,
      6,
      'expected version="1.0" first in the XML declaration',
    ],
    ["an end tag with nothing open", "</a>", 1, 1, "an end tag, but no element is open"],
    ["a control character", "<a>\n  x\u0001</a>", 2, 4, "the character U+0001 is not allowed in XML"],
  ];
  for (const [what, text, line, column, message] of malformed) {
    it(`reports ${what}`, () => {
      const fault = xmlErrorAt(text);
      expect(fault).toBeDefined();
      expect({ line: fault!.line, column: fault!.column }).toEqual({ line, column });
      expect(fault!.message).toStartWith(message);
    });
  }

  it("reports the first fault in the text, a control character included", () => {
    expect(xmlErrorAt("<a>\u0002<b></a>")).toMatchObject({ line: 1, column: 4 });
    expect(xmlErrorAt("<a><b></a>\u0002")).toMatchObject({ line: 1, column: 7 });
  });

  it("throws a TemplateError naming the body's line and column for the engine to fail the delivery with", () => {
    let error: unknown;
    try {
      assertWellFormedXml("<contact>\n  <email>a&b</email>\n</contact>");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TemplateError);
    expect(error).toMatchObject({ line: 2, column: 11 });
    expect((error as Error).message).toStartWith(
      "body: rendered xml is not well-formed at line 2, column 11: '&' must start an entity reference",
    );
  });
});

const config = (sinkUrl: string) => `
engine:
  pollInterval: 20ms
  retry: { delays: [30ms], jitter: 0 }
  allowNetworks: ["127.0.0.1/32"]
webhooks:
  escaped:
    url: ${sinkUrl}/xml/escaped
    format: xml
    body: |
      <?xml version="1.0"?>
      <contact id="<%= xml(it.customer.id) %>"><!-- hookline --><email><%= xml(it.customer.email) %></email><![CDATA[<raw/>]]></contact>
  unescaped:
    url: ${sinkUrl}/xml/unescaped
    format: xml
    body: |
      <contact>
        <email><%= it.customer.email %></email>
      </contact>
triggers:
  - { kind: event, events: [signup], webhooks: [escaped, unescaped] }
`;

for (const kind of storeKinds) {
  describe(`xml bodies delivered on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink();
      app = await testApp(config(sink.url), driver);
      await app.start();
    });
    afterAll(async () => {
      await app.stop(1_000);
      await sink.close();
      await driver.dispose();
    });

    it("sends a well-formed body and fails a malformed one with a render reason, sending nothing", async () => {
      const published = await app.publish({
        type: "signup",
        customer: { id: "c<1>", email: "tom&jerry@example.com" },
      });
      const byWebhook = Object.fromEntries(published.events[0]!.deliveries.map((d) => [d.webhook, d.id]));
      const settled = (id: string) =>
        eventually(async () => {
          const d = await app.store.getDelivery(id);
          return d && ["succeeded", "failed", "halted"].includes(d.status) ? d : undefined;
        });
      const good = await settled(byWebhook.escaped!);
      const bad = await settled(byWebhook.unescaped!);

      expect(good.status).toBe("succeeded");
      const sent = sink.requests.filter((r) => r.url === "/xml/escaped");
      expect(sent).toHaveLength(1);
      expect(sent[0]!.headers["content-type"]).toBe("application/xml");
      expect(sent[0]!.body).toContain('<contact id="c&lt;1&gt;">');

      expect(bad.status).toBe("failed");
      expect(bad.reason).toStartWith(
        "render: body: rendered xml is not well-formed at line 2, column 13: '&' must start an entity reference",
      );
      const [attempt] = await app.store.listAttempts(byWebhook.unescaped!);
      expect(attempt!.errorClass).toBe("render");
      expect(sink.requests.filter((r) => r.url.startsWith("/xml/unescaped"))).toHaveLength(0);
    });

    it("answers the test endpoint with the same fault, rendering without sending", async () => {
      const before = sink.requests.length;
      const r = await app.fetch(
        new Request("http://h/v1/webhooks/unescaped/test", {
          method: "POST",
          body: JSON.stringify({ customer: { id: "c-2", email: "a&b@example.com" }, send: true }),
        }),
      );
      expect(r.status).toBe(422);
      expect(((await r.json()) as { error: string }).error).toContain(
        "rendered xml is not well-formed at line 2",
      );
      expect(sink.requests.length).toBe(before);
    });
  });
}
