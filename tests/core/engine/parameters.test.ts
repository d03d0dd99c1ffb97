import { describe, expect, it } from "bun:test";
import type { Renderer } from "../../../core/contracts/renderer.ts";
import { webhookParameters } from "../../../core/engine/parameters.ts";
import { etaRenderer } from "../../../plugins/eta/index.ts";
import { jinjaRenderer } from "../../../plugins/jinja/index.ts";
import { mustacheRenderer } from "../../../plugins/mustache/index.ts";
import { velocityRenderer } from "../../../plugins/velocity/index.ts";

const renderers = [etaRenderer(), velocityRenderer(), jinjaRenderer(), mustacheRenderer()];

// The same webhook in each engine's syntax: `campaign` declared and used in url and body, `list`
// used in a header but not declared, `legacy` declared and used nowhere.
const webhooks: Record<string, { url: string; body: string; header: string }> = {
  eta: {
    url: "https://x.example.com/c/<%= it.params.campaign %>",
    body: '{"c": <%= json(it.params["campaign"]) %>, "id": <%= json(it.customer.id) %>}',
    header: "<%= it.params.list %>",
  },
  velocity: {
    url: "https://x.example.com/c/$params.campaign",
    body: '{"c": $esc.json($params.get(\'campaign\')), "id": $esc.json($customer.id)}',
    header: "$!{params.list}",
  },
  jinja: {
    url: "https://x.example.com/c/{{ params.campaign }}",
    body: '{"c": {{ params[\'campaign\'] | tojson }}, "id": {{ customer.id | tojson }}}',
    header: "{{ params.list }}",
  },
  mustache: {
    url: "https://x.example.com/c/{{params.campaign}}",
    body: '{"c": {{#json}}{{params.campaign}}{{/json}}, "id": {{#json}}{{customer.id}}{{/json}}}',
    header: "{{#params.list}}{{params.list}}{{/params.list}}",
  },
};

describe("webhookParameters", () => {
  for (const [engine, t] of Object.entries(webhooks)) {
    it(`lists declared-and-used, used-undeclared and declared-unused parameters (${engine})`, () => {
      const parameters = webhookParameters(
        {
          engine,
          url: t.url,
          body: t.body,
          headers: { "X-List": t.header },
          params: { campaign: "spring", legacy: 1 },
        },
        renderers,
      );
      expect(parameters).toEqual([
        { name: "campaign", default: "spring", usedIn: ["url", "body"] },
        { name: "legacy", default: 1, usedIn: [], unused: true },
        { name: "list", usedIn: ["headers.X-List"] },
      ]);
      expect("default" in parameters[2]!).toBe(false);
    });
  }

  it("lists a batch webhook's item template as a place of use", () => {
    const parameters = webhookParameters(
      { url: "https://x.example.com", batch: { item: "<%= it.params.tag %>" }, params: { tag: "t" } },
      renderers,
    );
    expect(parameters).toEqual([{ name: "tag", default: "t", usedIn: ["batch.item"] }]);
  });

  it("uses the renderer registered last under the engine's name, as compiling does", () => {
    const shadow: Renderer = { ...etaRenderer(), parameters: () => ["fromShadow"] };
    expect(webhookParameters({ url: "u" }, [...renderers, shadow]).map((p) => p.name)).toEqual([
      "fromShadow",
    ]);
  });

  it("lists the declared parameters, none marked unused, when the engine cannot discover", () => {
    const { parameters: _, ...blind } = etaRenderer();
    expect(webhookParameters({ url: "<%= it.params.a %>", params: { a: 1, b: 2 } }, [blind])).toEqual([
      { name: "a", default: 1, usedIn: [] },
      { name: "b", default: 2, usedIn: [] },
    ]);
  });
});
