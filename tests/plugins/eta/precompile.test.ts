import { afterAll, describe, expect, it } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { TemplateError } from "../../../core/errors.ts";
import { etaRenderer } from "../../../plugins/eta/index.ts";
import { etaPrecompiledRenderer, precompileEta, type TemplateFn } from "../../../plugins/eta/precompile.ts";
import { etaTemplatesOf } from "../../../scripts/precompile-eta.ts";

const dir = mkdtempSync(join(tmpdir(), "hookline-eta-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TEMPLATES: Record<string, string> = {
  "webhooks.crm.url":
    "https://crm.example.com/c/<%= encodeURIComponent(it.customer.id) %>?c=<%= it.params.campaign %>",
  "webhooks.crm.body":
    '{"email": <%= json(it.customer.email) %>, "name": <%= json(it.customer.name) %>, "tags": <%= json(it.customer.tags) %>, "missing": <%= json(it.customer.nope) %>}',
  "webhooks.feed.body":
    '<c><n a="<%= xml(it.customer.name) %>"><%= xml(it.customer.name) %></n><% it.event.data.items.forEach(function (i) { %><i sku="<%= xml(i.sku) %>"/><% }) %></c>',
  "webhooks.trim.body":
    "<%- if (it.customer.vip) { -%>\n  VIP <%~ it.customer.id %>\n<%_ } else { _%>\n  regular\n<%_ } _%>\n",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the placeholder is literal template text
  "webhooks.text.body": 'Line "q" \\ back\u2028sep \'<%= it.customer.id %>\' <%= "%>" %> ${not} `tick`',
  "webhooks.same.body": '{"email": <%= json(it.customer.email) %>}',
  "webhooks.again.body": '{"email": <%= json(it.customer.email) %>}',
};

const CONTEXTS = [
  {
    event: { id: "e1", type: "signup", data: { items: [{ sku: 'A"1' }, { sku: "<B&2>" }] } },
    customer: {
      id: "c/1 ?",
      email: "ada@example.com",
      name: 'Ada "x" </script> \\ \n\u2028 <%= 1+1 %> {{ 7*7 }}',
      tags: ["a", "b"],
      vip: true,
    },
    params: { campaign: "spring" },
    webhook: { name: "crm" },
  },
  {
    event: { id: "e2", type: "signup", data: { items: [] } },
    customer: { id: 7, email: "b@example.com", name: "", tags: [], vip: false },
    params: { campaign: "" },
    webhook: { name: "crm" },
  },
];

async function importModule(source: string, file: string): Promise<Record<string, TemplateFn>> {
  const path = join(dir, file);
  writeFileSync(path, source);
  return ((await import(pathToFileURL(path).href)) as { default: Record<string, TemplateFn> }).default;
}

describe("eta precompilation", () => {
  it("renders byte-identical output to run-time Eta, json() and xml() included", async () => {
    const moduleText = precompileEta(TEMPLATES);
    expect(moduleText).not.toMatch(/new Function|\beval\(/);
    const precompiled = etaPrecompiledRenderer(await importModule(moduleText, "templates.mjs"));
    const runtime = etaRenderer();
    for (const [name, source] of Object.entries(TEMPLATES)) {
      const a = precompiled.compile(source, { name });
      const b = runtime.compile(source, { name });
      for (const context of CONTEXTS) {
        const expected = b.render(context);
        expect({ name, out: a.render(context) }).toEqual({ name, out: expected });
      }
    }
    // The JSON body still parses to the hostile value: the helpers really ran.
    const body = precompiled.compile(TEMPLATES["webhooks.crm.body"]!, { name: "b" }).render(CONTEXTS[0]!);
    expect(JSON.parse(body).name).toBe(CONTEXTS[0]!.customer.name);
  });

  it("compiles each distinct source once, naming every template that uses it", () => {
    const text = precompileEta(TEMPLATES);
    expect(text.split(JSON.stringify(TEMPLATES["webhooks.same.body"])).length).toBe(2);
    expect(text).toContain("// webhooks.same.body, webhooks.again.body");
  });

  it("refuses, at compile, a template that was not precompiled (the config changed after the build)", async () => {
    const precompiled = etaPrecompiledRenderer(await importModule(precompileEta(TEMPLATES), "partial.mjs"));
    let error: unknown;
    try {
      precompiled.compile('{"email": <%= json(it.customer.email) %>, "new": 1}', {
        name: "webhooks.crm.body",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TemplateError);
    expect((error as TemplateError).code).toBe("HOOKLINE_TEMPLATE_NOT_PRECOMPILED");
    expect((error as TemplateError).message).toStartWith("webhooks.crm.body: ");
    expect([precompiled.name, precompiled.trusted]).toEqual(["eta", true]);
  });

  it("fails the build on a template that does not compile, naming it with line and column", () => {
    let error: TemplateError | undefined;
    try {
      precompileEta({ "webhooks.w.body": '{\n  "a": <%= it.x' });
    } catch (e) {
      error = e as TemplateError;
    }
    expect(error).toBeInstanceOf(TemplateError);
    expect(error!.message).toStartWith("webhooks.w.body: ");
    expect([error!.line, error!.column]).toEqual([2, 8]);
  });
});

describe("scripts/precompile-eta.ts", () => {
  const yaml = `
webhooks:
  crm:
    url: "https://crm.example.com/<%= it.customer.id %>?k=\${API_KEY}"
    headers: { X-Name: "<%= it.customer.name %>" }
    body: '{"email": <%= json(it.customer.email) %>, "lit": "$\${x}"}'
  promo:
    engine: velocity
    url: https://x.example.com/$customer.id
  plain:
    engine: eta
    url: https://x.example.com/<%= it.customer.id %>
`;

  it("collects the eta templates of a config, env references expanded as the server expands them", () => {
    expect(etaTemplatesOf(yaml, { API_KEY: "k1" })).toEqual({
      "webhooks.crm.url": "https://crm.example.com/<%= it.customer.id %>?k=k1",
      "webhooks.crm.headers.X-Name": "<%= it.customer.name %>",
      // biome-ignore lint/suspicious/noTemplateCurlyInString: `$${x}` in YAML is a literal `${x}`
      "webhooks.crm.body": '{"email": <%= json(it.customer.email) %>, "lit": "${x}"}',
      "webhooks.plain.url": "https://x.example.com/<%= it.customer.id %>",
    });
    expect(() => etaTemplatesOf(yaml, {})).toThrow(
      "webhooks.crm.url: environment variable API_KEY is not set",
    );
  });

  it("writes a module the precompiled renderer renders", async () => {
    const config = join(dir, "hookline.yaml");
    const out = join(dir, "built", "templates.mjs");
    writeFileSync(config, yaml);
    const run = spawnSync(
      process.execPath,
      [join(import.meta.dir, "../../../scripts/precompile-eta.ts"), "--config", config, "--out", out],
      { env: { ...process.env, API_KEY: "k1" }, encoding: "utf8" },
    );
    expect(run.status).toBe(0);
    const templates = await importModule(readFileSync(out, "utf8"), "copied.mjs");
    const t = etaPrecompiledRenderer(templates).compile("https://x.example.com/<%= it.customer.id %>", {
      name: "webhooks.plain.url",
    });
    expect(t.render({ customer: { id: "c-9" } })).toBe("https://x.example.com/c-9");
  });
});
