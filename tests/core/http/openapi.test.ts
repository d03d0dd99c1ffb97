import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import type { Plugin } from "../../../core/contracts/plugin.ts";
import { Tokens } from "../../../core/tokens.ts";
import { activityCallbacks } from "../../../plugins/activity-callbacks/index.ts";
import { inbound } from "../../../plugins/inbound/index.ts";
import { oauth2 } from "../../../plugins/oauth2/index.ts";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type OpenApiDoc, undocumented } from "../../support/openapi.ts";
import { type ServedApp, serveApp } from "../../support/serve-app.ts";

const TOKEN = "admin-token-for-openapi-tests-0123456789";

const yaml = `
engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
webhooks:
  contact:
    url: http://127.0.0.1:9/api/contacts
    body: '{"email": <%= json(it.customer.email) %>}'
inbound:
  endpoints:
    esputnik: { kind: activity-status, auth: { kind: apiKey, keys: ["k-0123456789"] } }
`;

/** A plugin whose route carries no documentation: the walk must name it. */
const undocumentedRoute: Plugin = {
  name: "undocumented",
  register(c) {
    c.register(Tokens.HttpRoutes, {
      useValue: {
        name: "undocumented",
        mount: (http) => void http.get("/v1/secret-sauce", (c) => c.text("x")),
      },
    });
  },
};

const plugins = () => [inbound(), activityCallbacks(), oauth2()];

describe("OpenAPI document", () => {
  let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
  let app: Awaited<ReturnType<typeof testApp>>;
  let served: ServedApp;
  let doc: OpenApiDoc;

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    app = await testApp(yaml, driver, { adminToken: TOKEN, plugins: plugins() });
    served = await serveApp(app);
    const r = await fetch(`${served.url}/openapi.json`);
    expect(r.status).toBe(200);
    doc = (await r.json()) as OpenApiDoc;
  });
  afterAll(async () => {
    await served?.close();
    await app?.stop(0);
    await driver?.dispose();
  });

  it("is OpenAPI 3.1, served without the admin token", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths).length).toBeGreaterThan(25);
  });

  it("names every route the app mounts (method and path), plugins' included", () => {
    expect(undocumented(app.http.routes, doc)).toEqual([]);
    for (const [path, method] of [
      ["/v1/events", "post"],
      ["/v1/deliveries/{id}/retry", "post"],
      ["/v1/inbound/{name}", "put"],
      ["/v1/subscribers/{name}", "put"],
      ["/in/{path}", "post"],
      ["/oauth/callback/{name}", "get"],
      ["/healthz", "get"],
    ] as const)
      expect(doc.paths[path]?.[method]).toBeDefined();
  });

  it("fails the walk for a plugin route without documentation", async () => {
    const d = await storeKinds[0]!.open();
    const other = await testApp(yaml, d, { adminToken: TOKEN, plugins: [...plugins(), undocumentedRoute] });
    try {
      const otherDoc = (await (await other.fetch(new Request("http://x/openapi.json"))).json()) as OpenApiDoc;
      expect(undocumented(other.http.routes, otherDoc)).toEqual(["GET /v1/secret-sauce"]);
    } finally {
      await other.stop(0);
      await d.dispose();
    }
  });

  it("takes request schemas from the validators the routes use", () => {
    const events = doc.paths["/v1/events"]!.post!;
    const body = JSON.stringify(events.requestBody);
    expect(body).toContain('"events"');
    expect(body).toContain('"maxItems":1000');
    const params = doc.paths["/v1/deliveries"]!.get!.parameters!.map((p) => `${p.in}:${p.name}`);
    expect(params).toEqual(
      expect.arrayContaining(["query:webhook", "query:status", "query:since", "query:limit", "query:before"]),
    );
  });

  it("documents error answers with their codes, and the admin token on /v1/*", () => {
    const get = doc.paths["/v1/deliveries/{id}"]!.get! as Record<string, any>;
    expect(get.security).toEqual([{ adminToken: [] }]);
    const codes = (status: string) =>
      get.responses[status].content["application/json"].schema.allOf[1].properties.code.enum;
    expect(codes("404")).toEqual(["HOOKLINE_HTTP_NOT_FOUND"]);
    expect(codes("401")).toEqual(["HOOKLINE_HTTP_UNAUTHORIZED"]);
    expect(codes("503")).toEqual(["HOOKLINE_STORE_UNAVAILABLE"]);
    expect(codes("500")).toEqual(["HOOKLINE_INTERNAL"]);
    const receiver = doc.paths["/in/{path}"]!.post! as Record<string, any>;
    expect(receiver.security).toEqual([]);
    expect(Object.keys(receiver.responses)).toEqual(
      expect.arrayContaining(["200", "400", "401", "403", "404", "413", "415", "500"]),
    );
  });

  it("has schemas a JSON Schema 2020-12 validator compiles", () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    ajv.addSchema({ $id: "openapi", components: doc.components });
    let compiled = 0;
    for (const item of Object.values(doc.paths))
      for (const op of Object.values(item)) {
        const schemas = [
          ...Object.values(op.responses ?? {}).flatMap((r) => Object.values(r.content ?? {})),
          ...Object.values(op.requestBody?.content ?? {}),
        ].flatMap((m) => (m.schema ? [m.schema] : []));
        for (const s of schemas) {
          ajv.compile(JSON.parse(JSON.stringify(s).replaceAll('"#/components/', '"openapi#/components/')));
          compiled++;
        }
      }
    expect(compiled).toBeGreaterThan(100);
  });

  it("serves the reference page at /docs with every asset from this server, none from elsewhere", async () => {
    const page = await fetch(`${served.url}/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\/|\/\/[a-z]/i);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const a of assets) {
      const url = new URL(a, page.url);
      expect(url.origin).toBe(served.url);
      const r = await fetch(url);
      expect(r.status).toBe(200);
      expect(r.headers.get("content-type")).toMatch(/^(text\/(css|javascript)|image\/png)/);
      const text = await r.text();
      expect(text.length).toBeGreaterThan(20);
      if (a.endsWith("start.js")) {
        expect(text).toContain("validatorUrl: null");
        expect(text).toContain('"openapi.json"');
      }
    }
    expect((await fetch(`${served.url}/docs/assets/package.json`)).status).toBe(404);
    expect((await fetch(`${served.url}/docs/assets/..%2Fpackage.json`)).status).toBe(404);
  });
});
