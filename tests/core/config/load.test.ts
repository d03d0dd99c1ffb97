import { describe, expect, it } from "bun:test";
import { loadConfig } from "../../../core/config/load.ts";
import { ConfigError } from "../../../core/errors.ts";
import { loadError, registry, yaml } from "./fakes.ts";

const load = (text: string, env: Record<string, string | undefined> = {}) =>
  loadConfig(text, { file: "hookline.yaml", env, registry: registry() });

const valid = yaml`
  engine:
    timeout: 10s
    retry:
      delays: [7s, 45s, 5m]
  integrations:
    crm-basic:
      kind: basic
      endpointPrefix: https://crm.example.com/api
      username: hookline
      password: s3cret
  webhooks:
    crm-sync:
      method: PUT
      url: https://crm.example.com/api/contacts
      integration: crm-basic
      timeout: 2500ms
      body: '{"email": "x"}'
  triggers:
    - webhooks: [crm-sync]
      event: contact.updated
    - kind: schedule
      webhooks: [crm-sync]
      every: 60
  inbound:
    path: /in
`;

describe("loadConfig: a valid file", () => {
  it("returns the core config with defaults, durations in milliseconds and each kind's options", () => {
    const config = load(valid);
    expect(config.file).toBe("hookline.yaml");
    expect(config.engine.timeout).toBe(10_000);
    expect(config.engine.retry.delays).toEqual([7_000, 45_000, 300_000]);
    expect(config.engine.concurrency).toBe(50);
    expect(config.server).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(config.webhooks["crm-sync"]?.timeout).toBe(2_500);
    expect(config.webhooks["crm-sync"]?.format).toBe("json");
    expect(config.integrations["crm-basic"]?.endpointPrefix).toBe("https://crm.example.com/api");
    expect(config.integrationOptions["crm-basic"]).toEqual({ username: "hookline", password: "s3cret" });
    expect(config.triggerOptions).toEqual([{ event: "contact.updated" }, { every: 60 }]);
    expect(config.triggers[0]?.kind).toBe("event");
    expect(config.envValues).toEqual([]);
  });

  it("validates a plugin section and returns it under sections, not at the top level", () => {
    const config = load(valid);
    expect(config.sections).toEqual({ inbound: { path: "/in", maxBytes: 1024 } });
    expect("inbound" in config).toBe(false);
  });

  it("leaves an optional plugin section out when the file has none", () => {
    expect(load("webhooks: {}\n").sections).toEqual({});
  });

  it("loads an empty file as all defaults", () => {
    const config = load("");
    expect(config.webhooks).toEqual({});
    expect(config.engine.timeout).toBe(10_000);
  });
});

describe("loadConfig: YAML syntax", () => {
  it("reports bad indentation at its line", () => {
    const error = loadError(yaml`
      webhooks:
        crm-sync:
          url: https://x.example.com
         method: POST
    `);
    expect(error.issues).toHaveLength(1);
    expect(error.message).toStartWith(
      "hookline.yaml:4:1 (root): invalid YAML: All mapping items must start at the same column",
    );
  });

  it("reports an unclosed quote where the quoted string starts, not at the end of the file", () => {
    const error = loadError(yaml`
      webhooks:
        crm-sync:
          url: "https://x.example.com
          method: POST
      triggers: []
    `);
    expect(error.message).toStartWith('hookline.yaml:3:10 (root): Missing closing "quote');
  });

  it("reports a duplicate key, naming it", () => {
    const error = loadError(yaml`
      webhooks:
        crm-sync:
          url: https://x.example.com
          url: https://y.example.com
    `);
    expect(error.message).toBe('hookline.yaml:4:5 (root): duplicate key "url": map keys must be unique');
  });
});

