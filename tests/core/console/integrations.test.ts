import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { OAuth2Server } from "oauth2-mock-server";
import type { Page } from "playwright-core";
import type { IntegrationKind } from "../../../core/admin/managed.ts";
import { fieldsOf, readOptions } from "../../../core/console/integration-form.ts";
import { apikey } from "../../../plugins/apikey/index.ts";
import { bearer } from "../../../plugins/bearer/index.ts";
import { mtls } from "../../../plugins/mtls/index.ts";
import { oauth2 } from "../../../plugins/oauth2/index.ts";
import { responsys } from "../../../plugins/responsys/index.ts";
import { signature } from "../../../plugins/signature/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { type ConsoleHarness, PHONE, startConsole } from "../../support/console.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

const PASSWORD = "pa55-w0rd-never-in-a-page";
const EXPECTED = `Basic ${Buffer.from(`crm-user:${PASSWORD}`).toString("base64")}`;
const XSS = "<img src=x onerror=window.pwned=1>";

describe("the console's integrations, in Chromium", () => {
  let h: ConsoleHarness;
  let sink: Sink;
  let idp: OAuth2Server;
  let idpBase = "";
  let viewerToken = "";

  beforeAll(async () => {
    // The CRM answers its ping with 200 for the right credentials; /echo refuses, echoing markup and
    // the Authorization header it got (what the console must show escaped and redacted).
    sink = await startSink((req) =>
      req.url === "/api/ping" && req.headers.authorization === EXPECTED
        ? { status: 200, body: "pong" }
        : { status: 401, body: `${XSS} got ${req.headers.authorization ?? "nothing"}` },
    );
    idp = new OAuth2Server();
    await idp.issuer.keys.generate("RS256");
    await idp.start(0, "127.0.0.1");
    idpBase = `http://127.0.0.1:${idp.address().port}`;
    idp.issuer.url = idpBase;
    h = await startConsole(
      `engine: { allowNetworks: ["127.0.0.1/32"], pollInterval: 20ms }
integrations:
  legacy: { kind: basic, endpointPrefix: "${sink.url}/legacy", username: old, password: "config-secret-value" }
webhooks:
  legacy-sync: { url: "${sink.url}/legacy/sync", integration: legacy }
`,
      {
        plugins: [oauth2()],
        env: { HOOKLINE_SECRET_KEY: Buffer.alloc(32, 7).toString("base64") },
      },
    );
    viewerToken = (await h.app.store.createToken("integrations-viewer", "viewer")).secret;
  });
  afterAll(async () => {
    await h?.close();
    await idp?.stop();
    await sink?.close();
  });

  const html = (page: Page) => page.content();

  it("creates a basic integration through its form: the password shown as set, never its value", async () => {
    const { context, page, violations } = await h.signedIn();
    await page.goto(`${h.base}/console/integrations`);
    expect(await page.locator("tr[data-integration=legacy] td").nth(3).textContent()).toBe("config file");
    await page.click("text=New integration");
    await page.selectOption("select[name=kind]", "basic");
    await page.click("button:text('Continue')");
    await page.fill("input[name=name]", "crm");
    await page.fill("input[name=endpointPrefix]", `${sink.url}/api`);
    await page.fill("input[name='test.path']", "/api/ping");
    await page.fill("input[name='o.username']", "crm-user");
    await page.fill("input[name='o.password']", PASSWORD);
    await h.shot(page, "integrations-create");
    await page.click("button:text('Create')");
    await page.waitForURL(`${h.base}/console/integrations/crm?saved=1`);
    expect(await page.locator("[data-secret=password]").first().textContent()).toBe("set");
    expect(await page.locator("input[name='o.password']").getAttribute("value")).toBeNull();
    expect(await page.locator("input[name='o.username']").inputValue()).toBe("crm-user");
    expect(await html(page)).not.toContain(PASSWORD);
    const stored = (await (await h.api("GET", "/v1/integrations/crm")).json()) as Record<string, unknown>;
    expect(stored).toMatchObject({ kind: "basic", source: "api", secrets: { password: "set" } });
    expect(violations).toEqual([]);
    await context.close();
  });

  it("keeps the password when an edit leaves it blank, and shows the test request's result", async () => {
    const { context, page } = await h.signedIn();
    await page.goto(`${h.base}/console/integrations/crm`);
    await page.fill("input[name='o.username']", "crm-user");
    await page.click("button:text('Save')");
    await page.waitForURL(`${h.base}/console/integrations/crm?saved=1`);
    await page.click("button:text('Send test request')");
    await page.locator("[data-outcome]").waitFor();
    expect(await page.locator("[data-outcome]").getAttribute("data-outcome")).toBe("ok");
    expect(await page.locator("#test-result").textContent()).toContain("HTTP 200");
    expect(sink.requests.at(-1)?.headers.authorization).toBe(EXPECTED);
    await h.shot(page, "integrations-test-result");

    // A moved endpoint prefix without the password again is refused on the form, naming it.
    await page.fill("input[name=endpointPrefix]", `${sink.url}/other`);
    await page.click("button:text('Save')");
    expect(await page.locator("[data-part=form-error]").textContent()).toContain(
      "changing endpointPrefix requires the secrets again: password",
    );

    // A refusal that echoes markup and the credentials shows both inert and redacted.
    await page.goto(`${h.base}/console/integrations/crm`);
    await page.fill("input[name='test.path']", "/api/echo");
    await page.click("button:text('Save')");
    await page.waitForURL(`${h.base}/console/integrations/crm?saved=1`);
    await page.click("button:text('Send test request')");
    await page.locator("[data-outcome=failed]").waitFor();
    const shown = (await page.locator("[data-part=response]").textContent()) ?? "";
    expect(shown).toContain("HTTP 401");
    expect(shown).toContain(XSS);
    expect(shown).not.toContain(EXPECTED.slice(6));
    expect(await html(page)).not.toContain(PASSWORD);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    await context.close();
  });

  it("authorizes an OAuth authorization-code integration at a real OAuth server and comes back authorized", async () => {
    const put = await h.api("PUT", "/v1/integrations/idp", {
      kind: "oauth2",
      endpointPrefix: `${idpBase}/api`,
      grantType: "authorization_code",
      authorizationEndpoint: `${idpBase}/authorize`,
      tokenEndpoint: `${idpBase}/token`,
      redirectUri: `${h.base}/oauth/callback/idp`,
      clientId: "hookline",
      clientSecret: "idp-client-secret",
      clientAuthentication: "body",
    });
    expect(put.status).toBe(200);
    const { context, page } = await h.signedIn();
    await page.goto(`${h.base}/console/integrations`);
    expect(await page.locator("tr[data-integration=idp] [data-state]").getAttribute("data-state")).toBe(
      "unauthorized",
    );
    await page.goto(`${h.base}/console/integrations/idp`);
    const visited: string[] = [];
    page.on("request", (r) => {
      if (r.isNavigationRequest()) visited.push(r.url());
    });
    await page.click("button:text('Authorize')");
    // Through the authorization server and the callback, back to this page.
    await eventually(
      () =>
        visited.some((u) => u.startsWith(`${h.base}/oauth/callback/idp?code=`)) &&
        visited.at(-1) === `${h.base}/console/integrations/idp`,
      15_000,
      "the way back from the authorization server",
    );
    expect(visited.some((u) => u.startsWith(`${idpBase}/authorize?`))).toBe(true);
    await page.waitForLoadState();
    expect(await page.locator("#h-summary + dl [data-state]").getAttribute("data-state")).toBe("authorized");
    expect(await html(page)).not.toContain("idp-client-secret");
    await h.shot(page, "integrations-oauth-authorized");
    await page.goto(`${h.base}/console/integrations`);
    await h.shot(page, "integrations-list");
    await context.close();
  });

  it("follows the callback's return cookie only to a console path (no open redirect)", async () => {
    const callback = (cookie: string) =>
      h.app.fetch(
        new Request("http://hookline.test/oauth/callback/idp?code=x&state=forged", {
          headers: { cookie: `hookline_authorize_return=${encodeURIComponent(cookie)}` },
        }),
      );
    for (const foreign of ["https://evil.example/x", "//evil.example", "/console/../evil", "/consolex"]) {
      const r = await callback(foreign);
      expect(r.status).toBe(400);
      expect(r.headers.get("content-type")).not.toContain("text/html");
      expect(await r.text()).not.toContain("evil");
    }
    const back = await callback("/console/integrations/idp");
    expect(back.status).toBe(400);
    const page = await back.text();
    expect(page).toContain('href="/console/integrations/idp"');
    expect(page).toContain("failed");
    expect(page).not.toContain("http-equiv");
  });

  it("shows a config-file integration read-only, and refuses to delete one that webhooks use", async () => {
    const { context, page } = await h.signedIn(undefined, PHONE);
    await page.goto(`${h.base}/console/integrations/legacy`);
    expect(await page.locator("[data-part=read-only]").textContent()).toContain("config file");
    expect(await page.locator("button:text('Save')").count()).toBe(0);
    expect(await page.locator("[data-secret=password]").textContent()).toBe("set");
    expect(await html(page)).not.toContain("config-secret-value");
    await h.shot(page, "integrations-config-phone");

    expect(
      (await h.api("PUT", "/v1/webhooks/crm-sync", { url: `${sink.url}/api/sync`, integration: "crm" }))
        .status,
    ).toBe(200);
    await page.goto(`${h.base}/console/integrations/crm/delete`);
    await page.click("button:text('Delete')");
    expect(await page.locator(".notice.error").textContent()).toContain("used by webhooks: crm-sync");
    expect((await h.api("GET", "/v1/integrations/crm")).status).toBe(200);
    await context.close();
  });

  it("lets an editor save and test but not enter secrets: its secret inputs are disabled", async () => {
    const editor = (await h.app.store.createToken("integrations-editor", "editor")).secret;
    const { context, page } = await h.signedIn(editor);
    await page.goto(`${h.base}/console/integrations/crm`);
    expect(await page.locator("input[name='o.password']").isDisabled()).toBe(true);
    expect(await page.locator("button:text('Send test request')").count()).toBe(1);
    expect(await page.locator("button:text('Authorize')").count()).toBe(0);
    await page.fill("input[name='test.path']", "/api/ping");
    await page.click("button:text('Save')");
    await page.waitForURL(`${h.base}/console/integrations/crm?saved=1`);
    // A password posted anyway is refused, as PUT /v1/integrations/:name refuses an editor's secret.
    const status = await page.evaluate(async (prefix) => {
      const csrf = (document.querySelector("input[name=_csrf]") as HTMLInputElement).value;
      const body = new URLSearchParams({ _csrf: csrf, kind: "basic", endpointPrefix: prefix });
      body.set("o.username", "crm-user");
      body.set("o.password", "editor-chosen");
      return (await fetch("/console/integrations/crm", { method: "POST", body })).status;
    }, `${sink.url}/api`);
    expect(status).toBe(403);
    await page.click("button:text('Send test request')");
    await page.locator("[data-outcome=ok]").waitFor();
    await context.close();
  });

  it("shows a viewer no edit, test or authorize buttons, and refuses an edit it posts anyway", async () => {
    const { context, page } = await h.signedIn(viewerToken);
    await page.goto(`${h.base}/console/integrations`);
    expect(await page.locator("text=New integration").count()).toBe(0);
    await page.goto(`${h.base}/console/integrations/crm`);
    for (const text of ["Save", "Send test request", "Authorize"])
      expect(await page.locator(`button:text('${text}')`).count()).toBe(0);
    expect(await page.locator("input[name='o.password']").count()).toBe(0);
    const status = await page.evaluate(async (prefix) => {
      const csrf = (document.querySelector("input[name=_csrf]") as HTMLInputElement).value;
      const body = new URLSearchParams({ _csrf: csrf, kind: "basic", endpointPrefix: prefix });
      body.set("o.username", "taken-over");
      return (await fetch("/console/integrations/crm", { method: "POST", body })).status;
    }, `${sink.url}/api`);
    expect(status).toBe(403);
    const after = (await (await h.api("GET", "/v1/integrations/crm")).json()) as {
      options: { username: string };
    };
    expect(after.options.username).toBe("crm-user");
    await context.close();
  });
});

