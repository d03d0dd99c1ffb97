/**
 * The edge worker checks its config and request bodies with the same schemas as the servers, built
 * over zod/mini (edge/zod-classic.ts). These tests bundle the edge's config loader and body checks as
 * `npm run build:edge` does and hold their answers to the servers' (classic zod, the YAML loader).
 */
import { beforeAll, describe, expect, it } from "bun:test";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { parseDocument } from "yaml";
import { loadConfig } from "../../core/config/load.ts";
import { ConfigError } from "../../core/errors.ts";
import { inboundParts } from "../../edge/compose.ts";
import type { EmbeddedConfig } from "../../edge/config.ts";
import { embedConfig } from "../../edge/embed.ts";
import { basic } from "../../plugins/basic/index.ts";
import { eta } from "../../plugins/eta/index.ts";
import { headers } from "../../plugins/headers/index.ts";
import { parseActivities } from "../../plugins/inbound/activity.ts";
import { edgeSubstitutions } from "../../scripts/build-edge.ts";
import { INBOUND_CONFIG, INBOUND_ENV } from "../conformance/support/inbound-cases.ts";
import { ESPUTNIK_EXAMPLE } from "../support/esputnik-example.ts";

const root = resolve(import.meta.dir, "../..");

/** What the test bundle exports: the edge's loader and body check, built as the worker is. */
interface EdgeModules {
  edgeConfig: typeof import("../../edge/config.ts").edgeConfig;
  inboundParts: typeof inboundParts;
  eta: typeof eta;
  basic: typeof basic;
  headers: typeof headers;
  parseActivities: typeof parseActivities;
  authenticator: typeof import("../../plugins/inbound/auth.ts").authenticator;
}

let edge: EdgeModules;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "hookline-edge-zod-"));
  const out = join(dir, "edge.mjs");
  await build({
    stdin: {
      contents: [
        `export { edgeConfig } from "./edge/config.ts";`,
        `export { inboundParts } from "./edge/compose.ts";`,
        `export { eta } from "./plugins/eta/index.ts";`,
        `export { basic } from "./plugins/basic/index.ts";`,
        `export { headers } from "./plugins/headers/index.ts";`,
        `export { parseActivities } from "./plugins/inbound/activity.ts";`,
        `export { authenticator } from "./plugins/inbound/auth.ts";`,
      ].join("\n"),
      resolveDir: root,
      loader: "ts",
    },
    bundle: true,
    format: "esm",
    platform: "node",
    outfile: out,
    plugins: [edgeSubstitutions({ jwt: false })],
    logLevel: "warning",
  });
  edge = await import(out);
  return () => rm(dir, { recursive: true, force: true });
});

const FILE = "hookline.yaml";

/** The servers' answer: the YAML loader on classic zod. */
function onServer(text: string, env: Record<string, string>) {
  const { registry } = inboundParts([eta(), basic(), headers()]);
  return outcome(() => loadConfig(text, { file: FILE, env, registry }));
}

/** The edge's answer: the config as the build embeds it, loaded with the bindings over zod/mini. */
function onEdge(embedded: EmbeddedConfig, env: Record<string, string>) {
  const { registry } = edge.inboundParts([edge.eta(), edge.basic(), edge.headers()]);
  return outcome(() => edge.edgeConfig(embedded, env, registry));
}