describe("loadConfig: aliases and runaway syntax", () => {
  it("reports an alias to no anchor as a config error at the alias", () => {
    const error = loadError("server:\n  host: 127.0.0.1\nengine:\n  timeout: *nowhere\n");
    expect(error.issues.map((i) => `${i.line}:${i.column} ${i.message}`)).toEqual([
      expect.stringMatching(/^4:12 invalid YAML: .*Unresolved alias/),
    ]);
  });

  it("refuses an alias bomb (billion laughs) as a config error, not an exception", () => {
    const lol = [
      "a: &a [x, x, x, x, x, x, x, x, x]",
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]",
      "d: [*c, *c, *c, *c, *c, *c, *c, *c, *c]",
    ].join("\n");
    const error = loadError(lol);
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]!.message).toContain("resource exhaustion");
    expect(error.issues[0]!.line).toBe(2);
  });

  it("refuses maps and lists nested deeper than 64 levels at the first too deep, quickly even with aliases", () => {
    const deep = `a: &a 1\nx: ${"[".repeat(3000)}*a${"]".repeat(3000)}\n`;
    const started = performance.now();
    const error = loadError(deep);
    // Aliases walked without the depth stop take minutes: a guard against that, not a speed check.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(error.issues.map((i) => `${i.line}:${i.column} ${i.message}`)).toEqual([
      "2:68 nested deeper than 64 levels; a config needs few",
    ]);
  });

  it("refuses values a YAML tag makes that are not plain data (!!binary, !!set, !!timestamp), at the value", () => {
    const error = loadError(
      "webhooks:\n  w:\n    url: https://x.example.com\n    params:\n      logo: !!binary aGVsbG8=\n",
    );
    expect(error.message).toBe(
      "hookline.yaml:5:22 webhooks.w.params.logo: binary data (!!binary) is not plain data; write a string, number, boolean, list or map",
    );
    expect(loadError("webhooks: !!set {a, b}\n").issues[0]!.message).toStartWith("Set is not plain data");
    expect(loadError("webhooks:\n  w:\n    params: { at: !!timestamp 2024-05-01 }\n").issues[0]!.path).toBe(
      "webhooks.w.params.at",
    );
  });

  it("reports the first 20 YAML errors one by one and counts the rest", () => {
    const error = loadError("a: b: c\n".repeat(100));
    expect(error.issues).toHaveLength(21);
    expect(error.issues.slice(0, 20).map((i) => i.line)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(error.issues.at(-1)!).toMatchObject({ line: 21, message: "80 more YAML errors from here on" });
  });
});

