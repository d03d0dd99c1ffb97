import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { ServerHandle } from "../../core/contracts/runtime.ts";
import { eta } from "../../plugins/eta/index.ts";
import { inbound } from "../../plugins/inbound/index.ts";
import { type ConformanceApp, conformanceApp } from "./support/app.ts";
import { RUNTIME, runtimeServe } from "./support/runtime.ts";

// The runtime's own HTTP server (what `hookline serve` listens with) serving the app over TCP, and
// handing it the peer's address: an IP allowlist judges the real socket, on every runtime.
const config = `
inbound:
  endpoints:
    local: { kind: activity-status, auth: { kind: none }, ipAllowlist: ["127.0.0.1/32", "::1/128"] }
    far: { kind: activity-status, auth: { kind: none }, ipAllowlist: ["203.0.113.0/24"] }
`;
const activity = JSON.stringify([
  { contactId: 1, activityStatus: "READ", activityDateTime: "2026-01-01T00:00:00", iid: "s-1" },
]);

describe(`serving over HTTP (${RUNTIME})`, () => {
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

  it("listens on the port it reports and answers health", async () => {
    expect(server.port).toBeGreaterThan(0);
    const r = await fetch(`${base}/healthz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ status: "ok" });
  });

  const post = (path: string) =>
    fetch(`${base}/in/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: activity,
    });

  it("hands the inbound IP allowlist the peer's address: loopback admitted where listed", async () => {
    const r = await post("local");
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ success: true, result: { stored: 1 } });
  });

  it("refuses the same peer where it is not listed, naming its address", async () => {
    const r = await post("far");
    expect(r.status).toBe(403);
    const body = (await r.json()) as { errors: Array<{ code: string; description: string }> };
    expect(body.errors[0]!.code).toBe("HOOKLINE_INBOUND_IP");
    expect(body.errors[0]!.description).toMatch(/address (127\.0\.0\.1|::ffff:127\.0\.0\.1) is not in/);
  });

  it("echoes X-Request-Id on a receiver's success, a refusal and health, and makes one when none is sent", async () => {
    const own = await fetch(`${base}/in/local`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "conf-req-1" },
      body: activity,
    });
    expect(own.status).toBe(200);
    expect(own.headers.get("x-request-id")).toBe("conf-req-1");
    const refused = await post("far");
    expect(refused.status).toBe(403);
    expect(refused.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
    const health = await fetch(`${base}/healthz`, { headers: { "x-request-id": "conf-req-2" } });
    expect(health.headers.get("x-request-id")).toBe("conf-req-2");
    // Each request's access line carries its id.
    const access = app.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.message === "http.request");
    expect(access.find((l) => l.requestId === "conf-req-1")).toMatchObject({
      path: "/in/local",
      status: 200,
    });
  });

  it("answers /readyz 503 naming the workers until they claim, then 200; /healthz 200 throughout", async () => {
    const before = await fetch(`${base}/readyz`);
    expect(before.status).toBe(503);
    expect(await before.json()).toMatchObject({ status: "not ready", failed: ["workers"] });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    await app.start();
    const after = await fetch(`${base}/readyz`);
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({
      status: "ready",
      failed: [],
      checks: { store: { status: "ok" }, migrations: { status: "ok" }, workers: { status: "ok" } },
    });
  });

  it("stops listening when closed", async () => {
    await server.close();
    const refused = await fetch(`${base}/healthz`).then(
      () => false,
      () => true,
    );
    expect(refused).toBe(true);
  });
});