function outcome(load: () => unknown): { config?: unknown; issues?: string[] } {
  try {
    return { config: JSON.parse(JSON.stringify(load())) };
  } catch (e) {
    // The bundle has its own copy of ConfigError: compare what it says.
    const issues = (e as ConfigError).issues;
    if (!issues) throw e;
    return { issues: issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`) };
  }
}

const RICH = `
engine:
  timeout: 5s
  retry: { delays: [1s, 10s], jitter: 0.2 }
policies:
  crm: { concurrency: 4 }
integrations:
  crm-basic: { kind: basic, endpointPrefix: "\${CRM_URL}", username: hookline, password: "\${CRM_PASSWORD}" }
  crm-headers:
    kind: headers
    endpointPrefix: https://crm.example.com/api
    headers: [{ name: X-Token, value: "\${CRM_TOKEN}" }]
presets:
  crm-base: { method: PUT, integration: crm-basic, policy: crm, headers: { X-Source: hookline } }
webhooks:
  sync:
    extends: crm-base
    url: https://crm.example.com/api/contacts/<%= it.customer.id %>
    body: '{"email": <%= json(it.customer.email) %>}'
    params: { list: newsletter }
    response: { mapping: [{ from: $.id, to: crmId }] }
  batch:
    url: https://crm.example.com/api/bulk
    body: '[<%= it.items %>]'
    batch: { size: 50, linger: 2s, item: '<%= json(it.customer.id) %>' }
triggers:
  - { kind: event, events: [activity.*], webhooks: [sync] }
  - { kind: profile-change, properties: [email], webhooks: [batch] }
inbound:
  endpoints:
    keys: { kind: activity-status, auth: { kind: apiKey, keys: ["\${ESPUTNIK_KEY}", other-key], allowQuery: true }, bodyLimit: 512kb, maxItems: 20 }
    tokens: { kind: activity-status, auth: { kind: bearer, tokens: ["\${TOKEN}"] }, dedupe: id }
    jwt: { kind: activity-status, auth: { kind: bearer, jwks: { keys: [{ kty: oct, k: AAAA }] }, issuer: me, audience: you, clockTolerance: 10s } }
    signed: { kind: activity-status, auth: { kind: standardWebhooks, secrets: ["\${SIGNING_SECRET}"], tolerance: 1m } }
    hmac: { kind: activity-status, auth: { kind: hmac, header: X-Hub-Signature-256, secret: "\${HMAC}", prefix: "sha256=" } }
    open: { kind: activity-status, path: open/v2, auth: { kind: none }, ipAllowlist: ["203.0.113.0/24", "2001:db8::1"], trustedProxies: [10.0.0.1] }
    crm:
      kind: profile-update
      auth: { kind: basic, users: [{ username: crm, password: "\${CRM_PASSWORD}" }] }
      identifier: { property: email, from: $.email }
      createProfiles: true
      mappings: [{ from: $.name, to: name }, { from: "$.tags[*]", to: tags, mode: add-to-list }]
      timeline: [{ type: order, date: $.at, fields: { total: $.total } }]
`;
const RICH_ENV = {
  CRM_URL: "https://crm.example.com/api",
  CRM_PASSWORD: "pw-2c41",
  CRM_TOKEN: "tok-9d",
  ESPUTNIK_KEY: "esp-1",
  TOKEN: "bearer-1",
  SIGNING_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
  HMAC: "hmac-secret",
};

describe("the edge's config, loaded with the Worker's bindings", () => {
  const cases: Array<[string, string, Record<string, string>]> = [
    ["the conformance config", INBOUND_CONFIG, INBOUND_ENV],
    ["every section, preset and endpoint kind", RICH, RICH_ENV],
    ["a secret that breaks its field's rule", RICH, { ...RICH_ENV, SIGNING_SECRET: "not-whsec" }],
    ["an empty key", RICH, { ...RICH_ENV, ESPUTNIK_KEY: "" }],
    ["a URL that is not one", RICH, { ...RICH_ENV, CRM_URL: "crm.example.com" }],
    ["a variable that is not set", INBOUND_CONFIG, { ...INBOUND_ENV, CRM_PASSWORD: undefined as never }],
  ];
  for (const [name, text, env] of cases) {
    it(`answers as the servers' loader: ${name}`, () => {
      const defined = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined));
      const embedded = embedConfig(text, FILE, [basic(), headers()]);
      expect(onEdge(embedded, defined)).toEqual(onServer(text, defined));
    });
  }

  it("reports a secret that breaks its field's rule at its line, without showing it", () => {
    const embedded = embedConfig(INBOUND_CONFIG, FILE, []);
    const r = onEdge(embedded, { ...INBOUND_ENV, SIGNING_SECRET: "s3cret-not-whsec" });
    expect(r.issues).toHaveLength(1);
    expect(r.issues![0]).toMatch(/^\d+:\d+ inbound\.endpoints\.signed\.auth\.secrets\.0: /);
    expect(r.issues![0]).not.toContain("s3cret-not-whsec");
    expect(r.issues![0]!.startsWith("1:1")).toBe(false);
  });

  it("keeps secrets out of what the build embeds", () => {
    const embedded = JSON.stringify(embedConfig(RICH, FILE, [basic(), headers()]));
    const { CRM_URL: _url, ...secrets } = RICH_ENV;
    for (const secret of Object.values(secrets)) expect(embedded).not.toContain(secret);
    expect(embedded).toContain(`\${SIGNING_SECRET}`);
  });
});

