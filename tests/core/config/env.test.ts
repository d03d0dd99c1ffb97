// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are `${NAME}` references, the subject under test
import { describe, expect, it } from "bun:test";
import { parseDocument } from "yaml";
import { expandDataEnv, expandDocumentEnv, expandEnv } from "../../../core/config/env.ts";
import { loadConfig } from "../../../core/config/load.ts";
import { loadError, registry, yaml } from "./fakes.ts";

const crm = (password: string) => yaml`
  integrations:
    crm:
      kind: basic
      endpointPrefix: https://crm.example.com/api
      username: hookline
      password: ${password}
  webhooks:
    crm-sync:
      url: https://crm.example.com/api/contacts
      integration: crm
      headers:
        Authorization: "Bearer \${CRM_TOKEN}"
      body: |
        {"name": "\${customer.name}", "literal": "$\${HOME}"}
`;

describe("expandEnv", () => {
  it("substitutes upper-case references and leaves other ${…} forms alone", () => {
    const result = expandEnv("a ${TOKEN} ${customer.name} ${lower} $${ESC} $${customer.x}", { TOKEN: "t" });
    expect(result.text).toBe("a t ${customer.name} ${lower} ${ESC} ${customer.x}");
    expect(result.values).toEqual(["t"]);
    expect(result.missing).toEqual([]);
  });

  it("keeps a missing reference as written and reports it with its offset", () => {
    const result = expandEnv("x ${GONE}", {});
    expect(result.text).toBe("x ${GONE}");
    expect(result.missing).toEqual([{ name: "GONE", offset: 2 }]);
  });

  it("substitutes an empty value, which is set, not missing", () => {
    expect(expandEnv("[${EMPTY}]", { EMPTY: "" })).toEqual({ text: "[]", values: [""], missing: [] });
  });
});

describe("expandDocumentEnv", () => {
  it("expands values, never keys", () => {
    const doc = parseDocument("${KEY}: ${KEY}\n");
    expandDocumentEnv(doc, { KEY: "v" });
    expect(doc.toJS()).toEqual({ "${KEY}": "v" });
  });
});

describe("loadConfig: environment references", () => {
  it("substitutes present variables and lists their values for redaction", () => {
    const config = loadConfig(crm("${CRM_PASSWORD}"), {
      file: "hookline.yaml",
      env: { CRM_PASSWORD: "s3cret", CRM_TOKEN: "tok-123" },
      registry: registry(),
    });
    expect(config.integrationOptions.crm).toEqual({ username: "hookline", password: "s3cret" });
    expect(config.webhooks["crm-sync"]?.headers).toEqual({ Authorization: "Bearer tok-123" });
    expect(config.envValues).toEqual(["s3cret", "tok-123"]);
  });

  it("keeps $${X} as a literal ${X} and leaves ${customer.name} untouched", () => {
    const config = loadConfig(crm("p"), {
      file: "hookline.yaml",
      env: { CRM_TOKEN: "t", HOME: "/root" },
      registry: registry(),
    });
    expect(config.webhooks["crm-sync"]?.body).toBe('{"name": "${customer.name}", "literal": "${HOME}"}\n');
    expect(config.envValues).toEqual(["t"]);
  });

  it("reports a missing variable at its line with the key path, naming the variable", () => {
    const error = loadError(crm("${CRM_PASSWORD}"), { CRM_TOKEN: "t" });
    expect(error.issues).toHaveLength(1);
    expect(error.message).toBe(
      "hookline.yaml:6:15 integrations.crm.password: environment variable CRM_PASSWORD is not set",
    );
  });

  it("reports every missing variable, and nothing else about the values that lack them", () => {
    const error = loadError("server:\n  port: ${PORT}\n  host: ${HOST}\n");
    expect(error.message).toBe(
      [
        "hookline.yaml:2:9 server.port: environment variable PORT is not set",
        "hookline.yaml:3:9 server.host: environment variable HOST is not set",
      ].join("\n"),
    );
  });

  it("points inside a block template at the line of the missing reference", () => {
    const error = loadError(yaml`
      webhooks:
        w:
          url: https://x.example.com
          body: |
            {
              "key": "\${API_KEY}"
            }
    `);
    expect(error.message).toBe("hookline.yaml:6:17 webhooks.w.body: environment variable API_KEY is not set");
  });

  it("does not echo a value from the environment in a message", () => {
    const error = loadError("webhooks:\n  w:\n    url: https://x.example.com\n    method: ${METHOD}\n", {
      METHOD: "hunter2",
    });
    expect(error.message).toBe(
      "hookline.yaml:4:13 webhooks.w.method: expected one of GET, POST, PUT, PATCH, DELETE; got a value from the environment",
    );
    expect(error.message).not.toContain("hunter2");
  });
});

describe("expandDataEnv (the edge's embedded config)", () => {
  it("expands string values at any depth as the document expansion does, keys and other types untouched", () => {
    const data = { "${KEY}": { list: ["a ${KEY}", 3, true, null], escaped: "$${KEY}" } };
    const r = expandDataEnv(data, { KEY: "k-123" });
    expect(r.data).toEqual({ "${KEY}": { list: ["a k-123", 3, true, null], escaped: "${KEY}" } });
    expect(r.values).toEqual(["k-123"]);
    expect([...r.fromEnv]).toEqual(["${KEY}.list.0"]);
    expect(data["${KEY}"].list[0]).toBe("a ${KEY}");
  });

  it("reports each variable that is not set with the path of its string, which keeps the reference", () => {
    const r = expandDataEnv({ auth: { keys: ["${MISSING}", "${SET}"] } }, { SET: "" });
    expect(r.missing).toEqual([{ name: "MISSING", path: ["auth", "keys", 0] }]);
    expect(r.data).toEqual({ auth: { keys: ["${MISSING}", ""] } });
    // An empty value is substituted (the schema decides whether it may be empty) but never redacted.
    expect(r.values).toEqual([]);
  });
});
