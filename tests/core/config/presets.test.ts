import { describe, expect, it } from "bun:test";
import { z } from "zod";
import { builtinPresets } from "../../../core/config/builtin-presets.ts";
import { configJsonSchema } from "../../../core/config/json-schema.ts";
import { loadConfig } from "../../../core/config/load.ts";
import { fakeRenderer, loadError, registry, yaml } from "./fakes.ts";

const load = (text: string, reg = registry()) =>
  loadConfig(text, { file: "hookline.yaml", env: {}, registry: reg });

/** What an unknown preset's message adds after the file's presets. */
const BUILT_IN = ` (or a built-in preset: ${builtinPresets.map((p) => p.name).join(", ")})`;

const base = yaml`
  presets:
    crm:
      method: PUT
      url: https://crm.example.com/api/contacts
      format: text
      headers: { X-Source: hookline, X-Team: growth }
      params: { list: main, lang: en }
      timeout: 5s
`;

describe("presets", () => {
  it("gives a webhook that extends a preset the preset's fields, its own overriding them", () => {
    const config = load(
      base +
        yaml`
      webhooks:
        sync:
          extends: crm
          url: https://crm.example.com/api/sync
          body: hello
    `,
    );
    expect(config.webhooks.sync).toMatchObject({
      extends: "crm",
      method: "PUT",
      url: "https://crm.example.com/api/sync",
      format: "text",
      body: "hello",
      timeout: 5_000,
    });
  });

  it("merges headers and params key by key; a header name overrides its preset's in any case", () => {
    const config = load(
      base +
        yaml`
      webhooks:
        sync:
          extends: crm
          headers: { x-source: api, X-Extra: "1" }
          params: { lang: de, vip: true }
    `,
    );
    expect(config.webhooks.sync?.headers).toEqual({ "X-Team": "growth", "x-source": "api", "X-Extra": "1" });
    expect(config.webhooks.sync?.params).toEqual({ list: "main", lang: "de", vip: true });
    // The preset itself is unchanged for the next webhook.
    expect(config.presets.crm?.headers).toEqual({ "X-Source": "hookline", "X-Team": "growth" });
  });

  it("applies a chain of presets in order, and webhook defaults only where no preset set a field", () => {
    const config = load(
      base +
        yaml`
        crm-contact:
          extends: crm
          url: https://crm.example.com/api/contact
          headers: { X-Kind: contact }
      webhooks:
        one: { extends: crm-contact, params: { list: vip } }
        plain: { url: https://x.example.com }
    `,
    );
    expect(config.webhooks.one).toMatchObject({
      method: "PUT",
      url: "https://crm.example.com/api/contact",
      headers: { "X-Source": "hookline", "X-Team": "growth", "X-Kind": "contact" },
      params: { list: "vip", lang: "en" },
    });
    expect(config.webhooks.plain).toMatchObject({ method: "POST", format: "json", headers: {} });
  });

  it("compiles the templates of the merged webhook, those from the preset included", () => {
    const eta = fakeRenderer("eta");
    const velocity = fakeRenderer("velocity");
    load(
      yaml`
        presets:
          p: { engine: velocity, headers: { X-Tag: t }, body: b }
        webhooks:
          w: { extends: p, url: u }
      `,
      registry({ renderers: [eta, velocity] }),
    );
    expect(velocity.compiled).toEqual(["webhooks.w.url", "webhooks.w.headers.X-Tag", "webhooks.w.body"]);
    expect(eta.compiled).toEqual([]);
  });

  it("reports an unknown preset at extends with file, line and the known presets", () => {
    const error = loadError(
      base +
        yaml`
      webhooks:
        sync:
          extends: crn
          url: https://x.example.com
    `,
    );
    expect(error.issues).toHaveLength(1);
    expect(error.message).toBe(
      `hookline.yaml:11:14 webhooks.sync.extends: unknown preset "crn"; expected one of: crm${BUILT_IN}`,
    );
  });

  it("says that no presets are defined when a webhook extends one without any", () => {
    const error = loadError("webhooks:\n  w: { extends: crm, url: u }\n");
    expect(error.message).toBe(
      `hookline.yaml:2:17 webhooks.w.extends: unknown preset "crm"; no presets are defined${BUILT_IN}`,
    );
  });

  it("reports presets that extend each other in a loop once, at the extends that closes it", () => {
    const error = loadError(yaml`
      presets:
        a: { extends: b, method: PUT }
        b: { extends: a }
        self: { extends: self }
      webhooks:
        w: { extends: a, url: u }
    `);
    expect(error.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`)).toEqual([
      "3:17 presets.b.extends: presets extend each other in a loop: a → b → a",
      "4:20 presets.self.extends: presets extend each other in a loop: self → self",
    ]);
  });

  it("reports an error in a field a preset wrote at the preset's line, once for all webhooks using it", () => {
    const error = loadError(yaml`
      presets:
        crm:
          method: PUTT
          headers: { X-Count: 3 }
      webhooks:
        a: { extends: crm, url: u }
        b: { extends: crm, url: v }
    `);
    expect(error.issues.map((i) => `${i.line}:${i.column} ${i.path}`)).toEqual([
      "3:13 presets.crm.method",
      "4:25 presets.crm.headers.X-Count",
    ]);
    expect(error.issues[0]?.message).toContain('got "PUTT"');
  });

  it("reports a template error in a preset's template at its line in the preset", () => {
    const error = loadError(yaml`
      presets:
        crm:
          body: |
            {
              "a": <%! x %>
            }
      webhooks:
        w: { extends: crm, url: u }
    `);
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({ line: 5, column: 14, path: "presets.crm.body" });
    expect(error.message).toContain("template error at line 2, column 8 of the template");
  });

  it("reports what the webhook itself writes, and what nobody wrote, at the webhook", () => {
    const error = loadError(yaml`
      presets:
        crm: { headers: { X-A: a } }
      webhooks:
        a: { extends: crm, url: u, headers: { X-B: 2 } }
        b: { extends: crm }
    `);
    expect(error.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`)).toEqual([
      "4:46 webhooks.a.headers.X-B: expected a string; got number 2",
      '5:3 webhooks.b.url: missing required field "url"',
    ]);
  });

  it("describes a webhook that extends a preset in the JSON Schema, url then optional", () => {
    const v = z.fromJSONSchema(configJsonSchema(registry()) as z.core.JSONSchema.JSONSchema);
    const presets = { crm: { url: "https://x.example.com", method: "PUT" } };
    expect(v.safeParse({ presets, webhooks: { w: { extends: "crm" } } }).success).toBe(true);
    expect(v.safeParse({ presets, webhooks: { w: { method: "PUT" } } }).success).toBe(false);
    expect(v.safeParse({ presets: { crm: { bogus: 1 } } }).success).toBe(false);
  });
});
