import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Plugin } from "../../../core/contracts/plugin.ts";
import { defineErrorCodes, HooklineError, HttpError } from "../../../core/errors.ts";
import { Tokens } from "../../../core/tokens.ts";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";

const TOKEN = "admin-token_for.answers~tests+0123456789/ab==";

const yaml = `
engine: { pollInterval: 1h, allowNetworks: ["127.0.0.1/32"] }
webhooks:
  contact:
    url: http://127.0.0.1:9/api/contacts
    body: '{"email": <%= json(it.customer.email) %>}'
triggers:
  - { kind: event, events: [signup], webhooks: [contact] }
`;

const Acme = defineErrorCodes({ ACME_QUOTA: { status: 429, summary: "the Acme account is over its quota" } });

/** Plugin routes that throw what handlers throw: a plugin's own code, the managed refusal's shape, a foreign status. */
const throwingRoutes: Plugin = {
  name: "throwing-routes",
  register(c) {
    c.register(Tokens.HttpRoutes, {
      useValue: {
        name: "throwing",
        mount(http) {
          http.get("/v1/throw/quota", () => {
            throw new HttpError(Acme.ACME_QUOTA, "account 7 is over its quota", {
              headers: { "retry-after": "60" },
            });
          });
          http.get("/v1/throw/managed", () => {
            throw Object.assign(new HooklineError("HOOKLINE_MANAGED", "policy p is in use"), {
              status: 409,
              issues: [{ path: "policy", message: "used by contact" }],
            });
          });
          // An error with a `status` of its own making (an upstream's, say) is not an answer to show.
          http.get("/v1/throw/foreign", () => {
            throw Object.assign(new HooklineError("HOOKLINE_OAUTH_INVALID_CLIENT", "upstream said 401"), {
              status: 401,
            });
          });
        },
      },
    });
  },
};

describe("HTTP answers: admin token, validation and the one error mapping", () => {
  let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
  let app: Awaited<ReturnType<typeof testApp>>;
  const call = async (
    method: string,
    path: string,
    init: { body?: string; headers?: Record<string, string> } = {},
  ) => {
    const r = await app.fetch(
      new Request(`http://hookline.test${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", ...init.headers },
        body: init.body,
      }),
    );
    const text = await r.text();
    let json: Record<string, any> | undefined;
    try {
      json = JSON.parse(text);
    } catch {}
    return { status: r.status, headers: r.headers, json };
  };

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    app = await testApp(yaml, driver, { adminToken: TOKEN, plugins: [throwingRoutes] });
  });
  afterAll(async () => {
    await app.stop(0);
    await driver.dispose();
  });

  it("refuses every missing, malformed or wrong admin credential with the one 401 answer", async () => {
    for (const authorization of [
      undefined,
      "",
      "Basic dTpw",
      "Bearer",
      "Bearer ",
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(1)}`,
      "Bearer has space",
      "Bearer tok!en",
      `Token ${TOKEN}`,
    ]) {
      const headers: Record<string, string> = { authorization: authorization ?? "" };
      const a = await call("GET", "/v1/deliveries", { headers });
      expect([authorization, a.status, a.headers.get("www-authenticate")]).toEqual([
        authorization,
        401,
        "Bearer",
      ]);
      expect(a.json).toEqual({
        error: "missing or wrong bearer token (HOOKLINE_ADMIN_TOKEN or an API token)",
        code: "HOOKLINE_HTTP_UNAUTHORIZED",
        requestId: a.headers.get("x-request-id")!,
      });
    }
  });

  it("takes the admin token whatever the scheme's case, and leaves /healthz open", async () => {
    for (const scheme of ["Bearer", "bearer", "BEARER"])
      expect(
        (await call("GET", "/v1/deliveries", { headers: { authorization: `${scheme} ${TOKEN}` } })).status,
      ).toBe(200);
    expect((await call("GET", "/healthz", { headers: { authorization: "" } })).status).toBe(200);
  });

  it("leaves the admin API open when no token is set, and refuses a token a Bearer credential cannot carry", async () => {
    const open = await testApp(yaml, driver);
    try {
      const r = await open.fetch(new Request("http://hookline.test/v1/deliveries"));
      expect(r.status).toBe(200);
    } finally {
      await open.stop(0);
    }
    const refused = await testApp(yaml, driver, { adminToken: "pass word!" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(HooklineError);
    expect((refused as HooklineError).code).toBe("HOOKLINE_ADMIN_TOKEN_INVALID");
  });

  it("validates a JSON body after the body checks, naming the fields that do not fit", async () => {
    const bad = await call("PUT", "/v1/policies/p", { body: '{"concurrency":"two"}' });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ error: "invalid policy", code: "HOOKLINE_HTTP_INVALID" });
    expect(bad.json!.issues.map((i: { path: string }) => i.path)).toEqual(["concurrency"]);
    // The body checks run first: a NUL is the body's problem, not the schema's.
    const nul = await call("PUT", "/v1/policies/p", { body: '{"concurrency":"\\u0000"}' });
    expect([nul.status, nul.json!.code]).toEqual([400, "HOOKLINE_HTTP_BODY"]);
    // A batch is checked as a batch, one event as one event: issues name the fields.
    const batch = await call("POST", "/v1/events", { body: '{"events":[{"type":5}]}' });
    expect([batch.status, batch.json!.error, batch.json!.issues[0].path]).toEqual([
      400,
      "invalid events",
      "events.0.type",
    ]);
    const one = await call("POST", "/v1/events", { body: '{"type":5}' });
    expect([one.status, one.json!.error, one.json!.issues[0].path]).toEqual([400, "invalid event", "type"]);
  });

  it("takes an empty body as {} and a text/plain body as JSON, whatever the validator's own rules", async () => {
    const empty = await call("POST", "/v1/webhooks/contact/test", { body: "" });
    expect(empty.status).toBe(200);
    const plain = await call("PUT", "/v1/policies/p", {
      body: '{"concurrency":2}',
      headers: { "content-type": "text/plain;charset=UTF-8" },
    });
    expect([plain.status, plain.json!.concurrency]).toEqual([200, 2]);
  });

  it("validates the query, refusing a filter given twice", async () => {
    const twice = await call("GET", "/v1/deliveries?status=failed&status=halted");
    expect(twice.status).toBe(400);
    expect(twice.json).toMatchObject({ error: "invalid query", code: "HOOKLINE_HTTP_PARAM" });
    expect(twice.json!.issues[0].path).toBe("status");
    expect((await call("GET", "/v1/deliveries?status=failed&limit=5")).status).toBe(200);
  });

  it("answers a thrown error by what it says of itself, in the one shape", async () => {
    const quota = await call("GET", "/v1/throw/quota");
    expect([quota.status, quota.headers.get("retry-after")]).toEqual([429, "60"]);
    expect(quota.json).toEqual({
      error: "account 7 is over its quota",
      code: "ACME_QUOTA",
      requestId: quota.headers.get("x-request-id")!,
    });
    const managed = await call("GET", "/v1/throw/managed");
    expect(managed.status).toBe(409);
    expect(managed.json).toEqual({
      error: "policy p is in use",
      code: "HOOKLINE_MANAGED",
      issues: [{ path: "policy", message: "used by contact" }],
      requestId: managed.headers.get("x-request-id")!,
    });
    const foreign = await call("GET", "/v1/throw/foreign");
    expect([foreign.status, foreign.json!.error, foreign.json!.code]).toEqual([
      500,
      "internal error",
      "HOOKLINE_INTERNAL",
    ]);
  });
});