describe("loadConfig: schema issues", () => {
  it("reports wrong types and enum values in webhook fields, with what came", () => {
    const error = loadError(yaml`
      webhooks:
        crm-sync:
          method: FETCH
          url: 42
          format: yaml
          headers:
            X-Count: 3
    `);
    expect(error.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`)).toEqual([
      '3:13 webhooks.crm-sync.method: expected one of GET, POST, PUT, PATCH, DELETE; got "FETCH"',
      "4:10 webhooks.crm-sync.url: expected a string; got number 42",
      '5:13 webhooks.crm-sync.format: expected one of json, text, xml; got "yaml"',
      "7:16 webhooks.crm-sync.headers.X-Count: expected a string; got number 3",
    ]);
  });

  it("reports a string where a number belongs", () => {
    const error = loadError("server:\n  port: abc\n");
    expect(error.message).toBe('hookline.yaml:2:9 server.port: expected a number; got string "abc"');
  });

  it("reports a malformed duration with the forms it accepts", () => {
    const error = loadError("engine:\n  timeout: 10 sec\n");
    expect(error.message).toBe(
      'hookline.yaml:2:12 engine.timeout: expected a duration such as "500ms", "10s", "5m", "1h" or "5d"; got "10 sec"',
    );
  });

  it("reports an unknown top-level key, naming the allowed ones (plugin sections included)", () => {
    const error = loadError("webhook:\n  x: 1\n");
    expect(error.message).toBe(
      'hookline.yaml:1:1 webhook: unknown top-level key "webhook"; expected one of: version, server, store, engine, metrics, integrations, policies, retryPolicies, presets, webhooks, triggers, inbound',
    );
  });

  it("reports an unknown field of a webhook at its key", () => {
    const error = loadError("webhooks:\n  w:\n    url: https://x.example.com\n    retries: 3\n");
    expect(error.message).toStartWith(
      'hookline.yaml:4:5 webhooks.w.retries: unknown field "retries"; expected one of: description, method',
    );
  });

  it("reports a missing required field at the entry that lacks it", () => {
    const error = loadError(yaml`
      webhooks:
        crm-sync:
          method: POST
          body: "{}"
    `);
    expect(error.message).toBe('hookline.yaml:2:3 webhooks.crm-sync.url: missing required field "url"');
  });

  it("reports a plugin section's own issues under its key", () => {
    const error = loadError("inbound:\n  path: in\n");
    expect(error.message).toBe(
      'hookline.yaml:2:9 inbound.path: expected a string starting with "/"; got "in"',
    );
  });

  it("reports every issue at once, in file order", () => {
    const error = loadError(yaml`
      bogus: 1
      server:
        port: "8080"
      webhooks:
        a:
          method: FETCH
          url: https://x.example.com
          integration: nope
        b:
          url: https://x.example.com
      triggers:
        - webhooks: [a, c]
          event: x
    `);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.code).toBe("HOOKLINE_CONFIG");
    expect(error.issues.map((i) => `${i.line}:${i.column} ${i.path}`)).toEqual([
      "1:1 bogus",
      "3:9 server.port",
      "6:13 webhooks.a.method",
      "8:18 webhooks.a.integration",
      "12:19 triggers.0.webhooks.1",
    ]);
    expect(error.message.split("\n")).toHaveLength(5);
  });
});

describe("loadConfig: integrations and triggers by kind", () => {
  it("reports an unknown integration kind at `kind`, listing the registered kinds", () => {
    const error = loadError(yaml`
      integrations:
        crm:
          kind: bsic
          endpointPrefix: https://crm.example.com
    `);
    expect(error.message).toBe(
      'hookline.yaml:3:11 integrations.crm.kind: unknown integration kind "bsic"; expected one of: basic, headers',
    );
  });

  it("checks an integration's own fields with its kind's schema, paths below the integration", () => {
    const error = loadError(yaml`
      integrations:
        crm:
          kind: basic
          endpointPrefix: https://crm.example.com
          username: 7
          token: abc
        hdr:
          kind: headers
          endpointPrefix: https://h.example.com
          headers:
            - name: Authorization
              value: [a]
    `);
    expect(error.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`)).toEqual([
      '2:3 integrations.crm.password: missing required field "password"',
      "5:15 integrations.crm.username: expected a string; got number 7",
      '6:5 integrations.crm.token: unknown field "token"; expected one of: kind, endpointPrefix, test, username, password',
      "12:16 integrations.hdr.headers.0.value: expected a string; got a list of 1 item",
    ]);
  });

  it("checks the core's integration fields too (endpointPrefix must be an http(s) URL)", () => {
    const error = loadError(yaml`
      integrations:
        crm:
          kind: basic
          endpointPrefix: ftp://crm.example.com
          username: u
          password: p
    `);
    expect(error.message).toBe(
      'hookline.yaml:4:21 integrations.crm.endpointPrefix: expected an absolute http:// or https:// URL; got "ftp://crm.example.com"',
    );
  });

  it("reports an unknown trigger kind, and a trigger's own fields by its kind", () => {
    const error = loadError(yaml`
      webhooks:
        w:
          url: https://x.example.com
      triggers:
        - kind: cron
          webhooks: [w]
        - kind: schedule
          webhooks: [w]
          every: "5"
        - webhooks: [w]
          event: x
          filter: y
    `);
    expect(error.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`)).toEqual([
      '5:11 triggers.0.kind: unknown trigger kind "cron"; expected one of: event, schedule',
      '9:12 triggers.1.every: expected a number; got string "5"',
      '12:5 triggers.2.filter: unknown field "filter"; expected one of: kind, webhooks, params, consent, segments, event',
    ]);
  });

  it("says so when the default trigger kind is not registered", () => {
    const reg = registry({ triggerKinds: [] });
    const error = loadError(
      "webhooks:\n  w:\n    url: https://x.example.com\ntriggers:\n  - webhooks: [w]\n",
      {},
      reg,
    );
    expect(error.message).toBe(
      'hookline.yaml:5:5 triggers.0: no trigger kind "event" is registered (the default when kind is omitted); expected one of: (none registered)',
    );
  });
});

describe("loadConfig: references", () => {
  it("reports a webhook naming an unknown integration, listing the known ones", () => {
    const error = loadError(yaml`
      integrations:
        crm-basic:
          kind: basic
          endpointPrefix: https://crm.example.com/api
          username: u
          password: p
      webhooks:
        crm-sync:
          url: https://crm.example.com/api/contacts
          integration: crm-basci
    `);
    expect(error.message).toBe(
      'hookline.yaml:10:18 webhooks.crm-sync.integration: unknown integration "crm-basci"; expected one of: crm-basic',
    );
  });

  it("reports a trigger naming an unknown webhook at its list index", () => {
    const error = loadError(yaml`
      webhooks:
        a:
          url: https://x.example.com
      triggers:
        - event: x
          webhooks:
            - a
            - b
    `);
    expect(error.message).toBe(
      'hookline.yaml:8:9 triggers.0.webhooks.1: unknown webhook "b"; expected one of: a',
    );
  });

  it("reports a webhook naming an unregistered engine", () => {
    const error = loadError("webhooks:\n  a:\n    url: https://x.example.com\n    engine: jinja\n");
    expect(error.message).toBe(
      'hookline.yaml:4:13 webhooks.a.engine: unknown engine "jinja"; expected one of: eta, velocity',
    );
  });

  it("reports the default engine missing at the webhook that relies on it", () => {
    const reg = registry({ renderers: [] });
    const error = loadError("webhooks:\n  a:\n    url: https://x.example.com\n", {}, reg);
    expect(error.message).toBe(
      'hookline.yaml:2:3 webhooks.a.engine: no renderer "eta" (the default engine) is registered; expected one of: (none registered)',
    );
  });
});

describe("secrets in config errors", () => {
  it("does not echo a secret written into the file when its value is wrong", async () => {
    const { loadConfig } = await import("../../../core/config/load.ts");
    const { signatureProvider } = await import("../../../plugins/signature/index.ts");
    const text =
      "integrations:\n  signing:\n    kind: signature\n    endpointPrefix: https://x.example\n    secrets: [not-a-whsec-Distinctive-Secret-99]\n";
    let message = "";
    try {
      loadConfig(text, {
        file: "s.yaml",
        env: {},
        registry: { authProviders: [signatureProvider], triggerKinds: [], sections: [], renderers: [] },
      });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain("s.yaml:5:");
    expect(message).toContain("integrations.signing.secrets");
    expect(message).not.toContain("Distinctive-Secret-99");
  });
});