describe("integration forms made from each kind's schema", () => {
  let app: Awaited<ReturnType<typeof testApp>>;
  let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
  let kinds: IntegrationKind[] = [];
  const put = async (name: string, body: unknown) =>
    (
      await app.fetch(
        new Request(`http://hookline.test/v1/integrations/${name}`, {
          method: "PUT",
          body: JSON.stringify(body),
        }),
      )
    ).status;
  const read = (kind: string, form: Record<string, string>) =>
    readOptions(fieldsOf(kinds.find((k) => k.kind === kind)!), form);

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    app = await testApp("engine: { pollInterval: 20ms }\n", driver, {
      plugins: [oauth2(), apikey(), bearer(), signature(), mtls(), responsys()],
      env: { HOOKLINE_SECRET_KEY: Buffer.alloc(32, 9).toString("base64") },
    });
    await app.start();
    const r = await app.fetch(new Request("http://hookline.test/v1/integration-kinds"));
    expect(r.status).toBe(200);
    kinds = ((await r.json()) as { kinds: IntegrationKind[] }).kinds;
  });
  afterAll(async () => {
    await app?.stop(0);
    await driver?.dispose();
  });

  it("lists every registered kind with its options as JSON Schema and its secret fields", () => {
    expect(kinds.map((k) => k.kind)).toEqual([
      "apikey",
      "basic",
      "bearer",
      "headers",
      "mtls",
      "oauth2",
      "responsys",
      "signature",
    ]);
    const basic = kinds.find((k) => k.kind === "basic")!;
    expect(basic.secretFields).toEqual(["password"]);
    expect(Object.keys((basic.options as { properties: object }).properties)).toEqual([
      "username",
      "password",
    ]);
    const controls = Object.fromEntries(
      kinds.map((k) => [k.kind, fieldsOf(k).map((f) => `${f.key}:${f.control}${f.secret ? "*" : ""}`)]),
    );
    expect(controls.headers).toEqual(["headers:rows*"]);
    expect(controls.signature).toEqual(["secrets:secret-list*"]);
    expect(controls.mtls).toEqual(["certificate:union", "privateKey:union*", "ca:union"]);
    expect(controls.oauth2).toContain("extraFields:rows");
    expect(controls.oauth2).toContain("clientSecret:password*");
    expect(controls.responsys).toContain("tokenLifetime:union");
  });

  it("reads rows, lists and text-or-JSON fields into the options each provider takes", async () => {
    const headers = read("headers", {
      "o.headers.0.name": "X-Key",
      "o.headers.0.value": "k-123",
      "o.headers.0.secret": "on",
      "o.headers.1.name": "X-Tenant",
      "o.headers.1.value": "acme",
      "o.headers.2.name": "",
      "o.headers.2.value": "",
      "o.headers.2.secret": "on",
    });
    expect(headers).toEqual({
      options: {
        headers: [
          { name: "X-Key", value: "k-123", secret: true },
          { name: "X-Tenant", value: "acme", secret: false },
        ],
      },
      issues: [],
    });
    expect(
      await put("h", { kind: "headers", endpointPrefix: "https://h.example.com", ...headers.options }),
    ).toBe(200);
    // Every row blank: the stored headers are kept (a secret list is write-only).
    expect(read("headers", { "o.headers.0.name": "", "o.headers.0.secret": "on" }).options).toEqual({});

    const [s1, s2] = ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24="];
    const signed = read("signature", { "o.secrets.0": s1, "o.secrets.1": "", "o.secrets.2": s2 });
    expect(signed.options).toEqual({ secrets: [s1, s2] });
    expect(
      await put("s", { kind: "signature", endpointPrefix: "https://s.example.com", ...signed.options }),
    ).toBe(200);

    expect(read("responsys", { "o.tokenLifetime": "90m" }).options).toEqual({ tokenLifetime: "90m" });
    expect(read("responsys", { "o.tokenLifetime": "600" }).options).toEqual({ tokenLifetime: 600 });
    expect(
      read("mtls", {
        "o.certificate": "-----BEGIN CERTIFICATE-----\r\nMII\r\n-----END CERTIFICATE-----",
        "o.privateKey": '{"file": "/etc/hookline/key.pem"}',
        "o.ca": "",
      }).options,
    ).toEqual({
      certificate: "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----",
      privateKey: { file: "/etc/hookline/key.pem" },
    });
    const oauth = read("oauth2", {
      "o.grantType": "",
      "o.tokenEndpoint": "https://auth.example.com/token",
      "o.clientId": "hookline",
      "o.clientSecret": "",
      "o.extraFields.0.name": "audience",
      "o.extraFields.0.value": "crm",
      "o.extraFields.0.in": "",
      "o.extraFields.1.name": "",
      "o.extraFields.1.value": "",
      "o.allowedDomains": "https://api.example.com\r\n\r\nhttps://eu.example.com",
    });
    expect(oauth).toEqual({
      options: {
        tokenEndpoint: "https://auth.example.com/token",
        clientId: "hookline",
        extraFields: [{ name: "audience", value: "crm" }],
        allowedDomains: ["https://api.example.com", "https://eu.example.com"],
      },
      issues: [],
    });
    expect(read("responsys", { "o.tokenLifetime": "{" }).issues).toEqual([]);
    expect(read("mtls", { "o.certificate": "{not json" }).issues).toEqual([
      { path: "certificate", message: "starts with { but is not JSON" },
    ]);
  });
});