describe("the edge build's check of the config", () => {
  it("stops the build at the first problem of the file, with its line and column", () => {
    const broken = `${INBOUND_CONFIG}    extra:\n      kind: activity-status\n      auth: { kind: apiKey, keys: [] }\n`;
    let error: unknown;
    try {
      embedConfig(broken, FILE, []);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(
      /^hookline\.yaml:\d+:\d+ inbound\.endpoints\.extra\.auth\.keys: /,
    );
  });

  it("leaves the variables to the worker: none of them is an issue at build time", () => {
    expect(() => embedConfig(RICH, FILE, [basic(), headers()])).not.toThrow();
  });

  it("answers as the servers' loader for configs that do not load (paths and messages)", () => {
    const broken = [
      "inbound: { endpoints: { a: { kind: activity-status, auth: { kind: apiKey } } } }",
      "inbound: { endpoints: { a: { kind: nope, auth: { kind: none } } } }",
      "inbound: { endpoints: { a: { kind: activity-status, auth: { kind: none }, bodyLimit: 2gb, ipAllowlist: [300.1.1.1] } } }",
      "inbound: { endpoints: { a: { kind: profile-update, auth: { kind: none }, identifier: {}, mappings: [{ from: '$[', to: __proto__ }] } } }",
      "engine: { concurrency: 0, retry: { delays: [] }, timeout: soon }\nwebhooks: { w: { url: '', method: GET, batch: { size: 0 } } }",
      "webhooks: { w: { url: x, integration: missing, next: nobody } }\ntriggers: [{ webhooks: [w] }, { kind: profile-change, webhooks: [w], properties: [1] }]",
      "unknown: 1\nversion: 2\npolicies: { p: { concurrency: -1 } }",
    ];
    for (const text of broken) {
      const data = parseDocument(text).toJS();
      const embedded: EmbeddedConfig = { file: FILE, data, positions: {} };
      // Without positions (nothing here reads a variable) the edge's issues are in the order found.
      const withoutPlaces = (r: { issues?: string[] }) =>
        r.issues?.map((i) => i.replace(/^\d+:\d+ /, "")).sort();
      const server = onServer(text, {});
      expect(server.issues?.length).toBeGreaterThan(0);
      expect(withoutPlaces(onEdge(embedded, {}))).toEqual(withoutPlaces(server));
    }
  });
});

describe("the edge's check of activity bodies", () => {
  const bodies: unknown[] = [
    JSON.parse(ESPUTNIK_EXAMPLE),
    { activityStatus: "READ", activityDateTime: "2026-01-01T10:00:00", contactId: 1, extra: { kept: true } },
    [],
    [{ activityStatus: "OPENED", activityDateTime: "yesterday", contactId: "7", email: 3, hardBounce: "no" }],
    [
      {
        activityStatus: "READ",
        activityDateTime: "2026-01-01 10:00",
        broadcastId: 1.5,
        statusData: { x: 1 },
      },
    ],
    Array.from({ length: 4 }, () => ({ activityStatus: "SPAM", activityDateTime: "2026-01-01T10:00:00Z" })),
    "not an activity",
    null,
  ];
  it("validates every body with the same answer as the servers (data, or issues naming the field)", () => {
    for (const body of bodies) {
      const view = (r: ReturnType<typeof parseActivities>) =>
        r.success
          ? { data: r.data }
          : { issues: r.error.issues.map((i) => ({ path: i.path, code: i.code, message: i.message })) };
      expect(view(edge.parseActivities(body, 3))).toEqual(view(parseActivities(body, 3)));
    }
  });
});

describe("the edge without JWT verification (no endpoint of its config verifies JWTs)", () => {
  it("refuses to make a JWKS endpoint, saying how to build one that can, and serves the other kinds", () => {
    const jwks = { kind: "bearer", jwks: { keys: [{ kty: "oct", k: "AAAA" }] }, issuer: "i", audience: "a" };
    let error: unknown;
    try {
      edge.authenticator({ ...jwks, clockTolerance: 5_000 } as never);
    } catch (e) {
      error = e;
    }
    expect((error as { code?: string }).code).toBe("HOOKLINE_EDGE_NO_JWT");
    expect((error as Error).message).toContain("--jwt");
    expect(edge.authenticator({ kind: "bearer", tokens: ["t"], clockTolerance: 5_000 })).toBeDefined();
  });
});
