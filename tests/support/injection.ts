import { describe, expect, it } from "bun:test";
import type { Renderer } from "../../core/contracts/renderer.ts";

/** Customer values that try to break a payload or to run as template code in some engine. */
const HOSTILE = [
  'say "hi"',
  "back\\slash\\",
  "line1\nline2\r\n\ttab",
  "{{ 7*7 }}",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a JavaScript template placeholder, as data
  "${7*7}",
  "#set($x = 1)$x",
  "<%= 1+1 %>",
  "</tag><script>alert(1)</script>",
  "a & b < c > d ' \"",
  "\u2028\u2029",
  "]]><!--",
  "$customer.email",
];

/** Checks `<c><n>TEXT</n><a x="ATTR"/></c>` is well-formed XML and returns the decoded text and attribute. */
function parseXml(xml: string): { text: string; attr: string } {
  const m = /^<c><n>([^<>]*)<\/n><a x="([^<>"]*)"\/><\/c>$/.exec(xml);
  if (!m) throw new Error(`not well-formed: ${xml}`);
  const entities: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
  const decode = (s: string) => {
    if (/&(?!(amp|lt|gt|quot|apos);)/.test(s)) throw new Error(`bare & in ${s}`);
    return s.replace(/&(amp|lt|gt|quot|apos);/g, (_, e: string) => entities[e]!);
  };
  return { text: decode(m[1]!), attr: decode(m[2]!) };
}

/** Templates that write `customer.name` as a JSON literal, as XML text and attribute, and raw. */
export interface InjectionTemplates {
  json: string;
  xml: string;
  raw: string;
}

/**
 * One suite for every engine: hostile customer values stay data in JSON, XML and raw output.
 *
 * @example injectionSuite("eta", etaRenderer(), { json: '{"name": <%= json(it.customer.name) %>, "n": 1}', xml: "…", raw: "<%= it.customer.name %>" })
 */
export function injectionSuite(engine: string, renderer: Renderer, t: InjectionTemplates): void {
  const render = (source: string, name: string) =>
    renderer.compile(source, { name: "t" }).render({ customer: { name, email: "a@example.com" } });

  describe(`${engine}: customer values cannot break payloads or run as code`, () => {
    for (const value of HOSTILE) {
      it(`keeps ${JSON.stringify(value)} intact in JSON, XML and raw output`, () => {
        const body = render(t.json, value);
        expect(JSON.parse(body)).toEqual({ name: value, n: 1 });
        expect(body).not.toContain("</");
        const xml = parseXml(render(t.xml, value));
        expect(xml).toEqual({ text: value, attr: value });
        // A value is data: printed as it is, never evaluated.
        expect(render(t.raw, value)).toBe(value);
      });
    }
  });
}
