import { describe, expect, it } from "bun:test";
import type { ConfigIssue } from "../../../core/errors.ts";
import { etaRenderer } from "../../../plugins/eta/index.ts";
import { jinjaRenderer } from "../../../plugins/jinja/index.ts";
import { mustacheRenderer } from "../../../plugins/mustache/index.ts";
import { velocityRenderer } from "../../../plugins/velocity/index.ts";
import { loadError, registry } from "./fakes.ts";

const renderers = [etaRenderer(), velocityRenderer(), jinjaRenderer(), mustacheRenderer()];

/**
 * One faulty piece per engine: `bad` is a template holding the fault, `at` the 1-based column of the
 * fault inside `bad` as the engine reports it.
 */
const engines = [
  { engine: "eta", bad: '"b": <%= it.customer.id( %>', at: 6, says: "eta syntax error" },
  { engine: "eta", bad: '"b": <%= json(it.x) %> <% if (it.y) { %>', at: 24, says: "eta syntax error" },
  { engine: "velocity", bad: '"b": #if( $x', at: 12, says: "velocity syntax error" },
  { engine: "jinja", bad: '"b": {{ x | nofilter }}', at: 13, says: "unknown filter 'nofilter'" },
  { engine: "mustache", bad: '"b": {{#customer}}', at: 6, says: 'Unclosed section "customer"' },
  { engine: "mustache", bad: '"b": {{customer.id', at: 6, says: "Unclosed tag" },
] as const;

const only = (issues: ConfigIssue[]) => {
  expect(issues).toHaveLength(1);
  return issues[0]!;
};

describe("template syntax errors point at their place in the config file", () => {
  for (const { engine, bad, at, says } of engines) {
    it(`${engine}: a fault on line 3 of a block-scalar body is reported at that line of the file, at its column with the indentation, and names the key path once (${bad})`, () => {
      const text = [
        "webhooks:", //                                      1
        "  w:", //                                           2
        `    engine: ${engine}`, //                          3
        "    url: https://x.example.com/", //                4
        "    body: |", //                                    5
        "      {", //                                        6  template line 1
        '        "a": 1,', //                                7  template line 2
        `        ${bad}`, //                                 8  template line 3
        "      }", //                                        9
        "",
      ].join("\n");
      const issue = only(loadError(text, {}, registry({ renderers })).issues);
      // The template's line 3 is written with 2 spaces of its own inside 6 of the block's indentation.
      expect([issue.line, issue.column, issue.path]).toEqual([8, 8 + at, "webhooks.w.body"]);
      expect(issue.message).toStartWith(`template error at line 3, column ${2 + at} of the template: `);
      expect(issue.message).toContain(says);
      expect(issue.message).not.toContain("webhooks.w.body");
    });

    it(`${engine}: a fault in an inline (quoted) url is reported at its column in the file (${bad})`, () => {
      const url = `https://x.example.com/?q=${bad}`;
      const text = `webhooks:\n  w:\n    engine: ${engine}\n    url: '${url.replaceAll("'", "''")}'\n`;
      const issue = only(loadError(text, {}, registry({ renderers })).issues);
      const column = "https://x.example.com/?q=".length + at;
      const quotesBefore = (url.slice(0, column - 1).match(/'/g) ?? []).length;
      // `url: '` puts the template's first character at column 11; each `''` is one character.
      expect([issue.line, issue.column, issue.path]).toEqual([
        4,
        10 + column + quotesBefore,
        "webhooks.w.url",
      ]);
      expect(issue.message).toStartWith(`template error at line 1, column ${column} of the template: `);
      expect(issue.message).not.toContain("webhooks.w.url");
    });
  }

  it("counts a double-quoted scalar's escapes when it maps a column to the file", () => {
    const text = 'webhooks:\n  w:\n    engine: jinja\n    url: "https://x/\\u00e9\\t{{ x | nofilter }}"\n';
    const issue = only(loadError(text, {}, registry({ renderers })).issues);
    // Template: `https://x/é\t{{ x | nofilter }}`; the filter's name is its 20th character.
    expect(issue.message).toContain("line 1, column 20 of the template");
    expect([issue.line, issue.column]).toEqual([4, 10 + 1 + "https://x/\\u00e9\\t{{ x | ".length]);
  });

  it("keeps to the scalar's start where the text is not the template (an expanded variable, a folded scalar)", () => {
    const expanded = loadError(
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a `${HOST}` reference in the YAML
      'webhooks:\n  w:\n    engine: jinja\n    url: "https://${HOST}/{{ x | nofilter }}"\n',
      { HOST: "x.example.com" },
      registry({ renderers }),
    );
    expect([expanded.issues[0]!.line, expanded.issues[0]!.column]).toEqual([4, 10]);
    const folded = loadError(
      "webhooks:\n  w:\n    engine: jinja\n    url: https://x.example.com/\n    body: >\n      a\n      {{ x | nofilter }}\n",
      {},
      registry({ renderers }),
    );
    expect([folded.issues[0]!.line, folded.issues[0]!.column]).toEqual([5, 11]);
  });
});
