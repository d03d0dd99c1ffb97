import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { ROLES, type Role } from "../../../core/contracts/tokens.ts";
import { rolesFor } from "../../../core/http/roles.ts";
import { activityCallbacks } from "../../../plugins/activity-callbacks/index.ts";
import { inbound } from "../../../plugins/inbound/index.ts";
import { mustache } from "../../../plugins/mustache/index.ts";
import { oauth2 } from "../../../plugins/oauth2/index.ts";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";

const ADMIN = "admin-token-for-tests-0123456789";

const yaml = `
engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
webhooks:
  contact: { url: "http://127.0.0.1:9/contacts", body: "{}" }
triggers: [{ kind: event, events: [signup], webhooks: [contact] }]
`;

describe("API tokens with roles", () => {
  const kind = storeKinds[0]!;
  let driver: Awaited<ReturnType<typeof kind.open>>;
  let app: Awaited<ReturnType<typeof testApp>>;
  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const r = await app.fetch(
      new Request(`http://hookline.test${path}`, {
        method,
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body:
          body === undefined
            ? ["GET", "HEAD", "DELETE"].includes(method)
              ? undefined
              : "{}"
            : JSON.stringify(body),
      }),
    );
    const text = await r.text();
    return { status: r.status, text, json: text ? (JSON.parse(text) as Record<string, any>) : undefined };
  };
  const secrets = {} as Record<Role, string>;

  beforeAll(async () => {
    driver = await kind.open();
    app = await testApp(yaml, driver, {
      adminToken: ADMIN,
      env: { HOOKLINE_SECRET_KEY: Buffer.alloc(32, 7).toString("base64") },
      plugins: [mustache(), inbound(), activityCallbacks({ pollInterval: 20 }), oauth2()],
    });
    await app.start({ workers: false });
    for (const role of ROLES) {
      const created = await call(ADMIN, "POST", "/v1/tokens", { name: `${role} token`, role });
      expect(created.status).toBe(201);
      secrets[role] = created.json!.secret;
    }
  });
  afterAll(async () => {
    await app.stop(100);
    await driver.dispose();
  });

  it("shows a token's secret once and keeps only its hash; a revoked token stops working at once", async () => {
    const created = await call(ADMIN, "POST", "/v1/tokens", { name: "ci", role: "viewer" });
    const { token, secret } = created.json as { token: { id: string; role: string }; secret: string };
    expect(secret).toMatch(/^hl_viewer_[A-Za-z0-9_-]{43}$/);
    expect(token.role).toBe("viewer");
    const listed = await call(ADMIN, "GET", "/v1/tokens");
    expect(listed.json!.tokens.map((t: { id: string }) => t.id)).toContain(token.id);
    expect(listed.text).not.toContain(secret);
    const rows = await driver.query<Record<string, unknown>>("SELECT * FROM hookline_tokens");
    expect(JSON.stringify(rows)).not.toContain(secret);
    expect((await call(secret, "GET", "/v1/deliveries")).status).toBe(200);
    expect((await call(ADMIN, "DELETE", `/v1/tokens/${token.id}`)).status).toBe(204);
    const refused = await call(secret, "GET", "/v1/deliveries");
    expect([refused.status, refused.json!.code]).toEqual([401, "HOOKLINE_HTTP_UNAUTHORIZED"]);
    expect((await call(ADMIN, "DELETE", `/v1/tokens/${token.id}`)).status).toBe(404);
    expect((await call(ADMIN, "POST", "/v1/tokens", { name: "x", role: "root" })).status).toBe(400);
    expect((await call("hl_viewer_not-a-real-token", "GET", "/v1/deliveries")).status).toBe(401);
  });

  it("gives each role what the table in docs/tokens.md says, written out route by route", () => {
    // [method, path, roles that may]: independent of the rules' own syntax.
    const table: Array<[string, string, Role[]]> = [
      ["GET", "/v1/deliveries", ["admin", "editor", "viewer"]],
      ["GET", "/v1/deliveries/{id}", ["admin", "editor", "viewer"]],
      ["GET", "/v1/deliveries/:id/request", ["admin", "editor", "viewer"]],
      ["GET", "/v1/webhooks/{name}", ["admin", "editor", "viewer"]],
      ["GET", "/v1/runs/{id}", ["admin", "editor", "viewer"]],
      ["GET", "/v1/tokens", ["admin"]],
      ["DELETE", "/v1/tokens/{id}", ["admin"]],
      ["POST", "/v1/tokens", ["admin"]],
      ["POST", "/v1/events", ["admin", "publisher"]],
      ["POST", "/v1/activities", ["admin", "publisher"]],
      ["PUT", "/v1/webhooks/{name}", ["admin", "editor"]],
      ["DELETE", "/v1/webhooks/:name", ["admin", "editor"]],
      ["POST", "/v1/webhooks/{name}/test", ["admin", "editor"]],
      ["POST", "/v1/webhooks/{name}/resume", ["admin"]],
      ["PUT", "/v1/integrations/{name}", ["admin", "editor"]],
      ["POST", "/v1/integrations/{name}/test", ["admin", "editor"]],
      ["POST", "/v1/integrations/{name}/authorize", ["admin"]],
      ["DELETE", "/v1/integrations/{name}", ["admin"]],
      ["POST", "/v1/deliveries/{id}/retry", ["admin"]],
      ["POST", "/v1/deliveries/retry", ["admin"]],
      ["POST", "/v1/runs/{id}/cancel", ["admin"]],
      ["PUT", "/v1/policies/{name}", ["admin"]],
      ["POST", "/v1/import", ["admin"]],
    ];
    for (const [method, path, roles] of table)
      expect([method, path, rolesFor(method, path)]).toEqual([method, path, roles]);
  });

  it("lets each role call exactly the routes its rules give it, on every route the app mounts", async () => {
    const routes = app.http.routes.filter((r) => r.path.startsWith("/v1/") && r.method !== "ALL");
    const seen = new Set<string>();
    let checked = 0;
    for (const r of routes) {
      const key = `${r.method} ${r.path}`;
      if (seen.has(key) || r.path.startsWith("/v1/tokens")) continue;
      seen.add(key);
      const path = r.path.replace(/:[^/]+/g, "no-such-thing");
      for (const role of ROLES) {
        const answer = await call(secrets[role], r.method, path);
        const allowed = rolesFor(r.method, r.path).includes(role);
        if (allowed) expect([key, role, answer.status]).not.toEqual([key, role, 403]);
        else
          expect([key, role, answer.status, answer.json?.code]).toEqual([
            key,
            role,
            403,
            "HOOKLINE_HTTP_FORBIDDEN",
          ]);
        expect(answer.status).not.toBe(401);
        checked++;
      }
    }
    // Tokens are for admins only.
    for (const role of ROLES.filter((r) => r !== "admin"))
      expect((await call(secrets[role], "GET", "/v1/tokens")).status).toBe(403);
    expect(checked).toBeGreaterThan(100);
  });

  it("puts every admin route's roles in the OpenAPI document", async () => {
    const doc = (await call(ADMIN, "GET", "/openapi.json")).json as {
      paths: Record<
        string,
        Record<string, { "x-hookline-roles"?: Role[]; responses: Record<string, unknown> }>
      >;
    };
    let n = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!path.startsWith("/v1/")) continue;
      for (const [method, op] of Object.entries(item)) {
        expect([method, path, op["x-hookline-roles"]]).toEqual([method, path, rolesFor(method, path)]);
        if (op["x-hookline-roles"]!.length < ROLES.length) expect(Object.keys(op.responses)).toContain("403");
        n++;
      }
    }
    expect(n).toBeGreaterThan(30);
  });

  it("keeps secrets from editors: they edit webhooks and integrations, but set no secret", async () => {
    const editor = secrets.editor;
    const withSecret = await call(editor, "PUT", "/v1/integrations/crm", {
      kind: "basic",
      endpointPrefix: "http://127.0.0.1:9/",
      username: "u",
      password: "p-very-secret-123",
    });
    expect([withSecret.status, withSecret.json!.code]).toEqual([403, "HOOKLINE_HTTP_FORBIDDEN"]);
    expect(withSecret.json!.error).toContain("(password)");
    expect(withSecret.text).not.toContain("p-very-secret-123");
    const asAdmin = await call(ADMIN, "PUT", "/v1/integrations/crm", {
      kind: "basic",
      endpointPrefix: "http://127.0.0.1:9/",
      username: "u",
      password: "p-very-secret-123",
    });
    expect(asAdmin.status).toBe(200);
    const hook = await call(editor, "PUT", "/v1/webhooks/made-by-editor", {
      url: "http://127.0.0.1:9/x",
      engine: "mustache",
      body: "{}",
    });
    expect(hook.status).toBe(200);
    const published = await call(secrets.publisher, "POST", "/v1/events", { type: "signup" });
    expect(published.status).toBe(202);
    expect((await call(secrets.viewer, "POST", "/v1/events", { type: "signup" })).status).toBe(403);
    expect((await call(secrets.publisher, "GET", "/v1/deliveries")).status).toBe(403);
    // A viewer reads nested routes too.
    expect((await call(secrets.viewer, "GET", "/v1/webhooks/contact")).status).toBe(200);
  });
});
