import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parse } from "yaml";
import { BUILTIN_PRESETS, builtinPresets, withBuiltinPresets } from "../../../core/config/builtin-presets.ts";
import { loadConfig } from "../../../core/config/load.ts";
import { PresetList } from "../../../core/http/presets.ts";
import { rolesFor } from "../../../core/http/roles.ts";
import { basicProvider } from "../../../plugins/basic/index.ts";
import { bearer, bearerProvider } from "../../../plugins/bearer/index.ts";
import { etaRenderer, form } from "../../../plugins/eta/index.ts";
import { etaPrecompiledRenderer, precompileEta, type TemplateFn } from "../../../plugins/eta/precompile.ts";
import { headersProvider } from "../../../plugins/headers/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, type SinkRequest, startSink } from "../../support/http-sink.ts";
import { loadError, registry, yaml } from "./fakes.ts";

const eta = etaRenderer();
const load = (text: string) =>
  loadConfig(text, { file: "hookline.yaml", env: {}, registry: registry({ renderers: [eta] }) });

describe("the built-in preset catalogue", () => {
  it("documents every param its templates read, and only those", () => {
    for (const p of builtinPresets) {
      const { url, headers, body, batch } = p.preset;
      const sources = [url, body, batch?.item, ...Object.values(headers ?? {})].filter(
        (s): s is string => typeof s === "string",
      );
      const read = new Set(sources.flatMap((s) => eta.parameters!(s)));
      expect({ preset: p.name, params: [...read].sort() }).toEqual({
        preset: p.name,
        params: p.params.map((x) => x.name).sort(),
      });
    }
  });

  it("gives each param a description, no default to a required one, and each preset its docs page", () => {
    for (const p of builtinPresets) {
      expect(p.docs).toStartWith("https://");
      for (const x of p.params) {
        expect(x.description.length).toBeGreaterThan(5);
        if (x.required) expect("default" in x).toBe(false);
      }
      // The defaults a webhook inherits are the documented ones.
      const documented = Object.fromEntries(
        p.params.filter((x) => "default" in x).map((x) => [x.name, x.default]),
      );
      expect(p.preset.params ?? {}).toEqual(documented);
    }
  });

  it("writes no secret into a preset: credentials come from the webhook's integration or url", () => {
    for (const p of builtinPresets) {
      const text = JSON.stringify(p.preset);
      expect(text).not.toMatch(/authorization|token|password|\$\{/i);
    }
  });

  it("loads every preset's example with the fields the preset gives", () => {
    for (const p of builtinPresets) {
      const text = p.example;
      const env = Object.fromEntries(
        [...text.matchAll(/\$\{([A-Z_]+)\}/g)].map((m) => [m[1]!, "AC0123456789"]),
      );
      const withIntegrations = text.includes("integration: crm")
        ? `integrations:\n  crm: { kind: basic, endpointPrefix: "https://crm.example.com/api", username: u, password: p }\n${text}`
        : text;
      const config = loadConfig(withIntegrations, {
        file: "hookline.yaml",
        env,
        registry: registry({
          renderers: [eta],
          authProviders: [basicProvider, headersProvider, bearerProvider],
        }),
      });
      const [name, webhook] = Object.entries(config.webhooks)[0]!;
      expect({ name, extends: webhook.extends }).toEqual({ name, extends: p.name });
      expect(webhook.body).toBe(p.preset.body!);
    }
  });
});

describe("extending a built-in preset", () => {
  it("reports a required param left out, and a missing integration, at the webhook's extends", () => {
    const error = loadError(
      yaml`
        webhooks:
          sms:
            extends: twilio-sms
            params: { from: "+15550001111" }
      `,
      {},
      registry({ renderers: [eta] }),
    );
    expect(error.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`)).toEqual([
      '3:14 webhooks.sms.extends: preset "twilio-sms" needs param "accountSid" (the Account SID (AC…) in the URL): set it under params:',
      '3:14 webhooks.sms.extends: preset "twilio-sms" needs param "text" (the message text (Twilio\'s `Body`)): set it under params:',
      expect.stringContaining(
        '3:14 webhooks.sms.extends: preset "twilio-sms" needs integration: a `basic` integration',
      ),
    ]);
  });

  it("needs the template name for a WhatsApp template message, the text for a text message", () => {
    const base = (params: string) => yaml`
      integrations:
        wa: { kind: basic, endpointPrefix: "https://graph.facebook.com/", username: u, password: p }
      webhooks:
        w: { extends: whatsapp, integration: wa, params: ${params} }
    `;
    expect(loadError(base("{ phoneNumberId: '1' }"), {}, registry({ renderers: [eta] })).message).toContain(
      'needs param "template"',
    );
    expect(
      loadError(base("{ phoneNumberId: '1', type: text }"), {}, registry({ renderers: [eta] })).message,
    ).toContain('needs param "text"');
    expect(load(base("{ phoneNumberId: '1', type: text, text: hi }")).webhooks.w?.url).toContain(
      "it.params.phoneNumberId",
    );
  });

  it("needs no message param from a webhook that writes its own body", () => {
    const config = load(yaml`
      integrations:
        tw: { kind: basic, endpointPrefix: "https://api.twilio.com/2010-04-01/Accounts/AC1", username: AC1, password: p }
      webhooks:
        sms:
          extends: twilio-sms
          integration: tw
          params: { accountSid: AC1 }
          body: '<%= form({ To: it.customer.phone, From: "+1555", Body: "Hi " + it.customer.first_name }) %>'
    `);
    expect(config.webhooks.sms).toMatchObject({ method: "POST", format: "text" });
  });

  it("lets a preset of the file shadow a built-in of the same name", () => {
    const config = load(yaml`
      presets:
        slack: { method: PUT, body: "{}" }
      webhooks:
        w: { extends: slack, url: "https://x.example.com" }
    `);
    expect(config.webhooks.w).toMatchObject({ method: "PUT", body: "{}" });
  });

  it("chains a preset of the file over a built-in, and changes a batch size keeping the item template", () => {
    const config = load(yaml`
      integrations:
        cm: { kind: headers, endpointPrefix: "https://gw.messaging.cm.com/v1.0/message", headers: [{ name: X-CM-PRODUCTTOKEN, value: t }] }
      presets:
        acme-sms: { extends: cm-sms, integration: cm, params: { from: ACME } }
      webhooks:
        promo: { extends: acme-sms, batch: { size: 500 }, params: { text: Sale } }
    `);
    expect(config.webhooks.promo?.batch?.size).toBe(500);
    expect(config.webhooks.promo?.batch?.item).toBe(BUILTIN_PRESETS["cm-sms"]!.fields.batch!.item as string);
    expect(config.webhooks.promo?.params).toMatchObject({ from: "ACME", text: "Sale", channels: ["SMS"] });
  });

  it("names the built-in presets when a webhook extends an unknown one", () => {
    const error = loadError(
      "webhooks:\n  w: { extends: slak, url: u }\n",
      {},
      registry({ renderers: [eta] }),
    );
    expect(error.message).toBe(
      `hookline.yaml:2:17 webhooks.w.extends: unknown preset "slak"; no presets are defined (or a built-in preset: ${builtinPresets.map((p) => p.name).join(", ")})`,
    );
  });

  it("embeds the built-in presets a config uses, so a loader without the gallery resolves the same webhooks", () => {
    const text = yaml`
      presets:
        rest-json: { method: PATCH }
      webhooks:
        a: { extends: slack, url: "https://hooks.slack.com/services/T/B/X" }
        b: { extends: rest-json, url: "https://x.example.com" }
    `;
    const data = withBuiltinPresets(parse(text)) as { presets: Record<string, unknown> };
    expect(Object.keys(data.presets).sort()).toEqual(["rest-json", "slack"]);
    expect(data.presets["rest-json"]).toEqual({ method: "PATCH" });
    const without = loadConfig(JSON.stringify(data), {
      file: "hookline.yaml",
      env: {},
      registry: { ...registry({ renderers: [eta] }), presets: {} },
    });
    expect(without.webhooks).toEqual(load(text).webhooks);
    expect(withBuiltinPresets({ webhooks: { c: { url: "u" } } })).toEqual({ webhooks: { c: { url: "u" } } });
  });
});

describe("the form helper", () => {
  it("encodes as a browser form does, repeating a list's key and leaving out null and undefined", () => {
    expect(
      form({ To: "+15558675310", Body: "Hi & bye = 100% ✓", Skip: undefined, No: null, M: ["a", "b"] }),
    ).toBe("To=%2B15558675310&Body=Hi+%26+bye+%3D+100%25+%E2%9C%93&M=a&M=b");
  });

  it("is in scope of precompiled templates (the edge worker's) as of run-time Eta", async () => {
    const body = BUILTIN_PRESETS["twilio-sms"]!.fields.body as string;
    const dir = mkdtempSync(join(tmpdir(), "hookline-presets-"));
    try {
      const file = join(dir, "templates.mjs");
      writeFileSync(file, precompileEta({ "webhooks.sms.body": body }));
      const compiled = ((await import(pathToFileURL(file).href)) as { default: Record<string, TemplateFn> })
        .default;
      const context = { customer: { phone: "+31 6" }, params: { from: "+1", text: "a&b c" } };
      const precompiled = etaPrecompiledRenderer(compiled).compile(body, { name: "b" }).render(context);
      expect(precompiled).toBe("To=%2B31+6&From=%2B1&Body=a%26b+c");
      expect(eta.compile(body, { name: "b" }).render(context)).toBe(precompiled);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("GET /v1/presets", () => {
  it("is for every role that reads", () => {
    expect(rolesFor("GET", "/v1/presets")).toEqual(["admin", "editor", "viewer"]);
  });
});

// Each preset's request, as the destination's documentation gives it, sent to a local sink.
const customer = {
  id: "c-1",
  email: "ann@example.com",
  phone: "+31612345678",
  first_name: 'Ann "<&>" O\'Neil',
};

const config = (sink: string) => `
engine:
  pollInterval: 20ms
  retry: { delays: [30ms], jitter: 0 }
  allowNetworks: ["127.0.0.1/32"]
integrations:
  twilio:
    kind: basic
    endpointPrefix: ${sink}/2010-04-01/Accounts/AC0123
    username: AC0123
    password: auth-token-1
  whatsapp:
    kind: bearer
    endpointPrefix: ${sink}/v23.0/
    token: wa-token-1
  cm:
    kind: headers
    endpointPrefix: ${sink}/v1.0/message
    headers: [{ name: X-CM-PRODUCTTOKEN, value: 00000000-0000-0000-0000-000000000001 }]
webhooks:
  slack:
    extends: slack
    url: ${sink}/services/T000/B000/XXXX
    params: { text: "Signup: <&> \\"quoted\\"", blocks: [{ type: section, text: { type: mrkdwn, text: "*New*" } }] }
  teams:
    extends: teams
    url: ${sink}/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=s
    params: { title: "VIP <b>" }
  teams-card:
    extends: teams-messagecard
    url: ${sink}/webhookb2/x/IncomingWebhook/y/z
    params: { title: Run, text: "Done & dusted" }
  zapier:
    extends: zapier
    url: ${sink}/hooks/catch/123/abc/
    params: { fields: { campaign: spring } }
  twilio:
    extends: twilio-sms
    integration: twilio
    params: { accountSid: AC0123, from: "+15017122661", text: "Hi & welcome = 100%", baseUrl: ${sink} }
  whatsapp:
    extends: whatsapp
    integration: whatsapp
    params:
      phoneNumberId: "106540352242922"
      template: hello_world
      components: [{ type: body, parameters: [{ type: text, text: "Ann" }] }]
      baseUrl: ${sink}
  whatsapp-text:
    extends: whatsapp
    integration: whatsapp
    params: { phoneNumberId: "106540352242922", type: text, text: "Your code: <1234>", to: "+15550001111", baseUrl: ${sink} }
  cm:
    extends: cm-sms
    integration: cm
    batch: { size: 10, linger: 300ms }
    params: { from: ACME, text: "Sale \\"today\\" & tomorrow", reference: promo1, baseUrl: ${sink} }
  rest:
    extends: rest-json
    method: PUT
    url: ${sink}/api/contacts/<%= encodeURIComponent(it.customer.id) %>
triggers:
  - { kind: event, events: [signup], webhooks: [slack, teams, teams-card, zapier, twilio, whatsapp, whatsapp-text, rest] }
  - { kind: event, events: [promo], webhooks: [cm] }
`;

describe("built-in presets against a local sink", () => {
  const kind = storeKinds[0]!;
  let driver: Awaited<ReturnType<typeof kind.open>>;
  let sink: Sink;
  let app: Awaited<ReturnType<typeof testApp>>;
  const at = (prefix: string): SinkRequest[] => sink.requests.filter((r) => r.url.startsWith(prefix));

  beforeAll(async () => {
    driver = await kind.open();
    sink = await startSink(() => ({
      status: 200,
      headers: { "content-type": "application/json" },
      body: "{}",
    }));
    app = await testApp(config(sink.url), driver, { plugins: [bearer()] });
    await app.start();
    const published = await app.publish([
      { type: "signup", customer, data: { plan: "pro" } },
      { type: "promo", customer },
      { type: "promo", customer: { id: "c-2", phone: "0031698765432" } },
    ]);
    const ids = published.events.flatMap((e) => e.deliveries.map((d) => d.id));
    expect(ids).toHaveLength(10);
    await eventually(async () => {
      const all = await Promise.all(ids.map((id) => app.store.getDelivery(id)));
      return all.every((d) => d?.status === "succeeded");
    });
  });
  afterAll(async () => {
    await app.stop(1_000);
    await sink.close();
    await driver.dispose();
  });

  it("slack: POSTs JSON text and blocks to the incoming webhook URL", () => {
    const [r] = at("/services/");
    expect(r).toMatchObject({ method: "POST", url: "/services/T000/B000/XXXX" });
    expect(r!.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(r!.body)).toEqual({
      text: 'Signup: <&> "quoted"',
      blocks: [{ type: "section", text: { type: "mrkdwn", text: "*New*" } }],
    });
    expect(r!.body).not.toContain("<");
  });

  it("teams: POSTs a message with one Adaptive Card attachment, the summary as its text", () => {
    const [r] = at("/workflows/");
    expect(r!.method).toBe("POST");
    expect(r!.url).toBe("/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=s");
    expect(r!.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(r!.body)).toEqual({
      type: "message",
      attachments: [
        {
          contentType: "application/vnd.microsoft.card.adaptive",
          contentUrl: null,
          content: {
            $schema: "http://adaptivecards.io/schemas/adaptive-card.json",
            type: "AdaptiveCard",
            version: "1.2",
            body: [
              { type: "TextBlock", text: "VIP <b>", weight: "Bolder", size: "Medium", wrap: true },
              { type: "TextBlock", text: "signup: ann@example.com", wrap: true },
            ],
          },
        },
      ],
    });
  });

  it("teams-messagecard: POSTs a MessageCard with summary, theme colour, title and text", () => {
    const [r] = at("/webhookb2/");
    expect(r!.method).toBe("POST");
    expect(r!.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(r!.body)).toEqual({
      "@type": "MessageCard",
      "@context": "https://schema.org/extensions",
      summary: "Done & dusted",
      themeColor: "0076D7",
      title: "Run",
      text: "Done & dusted",
    });
  });

  it("zapier: POSTs the event and the customer as JSON fields to the catch hook", () => {
    const [r] = at("/hooks/catch/");
    expect(r).toMatchObject({ method: "POST", url: "/hooks/catch/123/abc/" });
    expect(r!.headers["content-type"]).toBe("application/json");
    const body = JSON.parse(r!.body);
    expect(body).toMatchObject({
      event: { type: "signup", data: { plan: "pro" } },
      customer,
      campaign: "spring",
    });
    expect(body.event.id).toBeString();
    expect(r!.body).not.toContain('"<&>"');
  });

  it("twilio-sms: POSTs To, From and Body form-encoded to the account's Messages.json with Basic auth", () => {
    const [r] = at("/2010-04-01/");
    expect(r).toMatchObject({ method: "POST", url: "/2010-04-01/Accounts/AC0123/Messages.json" });
    expect(r!.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(r!.headers.authorization).toBe(`Basic ${btoa("AC0123:auth-token-1")}`);
    expect(r!.body).toBe("To=%2B31612345678&From=%2B15017122661&Body=Hi+%26+welcome+%3D+100%25");
    expect(Object.fromEntries(new URLSearchParams(r!.body))).toEqual({
      To: "+31612345678",
      From: "+15017122661",
      Body: "Hi & welcome = 100%",
    });
  });

  it("whatsapp: POSTs a template message to /{version}/{phone-number-id}/messages with a Bearer token", () => {
    const [template, text] = at("/v23.0/")
      .sort((a, b) => a.body.length - b.body.length)
      .reverse();
    for (const r of [template!, text!]) {
      expect(r).toMatchObject({ method: "POST", url: "/v23.0/106540352242922/messages" });
      expect(r.headers.authorization).toBe("Bearer wa-token-1");
      expect(r.headers["content-type"]).toBe("application/json");
    }
    expect(JSON.parse(template!.body)).toEqual({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: "+31612345678",
      type: "template",
      template: {
        name: "hello_world",
        language: { code: "en_US" },
        components: [{ type: "body", parameters: [{ type: "text", text: "Ann" }] }],
      },
    });
    expect(JSON.parse(text!.body)).toEqual({
      messaging_product: "whatsapp",
      recipient_type: "individual",
      to: "+15550001111",
      type: "text",
      text: { preview_url: false, body: "Your code: <1234>" },
    });
  });

  it("cm-sms: POSTs one batch, messages.msg[] with from, to[].number and body.content, the token in a header", () => {
    const requests = at("/v1.0/message");
    expect(requests).toHaveLength(1);
    const [r] = requests;
    expect(r!.method).toBe("POST");
    expect(r!.headers["content-type"]).toBe("application/json");
    expect(r!.headers["x-cm-producttoken"]).toBe("00000000-0000-0000-0000-000000000001");
    const body = JSON.parse(r!.body) as { messages: { msg: Array<{ to: Array<{ number: string }> }> } };
    expect(Object.keys(body)).toEqual(["messages"]);
    const numbers = body.messages.msg.map((m) => m.to[0]!.number).sort();
    expect(numbers).toEqual(["+31612345678", "0031698765432"]);
    for (const m of body.messages.msg)
      expect(m).toEqual({
        from: "ACME",
        to: [{ number: m.to[0]!.number }],
        body: { type: "auto", content: 'Sale "today" & tomorrow' },
        allowedChannels: ["SMS"],
        reference: "promo1",
      });
  });

  it("rest-json: sends the event and the customer as JSON with the webhook's method, asking for JSON", () => {
    const [r] = at("/api/contacts/");
    expect(r).toMatchObject({ method: "PUT", url: "/api/contacts/c-1" });
    expect(r!.headers["content-type"]).toBe("application/json");
    expect(r!.headers.accept).toBe("application/json");
    expect(JSON.parse(r!.body)).toMatchObject({ event: { type: "signup", data: { plan: "pro" } }, customer });
  });

  it("fails a customer without a phone alone, with a render reason, sending nothing for them", async () => {
    const before = at("/2010-04-01/").length;
    const published = await app.publish({ type: "signup", customer: { id: "c-3", email: "x@example.com" } });
    const id = published.events[0]!.deliveries.find((d) => d.webhook === "twilio")!.id;
    const failed = await eventually(async () => {
      const d = await app.store.getDelivery(id);
      return d?.status === "failed" ? d : undefined;
    });
    expect(failed.reason).toContain("no recipient: params.to is not set and the customer has no phone");
    expect(at("/2010-04-01/")).toHaveLength(before);
  });

  it("lists the gallery at GET /v1/presets, documented in the OpenAPI document", async () => {
    const list = await app.fetch(new Request("http://h/v1/presets"));
    expect(list.status).toBe(200);
    const answer = await list.json();
    // The answer is the documented schema (strict: nothing undocumented in it).
    const { presets } = PresetList.parse(answer);
    expect(presets.map((p) => p.name)).toEqual(builtinPresets.map((p) => p.name));
    expect(presets.find((p) => p.name === "twilio-sms")?.docs).toContain("twilio.com/docs");
    const doc = (await (await app.fetch(new Request("http://h/openapi.json"))).json()) as {
      paths: Record<string, { get?: { tags?: string[] } }>;
    };
    expect(doc.paths["/v1/presets"]?.get?.tags).toEqual(["Presets"]);
  });
});
