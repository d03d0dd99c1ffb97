import { describe, expect, it } from "bun:test";
import { loadConfig } from "../../../core/config/load.ts";
import { compileWebhookTemplates } from "../../../core/config/templates.ts";
import { TemplateError } from "../../../core/errors.ts";
import { fakeRenderer, loadError, registry, yaml } from "./fakes.ts";

describe("loadConfig: templates compile at load", () => {
  it("reports a syntax error in a block body at its line in the file, with the template's own line", () => {
    const error = loadError(yaml`
      webhooks:
        crm-sync:
          url: https://crm.example.com/api
          body: |
            {
              "email": "<%= it.customer.email %>",
              "name": <%! it.customer.name %>
            }
    `);
    expect(error.issues).toHaveLength(1);
    expect(error.message).toBe(
      'hookline.yaml:7:17 webhooks.crm-sync.body: template error at line 3, column 11 of the template: unexpected "<%!" in webhooks.crm-sync.body',
    );
  });

  it("reports an error in a one-line template (url, header) at its own column of the quoted scalar", () => {
    const error = loadError(yaml`
      webhooks:
        w:
          url: "https://x.example.com/<%! x %>"
          headers:
            X-Sig: "a <%! b"
    `);
    expect(error.issues.map((i) => `${i.line}:${i.column} ${i.path}`)).toEqual([
      "3:33 webhooks.w.url",
      "5:17 webhooks.w.headers.X-Sig",
    ]);
    expect(error.issues[0]?.message).toContain("line 1, column 23 of the template");
  });

  it("compiles with the renderer the webhook names, by template name", () => {
    const eta = fakeRenderer("eta");
    const velocity = fakeRenderer("velocity");
    loadConfig("webhooks:\n  w:\n    engine: velocity\n    url: u\n    headers: { A: a }\n    body: b\n", {
      file: "hookline.yaml",
      env: {},
      registry: registry({ renderers: [eta, velocity] }),
    });
    expect(velocity.compiled).toEqual(["webhooks.w.url", "webhooks.w.headers.A", "webhooks.w.body"]);
    expect(eta.compiled).toEqual([]);
  });

  it("still checks templates when other parts of the file are wrong", () => {
    const error = loadError("server:\n  port: x\nwebhooks:\n  w:\n    url: <%!\n");
    expect(error.issues.map((i) => i.path)).toEqual(["server.port", "webhooks.w.url"]);
  });
});

describe("compileWebhookTemplates", () => {
  it("returns compiled templates for the engine to render, and faults beside them", () => {
    const eta = fakeRenderer("eta");
    const { webhooks, faults } = compileWebhookTemplates(
      {
        webhooks: {
          ok: { url: "https://x.example.com", headers: { A: "a" }, body: "hello" },
          bad: { url: "https://x.example.com", body: "<%!" },
          other: { engine: "jinja", url: "u" },
        },
      },
      [eta],
    );
    expect(Object.keys(webhooks)).toEqual(["ok"]);
    expect(webhooks.ok?.renderer).toBe(eta);
    expect(webhooks.ok?.body?.render({})).toBe("hello");
    expect(webhooks.ok?.headers.A?.render({})).toBe("a");
    expect(faults).toHaveLength(2);
    expect(faults[0]?.path).toEqual(["webhooks", "bad", "body"]);
    expect(faults[0]?.error).toBeInstanceOf(TemplateError);
    expect(faults[1]).toEqual({
      path: ["webhooks", "other", "engine"],
      engine: "jinja",
      defaultEngine: false,
    });
  });
});
