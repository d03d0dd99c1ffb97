import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { nodeRuntime } from "../../../adapters/node/runtime.ts";
import type { ServerHandle } from "../../../core/contracts/runtime.ts";
import { eventually, testApp } from "../../support/app.ts";
import { launchChromium } from "../../support/browser.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

const TOKEN = "admin-token-for-console-tests-0123456789";
const XSS = "<script>window.pwned=1</script>";
const SCREENSHOTS = join(import.meta.dir, "..", "..", "screenshots");

describe("the console, in Chromium", () => {
  const kind = storeKinds[0]!;
  let driver: Awaited<ReturnType<typeof kind.open>>;
  let sink: Sink;
  let app: Awaited<ReturnType<typeof testApp>>;
  let server: ServerHandle;
  let browser: Browser;
  let base = "";
  let viewerToken = "";
  let failedId = "";

  const publish = async (emails: string[]) => {
    const r = await app.fetch(
      new Request("http://hookline.test/v1/events", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({
          events: emails.map((email, i) => ({ type: "signup", customer: { id: `c-${i}`, email } })),
        }),
      }),
    );
    expect(r.status).toBe(202);
    return ((await r.json()) as { runId: string }).runId;
  };

  /** A fresh browser context signed in with `token` (through the form), on the overview. */
  const signedIn = async (token: string): Promise<{ context: BrowserContext; page: Page }> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    await page.goto(`${base}/console`);
    expect(new URL(page.url()).pathname).toBe("/console/sign-in");
    await page.fill("input[name=token]", token);
    await page.click("button[type=submit]");
    await page.waitForURL(`${base}/console`);
    return { context, page };
  };

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await launchChromium();
    driver = await kind.open();
    // "bad" addresses get a 422 (failed, no retry) whose body and header carry markup; "slow" ones
    // keep their run in progress while the overview is looked at.
    sink = await startSink((req) =>
      req.body.includes("bad")
        ? { status: 422, headers: { "x-echo": '"><img src=x id=injected>' }, body: XSS }
        : req.body.includes("slow")
          ? { status: 200, delayMs: 30_000 }
          : { status: 200, body: '{"ok":true}' },
    );
    app = await testApp(
      `engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
webhooks:
  crm: { url: "${sink.url}/contacts", body: '{"email": <%= json(it.customer.email) %>}' }
triggers: [{ kind: event, events: [signup], webhooks: [crm] }]
`,
      driver,
      { adminToken: TOKEN },
    );
    await app.start();
    server = await nodeRuntime().serve(app.fetch, { host: "127.0.0.1", port: 0 });
    base = `http://127.0.0.1:${server.port}`;
    viewerToken = (await app.store.createToken("console-viewer", "viewer")).secret;

    await publish(["a@example.com", "b@example.com", "bad@example.com"]);
    const failed = await eventually(
      async () => (await app.store.listDeliveries({ status: "failed" }))[0],
      15_000,
      "the failed delivery",
    );
    failedId = failed.id;
    await eventually(
      async () => (await app.store.listDeliveries({ status: "succeeded" })).length === 2,
      15_000,
      "two successes",
    );
    await publish(["slow1@example.com", "slow2@example.com", "slow3@example.com"]);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await app?.stop(500);
    await sink?.close();
    await driver?.dispose();
  });

  it("answers with a strict Content-Security-Policy, nosniff and no framing", async () => {
    const r = await fetch(`${base}/console/sign-in`);
    expect(r.status).toBe(200);
    const csp = r.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    // htmx comes from this server, from its npm package.
    const htmx = await fetch(`${base}/console/assets/htmx.min.js`);
    expect(htmx.status).toBe(200);
    expect(htmx.headers.get("content-type")).toContain("javascript");
    expect(await htmx.text()).toContain("htmx");
  });

  it("refuses a wrong token: the sign-in form again, with no session", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/console/sign-in`);
    await page.fill("input[name=token]", "not-the-token");
    const answer = page.waitForResponse((r) => r.request().method() === "POST");
    await page.click("button[type=submit]");
    expect((await answer).status()).toBe(401);
    await expect(page.locator("[role=alert]").textContent()).resolves.toContain("Wrong or revoked token");
    expect((await context.cookies()).some((c) => c.name === "hookline_console")).toBe(false);
    await page.goto(`${base}/console`);
    expect(new URL(page.url()).pathname).toBe("/console/sign-in");
    await page.screenshot({ path: join(SCREENSHOTS, "console-sign-in.png") });
    await context.close();
  });

  it("signs in with the admin token onto the overview, refreshed live, under the CSP without a violation", async () => {
    const violations: string[] = [];
    const { context, page } = await signedIn(TOKEN);
    page.on("console", (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    const cookie = (await context.cookies()).find((c) => c.name === "hookline_console");
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe("Strict");
    expect(cookie?.expires).toBeGreaterThan(Date.now() / 1000);
    await page.reload();
    expect(await page.locator("h1").textContent()).toBe("Overview");
    expect(await page.locator("[data-outcome=failed]").textContent()).toBe("1");
    expect(await page.locator("[data-outcome=succeeded]").textContent()).toBe("2");
    // The slow run is in progress, with its bar.
    await eventually(
      async () => (await page.locator("progress").count()) > 0,
      10_000,
      "a run's progress bar",
    );
    expect(await page.locator("#h-failures + table").textContent()).toContain("crm");
    // htmx loaded from here and polls the live cards.
    const poll = await page.waitForRequest((r) => r.url().endsWith("/console/overview/live"), {
      timeout: 8_000,
    });
    expect(poll.headers()["hx-request"]).toBe("true");
    await page.screenshot({ path: join(SCREENSHOTS, "console-overview.png"), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(SCREENSHOTS, "console-overview-phone.png"), fullPage: true });
    expect(violations).toEqual([]);
    await context.close();
  });

  it("lists deliveries by filter and shows a destination's markup as text, inert", async () => {
    const { context, page } = await signedIn(TOKEN);
    await page.goto(`${base}/console/deliveries`);
    expect(await page.locator("tbody tr").count()).toBe(6);
    await page.selectOption("select[name=status]", "failed");
    await page.click("form.filters button[type=submit]");
    await page.waitForURL(/status=failed/);
    expect(await page.locator("tbody tr").count()).toBe(1);
    await page.screenshot({ path: join(SCREENSHOTS, "console-deliveries.png"), fullPage: true });

    await page.click(`a[href="/console/deliveries/${failedId}"]`);
    await page.waitForURL(`${base}/console/deliveries/${failedId}`);
    expect(await page.locator("[data-part=response-body]").textContent()).toContain(XSS);
    expect(await page.locator(".attempt").textContent()).toContain('"><img src=x id=injected>');
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator("#injected").count()).toBe(0);
    expect(await page.locator("button", { hasText: "Retry" }).count()).toBe(1);
    await page.screenshot({ path: join(SCREENSHOTS, "console-delivery.png"), fullPage: true });

    // An admin retries it: a new attempt, failing again the same way.
    await page.click("button:has-text('Retry')");
    await page.waitForURL(`${base}/console/deliveries/${failedId}`);
    await eventually(
      async () => (await app.store.listAttempts(failedId)).length === 2,
      10_000,
      "a second attempt",
    );
    await page.reload();
    expect(await page.locator(".attempt").count()).toBe(2);
    await context.close();
  });

  it("refuses a POST without the session's CSRF token (403), and signs out with it", async () => {
    const { context, page } = await signedIn(TOKEN);
    const without = await page.evaluate(
      async (id) =>
        (await fetch(`/console/deliveries/${id}/retry`, { method: "POST", body: new URLSearchParams() }))
          .status,
      failedId,
    );
    expect(without).toBe(403);
    const wrong = await page.evaluate(
      async (id) =>
        (
          await fetch(`/console/deliveries/${id}/retry`, {
            method: "POST",
            body: new URLSearchParams({ _csrf: "forged" }),
          })
        ).status,
      failedId,
    );
    expect(wrong).toBe(403);
    expect((await app.store.listAttempts(failedId)).length).toBe(2);

    await page.click("button:has-text('Sign out')");
    await page.waitForURL(`${base}/console/sign-in`);
    await page.goto(`${base}/console/deliveries`);
    expect(new URL(page.url()).pathname).toBe("/console/sign-in");
    await context.close();
  });

  it("shows a viewer no Retry button, and refuses the retry it posts anyway", async () => {
    const { context, page } = await signedIn(viewerToken);
    expect(await page.locator("[data-role]").textContent()).toBe("viewer");
    await page.goto(`${base}/console/deliveries/${failedId}`);
    expect(await page.locator("h1").textContent()).toContain(failedId);
    expect(await page.locator("button", { hasText: "Retry" }).count()).toBe(0);
    // With its session's own CSRF token (from the sign-out form): refused for the role.
    const status = await page.evaluate(async (id) => {
      const csrf = (document.querySelector("input[name=_csrf]") as HTMLInputElement).value;
      return (
        await fetch(`/console/deliveries/${id}/retry`, {
          method: "POST",
          body: new URLSearchParams({ _csrf: csrf }),
        })
      ).status;
    }, failedId);
    expect(status).toBe(403);
    expect((await app.store.listAttempts(failedId)).length).toBe(2);
    await page.screenshot({ path: join(SCREENSHOTS, "console-delivery-viewer.png"), fullPage: true });
    await context.close();
  });
  it("pages deliveries 50 at a time, older ones behind the last one's id", async () => {
    await publish(Array.from({ length: 50 }, (_, i) => `page${i}@example.com`));
    const total = 56; // 6 before, 50 now
    const { context, page } = await signedIn(viewerToken);
    await page.goto(`${base}/console/deliveries?webhook=crm`);
    expect(await page.locator("tbody tr").count()).toBe(50);
    const firstPage = await page
      .locator("tbody td:first-child a")
      .evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    await page.click("a:has-text('Older')");
    await page.waitForURL(/before=/);
    expect(new URL(page.url()).searchParams.get("webhook")).toBe("crm");
    const secondPage = await page
      .locator("tbody td:first-child a")
      .evaluateAll((as) => as.map((a) => a.getAttribute("href")));
    expect(secondPage.length).toBe(total - 50);
    expect(secondPage.filter((id) => firstPage.includes(id))).toEqual([]);
    expect(await page.locator("a:has-text('Older')").count()).toBe(0);
    await context.close();
  });
});
