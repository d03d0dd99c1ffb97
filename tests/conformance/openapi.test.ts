import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { ServerHandle } from "../../core/contracts/runtime.ts";
import { eta } from "../../plugins/eta/index.ts";
import { inbound } from "../../plugins/inbound/index.ts";
import { type ConformanceApp, conformanceApp } from "./support/app.ts";
import { RUNTIME, runtimeServe } from "./support/runtime.ts";

// The OpenAPI document and the reference page, served by the runtime's own HTTP server: the
// document is generated there (hono-openapi with zod's JSON Schema), and the page's assets are read
// from node_modules by that runtime.
const config = `
inbound:
  endpoints:
    esputnik: { kind: activity-status, auth: { kind: none } }
`;

describe(`OpenAPI document and reference page (${RUNTIME})`, () => {
  let app: ConformanceApp;
  let server: ServerHandle;
  let base = "";

  beforeAll(async () => {
    app = await conformanceApp(config, [eta(), inbound()]);
    const serve = await runtimeServe();
    server = await serve(app.http.fetch, { host: "127.0.0.1", port: 0 });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server?.close();
    await app.dispose();
  });

  it("serves an OpenAPI 3.1 document naming the core's and the plugins' routes", async () => {
    const r = await fetch(`${base}/openapi.json`);
    expect(r.status).toBe(200);
    const doc = (await r.json()) as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/events",
        "/v1/deliveries/{id}",
        "/v1/inbound/{name}",
        "/in/{path}",
        "/healthz",
        "/readyz",
      ]),
    );
    // Readiness documents its failure too: the 503 a load balancer acts on.
    expect(Object.keys((doc.paths["/readyz"]!.get as { responses: object }).responses)).toEqual(
      expect.arrayContaining(["200", "503"]),
    );
    expect(JSON.stringify(doc.paths["/v1/events"])).toContain("HOOKLINE_HTTP_UNAUTHORIZED");
  });

  it("serves the reference page and every asset it loads from this server", async () => {
    const page = await fetch(`${base}/docs`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => new URL(m[1]!, `${base}/docs`));
    expect(assets.length).toBeGreaterThanOrEqual(3);
    for (const url of assets) {
      expect(url.origin).toBe(base);
      const r = await fetch(url);
      expect(r.status).toBe(200);
      expect((await r.arrayBuffer()).byteLength).toBeGreaterThan(20);
    }
  });
});
