import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Page } from "playwright-core";
import { eventually } from "../../support/app.ts";
import { type ConsoleHarness, PHONE, startConsole } from "../../support/console.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

/** The policy's card on the page, and its live numbers as they read now. */
const numbers = (page: Page) =>
  page.evaluate(() => {
    const card = document.querySelector('[data-policy="crm"]');
    const attr = (sel: string, name: string) => card?.querySelector(sel)?.getAttribute(name);
    return {
      inUse: Number(attr("[data-in-use]", "data-in-use")),
      limit: Number(attr("[data-limit]", "data-limit")),
      waiting: Number(attr("[data-waiting]", "data-waiting")),
      rate: card?.querySelector("[data-rate]")?.textContent,
    };
  });

describe("the console's Policies page, in Chromium", () => {
  let h: ConsoleHarness;
  let sink: Sink;
  let viewerToken = "";
  // The sink holds every request until the test lets go, so the deliveries keep their slots.
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });

  beforeAll(async () => {
    sink = await startSink(async () => {
      await held;
      return { status: 200 };
    });
    // The sink holds every request until the end: a timeout longer than the test, so that none of
    // them ends (and frees its slot) while the page is looked at, however slow the machine.
    h = await startConsole(`engine: { pollInterval: 20ms, timeout: 5m, allowNetworks: ["127.0.0.1/32"] }
policies:
  crm: { concurrency: 2, rate: 50 }
  spare: { concurrency: 8 }
webhooks:
  crm-sync: { url: "${sink.url}/contacts", policy: crm, body: '{"id": <%= json(it.customer.id) %>}' }
triggers: [{ kind: event, events: [signup], webhooks: [crm-sync] }]
`);
    viewerToken = (await h.app.store.createToken("policies-viewer", "viewer")).secret;
  });
  afterAll(async () => {
    release();
    await h.close();
    await sink.close();
  });

  it("shows the slots in use against the limit live, and an admin raises the limit", async () => {
    const { context, page, violations } = await h.signedIn();
    await page.click("nav >> text=Policies");
    await page.waitForURL(`${h.base}/console/policies`);
    expect(await numbers(page)).toEqual({ inUse: 0, limit: 2, waiting: 0, rate: "50 per second" });

    // Five deliveries under a limit of two: two hold a slot at the sink, three wait; the page,
    // left open, shows it on its own.
    const published = await h.api("POST", "/v1/events", {
      events: [1, 2, 3, 4, 5].map((i) => ({ type: "signup", customer: { id: `c-${i}` } })),
    });
    expect(published.status).toBe(202);
    await eventually(async () => sink.requests.length === 2);
    await page.waitForSelector('[data-policy="crm"] [data-in-use="2"]', { timeout: 20_000 });
    await page.waitForSelector('[data-policy="crm"] [data-waiting="3"]', { timeout: 20_000 });
    expect(await numbers(page)).toMatchObject({ inUse: 2, limit: 2 });
    const card = page.locator('[data-policy="crm"]');
    expect(await card.locator("a", { hasText: "crm-sync" }).getAttribute("href")).toBe(
      "/console/webhooks/crm-sync",
    );
    expect(await card.textContent()).toContain("config file");
    await h.shot(page, "policies");

    // Three at once, no rate: a third delivery starts at once, and the API reads the same limits.
    await card.locator("input[name=concurrency]").fill("3");
    await card.locator("input[name=rate]").fill("");
    await card.locator("button[type=submit]").click();
    await page.waitForURL(`${h.base}/console/policies?saved=crm`);
    expect(await page.locator("[role=status]").textContent()).toContain(
      "Saved the limits of crm: 3 at once, no limit",
    );
    expect(await numbers(page)).toMatchObject({ limit: 3, rate: "no limit" });
    const listed = (await (await h.api("GET", "/v1/policies")).json()) as {
      policies: Array<{ name: string; concurrency: number; rate?: number }>;
    };
    const crm = listed.policies.find((p) => p.name === "crm");
    expect({ concurrency: crm?.concurrency, rate: crm?.rate }).toEqual({ concurrency: 3, rate: undefined });
    await eventually(async () => sink.requests.length === 3);
    await page.waitForSelector('[data-policy="crm"] [data-in-use="3"]', { timeout: 20_000 });
    expect(await numbers(page)).toMatchObject({ inUse: 3, limit: 3, waiting: 2 });

    // A limit the form refuses on the server too (the browser's own check bypassed).
    await card.locator("input[name=concurrency]").evaluate((e) => e.removeAttribute("min"));
    await card.locator("input[name=concurrency]").fill("0");
    await card.locator("button[type=submit]").click();
    await page.waitForURL(`${h.base}/console/policies/crm`);
    expect(await page.locator('[data-policy="crm"] [role=alert]').textContent()).toContain(
      "Not saved. concurrency",
    );
    expect(await numbers(page)).toMatchObject({ limit: 3 });
    expect(violations).toEqual([]);
    await context.close();
  }, 60_000);

  it("shows a viewer no form, and refuses a viewer's posted edit (403)", async () => {
    const { context, page } = await h.signedIn(viewerToken, PHONE);
    await page.goto(`${h.base}/console/policies`);
    expect(await page.locator("form[aria-label^='Limits of']").count()).toBe(0);
    expect(await page.locator('[data-policy="crm"]').textContent()).toContain(
      "Only an admin may change its limits",
    );
    await h.shot(page, "policies-viewer-phone");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    const limitOfCrm = async () => {
      const listed = (await (await h.api("GET", "/v1/policies")).json()) as {
        policies: Array<{ name: string; concurrency: number }>;
      };
      return listed.policies.find((p) => p.name === "crm")?.concurrency;
    };
    const before = await limitOfCrm();
    const csrf = await page.locator("header input[name=_csrf]").getAttribute("value");
    const posted = await page.request.post(`${h.base}/console/policies/crm`, {
      form: { _csrf: csrf!, concurrency: "9" },
      maxRedirects: 0,
    });
    expect(posted.status()).toBe(403);
    expect(await posted.text()).toContain("a viewer may not do this");
    expect(await limitOfCrm()).toBe(before!);
    expect(before).not.toBe(9);
    await context.close();
  });
});
