import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Page } from "playwright-core";
import { inbound } from "../../../plugins/inbound/index.ts";
import { mustache } from "../../../plugins/mustache/index.ts";
import { eventually } from "../../support/app.ts";
import { type ConsoleHarness, PHONE, startConsole } from "../../support/console.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

const XSS = "<script>window.pwned=1</script>";

describe("the console's webhooks, in Chromium", () => {
  let sink: Sink;
  let h: ConsoleHarness;
  let yaml = "";
  let page: Page;
  const webhooks = () => `${h.base}/console/webhooks`;
  const signup = async (id: string) => {
    const r = await h.api("POST", "/v1/events", {
      type: "signup",
      customer: { id, email: `${id}@example.com` },
    });
    expect(r.status).toBe(202);
    const body = (await r.json()) as { events: Array<{ deliveries: Array<{ webhook: string }> }> };
    return body.events[0]!.deliveries.map((d) => d.webhook).sort();
  };

  beforeAll(async () => {
    // The destination answers with markup in a header and its body: the console shows it as text.
    sink = await startSink((req) =>
      req.url === "/made"
        ? { status: 201, headers: { "x-reply": '"><img src=x id=injected>' }, body: `${XSS}{"ok":true}` }
        : { status: 200 },
    );
    yaml = `engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
webhooks:
  from-file:
    engine: mustache
    url: ${sink.url}/file
triggers: [{ kind: event, events: [signup], webhooks: [from-file] }]
`;
    // The inbound plugin keeps profiles: the test panel offers a stored one.
    h = await startConsole(yaml, { plugins: [mustache(), inbound()] });
    await h.driver.query(
      `INSERT INTO hookline_profiles (id, properties) VALUES ('prof_ada', '{"email": "ada@example.com"}')`,
    );
    await h.driver.query(
      "INSERT INTO hookline_profile_identifiers (property, value, profile_id) VALUES ('email', 'ada@example.com', 'prof_ada')",
    );
    page = (await h.signedIn()).page;
  });
  afterAll(async () => {
    await h.close();
    await sink.close();
  });

  it("creates a webhook through the form and flags its unused parameter", async () => {
    await page.goto(webhooks());
    const row = page.locator("tr[data-webhook=from-file]");
    expect(await row.locator("[data-source]").textContent()).toBe("test.yaml:3");
    expect(await row.locator("[data-state]").textContent()).toBe("active");
    await h.shot(page, "webhooks-list");

    await page.click("text=New webhook");
    await page.fill("#f-name", "made");
    await page.fill("#f-url", `${sink.url}/made`);
    await page.selectOption("#f-engine", "mustache");
    await page.fill("#f-events", "signup");
    await page.fill("#f-headers", "X-List: {{params.list}}");
    await page.fill("#f-body", '{"email": "{{customer.email}}", "list": "{{params.list}}"}');
    await page.click("button:has-text('Create')");
    await page.waitForURL(`${webhooks()}/made?tab=parameters`);

    await page.fill("#f-params", '{"list": "main", "old": 1}');
    await page.click("button:has-text('Save')");
    await page.waitForURL(`${webhooks()}/made?tab=parameters`);
    expect(await page.locator("tr[data-parameter=old] [data-unused]").count()).toBe(1);
    expect(await page.locator("tr[data-parameter=list] [data-unused]").count()).toBe(0);
    expect(await page.locator("tr[data-parameter=list]").textContent()).toContain("headers.X-List");
    await h.shot(page, "webhooks-parameters");

    // An invalid save is refused next to the field it names, the form keeping what was typed.
    await page.goto(`${webhooks()}/made?tab=settings`);
    await page.fill("[name='batch.size']", "5000");
    await page.fill("[name='batch.item']", "{}");
    await page.click("button:has-text('Save')");
    // The click returns once the answer starts loading: the field's error is counted once it has loaded.
    await page.waitForLoadState();
    expect(await page.locator("[data-field-error='batch.size']").count()).toBe(1);
    await page.goto(`${webhooks()}/made`);
    expect(await page.inputValue("#f-url")).toBe(`${sink.url}/made`);
    await h.shot(page, "webhooks-edit");
  });

  it("previews the test request, then sends it and shows the response as text", async () => {
    await page.goto(`${webhooks()}/made?tab=test`);
    await page.click("button[value=preview]");
    expect(await page.getAttribute("#test-result", "data-sent")).toBe("false");
    expect(await page.textContent("[data-part=request-line]")).toBe(`POST ${sink.url}/made`);
    expect(await page.textContent("[data-part=request-body]")).toContain('"email": "customer@example.com"');
    expect(sink.requests.filter((r) => r.url === "/made")).toHaveLength(0);

    await page.click("button[value=send]");
    expect(await page.getAttribute("#test-result", "data-sent")).toBe("true");
    expect(await page.textContent("[data-part=response-status]")).toBe("HTTP 201");
    expect(await page.textContent("[data-part=response-body]")).toContain(XSS);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator("#injected").count()).toBe(0);
    expect(sink.requests.filter((r) => r.url === "/made")).toHaveLength(1);
    await h.shot(page, "webhooks-test");

    // A stored profile, found by its email, is the customer.
    await page.selectOption("#test-source", "profile");
    await page.fill("#test-profile", "ada@example.com");
    await page.click("button[value=preview]");
    expect(await page.textContent("[data-part=request-body]")).toContain('"email": "ada@example.com"');
    await page.fill("#test-profile", "nobody@example.com");
    await page.click("button[value=preview]");
    expect(await page.textContent("[role=alert]")).toContain('no stored profile "nobody@example.com"');
  });

  it("copies, disables (an event then makes no delivery), enables and fires a webhook by hand", async () => {
    await page.goto(`${webhooks()}/made`);
    await page.fill("input[name=copy]", "made-copy");
    await page.click("button:has-text('Copy')");
    await page.waitForURL(`${webhooks()}/made-copy`);
    expect(await page.textContent("[data-part=source]")).toContain("admin API");
    expect(await page.inputValue("#f-body")).toContain("{{params.list}}");

    await page.goto(`${webhooks()}/made`);
    await page.click("button:has-text('Disable')");
    await page.waitForURL(/\/made\?notice=/);
    expect(await page.textContent("h1 [data-state]")).toBe("disabled");
    expect(await signup("c1")).toEqual(["from-file"]);

    await page.goto(webhooks());
    await page.click("tr[data-webhook=made] button:has-text('Enable')");
    await page.waitForURL(/\/webhooks\?notice=/);
    expect(await page.textContent("tr[data-webhook=made] [data-state]")).toBe("active");
    expect(await signup("c2")).toEqual(["from-file", "made"]);
    await eventually(() => sink.requests.filter((r) => r.url === "/made").length === 2, 10_000, "sent");

    // A past event: the delivery c2's signup made, its customer in the request.
    await page.goto(`${webhooks()}/made?tab=test`);
    await page.selectOption("#test-source", "delivery");
    await page.click("button[value=preview]");
    expect(await page.textContent("[data-part=request-body]")).toContain('"email": "c2@example.com"');

    // Fired by hand for a stored profile: one delivery, whose page opens.
    await page.goto(`${webhooks()}/made`);
    await page.fill("input[name=customer]", "ada@example.com");
    await page.click("button:has-text('Fire')");
    await page.waitForURL(/\/console\/deliveries\/[0-9a-f-]{36}$/);
    await eventually(
      () => sink.requests.some((r) => r.url === "/made" && r.body.includes("ada@example.com")),
      10_000,
      "fired",
    );
  });

  it("shows a config-file webhook read-only with its file and line, resumes it when paused, on a phone too", async () => {
    await page.goto(`${webhooks()}/from-file`);
    expect(await page.textContent("[data-part=source]")).toContain("test.yaml:3");
    expect(await page.locator("#f-url").isDisabled()).toBe(true);
    expect(await page.locator("button:has-text('Save')").count()).toBe(0);
    expect(await page.locator("a:has-text('Delete')").count()).toBe(0);

    // Paused as continuous failure pauses it: the list offers Resume.
    await h.driver.query(
      "INSERT INTO hookline_webhook_health (webhook, paused_at, reason) VALUES ('from-file', now(), 'paused: failing')",
    );
    await page.goto(webhooks());
    expect(await page.textContent("tr[data-webhook=from-file] [data-state]")).toBe("paused");
    await page.click("tr[data-webhook=from-file] button:has-text('Resume')");
    await page.waitForURL(/\/webhooks\?notice=/);
    expect(await page.textContent("tr[data-webhook=from-file] [data-state]")).toBe("active");

    const { page: phone, context } = await h.signedIn(undefined, PHONE);
    await phone.goto(`${webhooks()}/from-file`);
    // Nothing wider than the screen: the page does not scroll sideways.
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await h.shot(phone, "webhooks-phone");
    await context.close();
  });

  it("shows a viewer no edit button, and refuses an edit a viewer posts", async () => {
    const viewer = (await h.app.store.createToken("console-viewer", "viewer")).secret;
    const { page: seen, context } = await h.signedIn(viewer);
    await seen.goto(webhooks());
    expect(await seen.locator("text=New webhook").count()).toBe(0);
    await seen.goto(`${webhooks()}/made`);
    expect(await seen.locator("button:has-text('Save')").count()).toBe(0);
    expect(await seen.locator("button:has-text('Copy'), button:has-text('Disable')").count()).toBe(0);
    const status = await seen.evaluate(async (url) => {
      const csrf = (document.querySelector("input[name=_csrf]") as HTMLInputElement).value;
      const body = new URLSearchParams({ _csrf: csrf, _tab: "definition", url: "https://evil.example.com" });
      return (await fetch(url, { method: "POST", body })).status;
    }, `${webhooks()}/made/save`);
    expect(status).toBe(403);
    expect(
      await seen.evaluate(async (url) => {
        const csrf = (document.querySelector("input[name=_csrf]") as HTMLInputElement).value;
        return (await fetch(url, { method: "POST", body: new URLSearchParams({ _csrf: csrf }) })).status;
      }, `${webhooks()}/made/disable`),
    ).toBe(403);
    await context.close();
  });

  it("deletes a webhook after asking to confirm", async () => {
    for (const name of ["made-copy", "made"]) {
      await page.goto(`${webhooks()}/${name}`);
      await page.click("a:has-text('Delete')");
      await page.click(`button:has-text('Delete ${name}')`);
      await page.waitForURL(/\/webhooks\?notice=/);
      expect(await page.locator(`tr[data-webhook="${name}"]`).count()).toBe(0);
    }
    expect((await h.api("GET", "/v1/webhooks/made")).status).toBe(404);
  });
});
