import { describe, expect, it } from "bun:test";
import type { Renderer } from "../../core/contracts/renderer.ts";
import { TemplateError } from "../../core/errors.ts";
import { etaRenderer } from "../../plugins/eta/index.ts";
import { etaPrecompiledRenderer, precompileEta, type TemplateFn } from "../../plugins/eta/precompile.ts";
import { jinjaRenderer } from "../../plugins/jinja/index.ts";
import { mustacheRenderer } from "../../plugins/mustache/index.ts";
import { velocityRenderer } from "../../plugins/velocity/index.ts";
import { RUNTIME } from "./support/runtime.ts";

// Every renderer gives the same bytes on every runtime: payloads are JSON, text or XML that a third
// party parses, so one escaped character of difference is a broken webhook.
const context = {
  customer: { id: "c1", name: 'Ada "x" </s>\u2028', tags: ["<a>", "b&c"], points: 7 },
  event: { id: "e1", type: "signup", data: { plan: "pro" }, timestamp: "2026-01-02T03:04:05.000Z" },
  params: { campaign: "spring" },
  data: { WH5: { promocode: "P1" } },
  responses: [{ actionId: "a1", data: { code: "X" } }],
};
const NAME_JSON = '"Ada \\"x\\" \\u003c/s\\u003e\\u2028"';

const ETA_BODY =
  '{"name": <%= json(it.customer.name) %>, "tags": [<%= it.customer.tags.map((t) => json(xml(t))).join(",") %>], "campaign": <%= json(it.params.campaign) %>}';

/** Loads a precompiled module's text the way a bundle would: as module source, evaluated once here. */
async function loadPrecompiled(source: string): Promise<Record<string, TemplateFn>> {
  const url = `data:text/javascript;base64,${btoa(unescape(encodeURIComponent(source)))}`;
  return ((await import(url)) as { default: Record<string, TemplateFn> }).default;
}

const cases: Array<[string, () => Renderer, string, string]> = [
  [
    "eta",
    etaRenderer,
    ETA_BODY,
    // json() escapes & as \u0026 too, so that the JSON is also safe inside HTML.
    `{"name": ${NAME_JSON}, "tags": ["\\u0026lt;a\\u0026gt;","b\\u0026amp;c"], "campaign": "spring"}`,
  ],
  [
    "velocity",
    velocityRenderer,
    "$data.get('WH5').get('promocode') $esc.json($customer.name)",
    `P1 ${NAME_JSON}`,
  ],
  [
    "jinja",
    jinjaRenderer,
    "{{ webhook.code }} {{ customer.name | tojson }} {{ params.campaign }}",
    `X ${NAME_JSON} spring`,
  ],
  [
    "mustache",
    mustacheRenderer,
    "{{#json}}{{customer.name}}{{/json}} {{params.campaign}}",
    `${NAME_JSON} spring`,
  ],
];

describe(`renderers (${RUNTIME})`, () => {
  for (const [name, make, template, expected] of cases) {
    it(`${name} renders the same bytes, escaping for JSON and XML`, () => {
      const out = make()
        .compile(template, { name: `webhooks.w.${name}` })
        .render(context);
      expect(out).toBe(expected);
    });
  }

  it("precompiled Eta renders what run-time Eta renders, and refuses a template it was not built with", async () => {
    const compiled = await loadPrecompiled(precompileEta({ "webhooks.w.body": ETA_BODY }));
    const renderer = etaPrecompiledRenderer(compiled);
    expect(renderer.compile(ETA_BODY, { name: "b" }).render(context)).toBe(
      etaRenderer().compile(ETA_BODY, { name: "b" }).render(context),
    );
    expect(() => renderer.compile("<%= it.other %>", { name: "webhooks.w.url" })).toThrow(
      "not among the precompiled ones",
    );
  });

  it("reports a template that does not compile with its name, as a TemplateError", () => {
    for (const [name, make, template] of [
      ["eta", etaRenderer, "<%= it.customer.name "],
      ["jinja", jinjaRenderer, "{{ customer.name "],
      ["velocity", velocityRenderer, "#if($x) never closed"],
    ] as const) {
      let error: unknown;
      try {
        make().compile(template, { name: `webhooks.broken.${name}` });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(TemplateError);
    }
  });
});
