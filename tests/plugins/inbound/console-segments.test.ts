/**
 * The console's Segments pages and a webhook's consent field, in Chromium: every segment with its
 * member count; one segment's filter (edited as JSON, problems said at their paths) and its members
 * page by page; a send started from the console reaching the sink once per member while its progress
 * bar finishes; a viewer sees no form and a posted send is refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { inbound } from "../../../plugins/inbound/index.ts";
import { eventually } from "../../support/app.ts";
import { type ConsoleHarness, PHONE, startConsole } from "../../support/console.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";
import { writeProfiles } from "../../support/segments.ts";

const XSS = "<script>window.pwned=1</script>";
const GOLD = 25;

describe("the console's Segments pages", () => {
  let h: ConsoleHarness;
  let sink: Sink;
  let viewerToken = "";
  const segments = () => `${h.base}/console/segments`;

  beforeAll(async () => {
    sink = await startSink();
    h = await startConsole(
      `engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
segments:
  gold: { description: "Gold customers", filter: { property: tier, equals: gold } }
webhooks:
  crm: { url: "${sink.url}/crm", body: '{"id": <%= json(it.customer.id) %>}' }
`,
      { plugins: [inbound()] },
    );
    viewerToken = (await h.app.store.createToken("segments-viewer", "viewer")).secret;
    // 25 gold members (a page of 20 and a bit), 5 silver, one gold whose name is markup.
    await writeProfiles(h.driver, [
      ...Array.from({ length: GOLD - 1 }, (_, i) => ({
        id: `g${String(i).padStart(2, "0")}`,
        properties: { tier: "gold", name: `Gold ${i}` },
      })),
      { id: "gx", properties: { tier: "gold", name: XSS } },
      ...Array.from({ length: 5 }, (_, i) => ({ id: `s${i}`, properties: { tier: "silver" } })),
    ]);
    const put = await h.api("PUT", "/v1/segments/silver", { filter: { property: "tier", equals: "silver" } });
    expect(put.status).toBe(201);
  });
  afterAll(async () => {
    await h?.close();
    await sink?.close();
  });

  it("lists every segment, the config file's and the API's, with its member count", async () => {
    const { context, page, violations } = await h.signedIn();
    await page.goto(segments());
    // The page answers first; each count fills its cell after it.
    await page.waitForFunction(() =>
      [...document.querySelectorAll("[data-part=count]")].every((td) => /^\d+$/.test(td.textContent ?? "")),
    );
    expect(await page.locator("tr[data-segment=gold] [data-part=count]").textContent()).toBe(String(GOLD));
    expect(await page.locator("tr[data-segment=gold]").textContent()).toContain("Gold customers");
    expect(await page.locator("tr[data-segment=silver] [data-part=count]").textContent()).toBe("5");
    expect(await page.locator("tr[data-segment=silver] .tag").textContent()).toBe("API");
    await h.shot(page, "segments-list");
    expect(violations).toEqual([]);
    await context.close();
  });

  it("previews a segment's members page by page, their properties as text", async () => {
    const { context, page } = await h.signedIn();
    await page.goto(`${segments()}/gold`);
    expect(await page.locator("pre[data-part=filter]").textContent()).toContain('"equals": "gold"');
    expect(await page.locator("tr[data-member]").count()).toBe(20);
    expect(await page.locator("tr[data-member=g00]").textContent()).toContain("tier: gold");
    await h.shot(page, "segments-preview");
    await page.click("a:has-text('Next →')");
    // The click returns once the next page starts loading: its rows are counted once it has loaded.
    await page.waitForURL(/[?&]after=/);
    expect(await page.locator("tr[data-member]").count()).toBe(GOLD - 20);
    // The member whose name is markup: shown as text, never run.
    expect(await page.locator("tr[data-member=gx]").textContent()).toContain(XSS);
    expect(await page.evaluate(() => (window as { pwned?: number }).pwned)).toBeUndefined();
    // A config segment has no edit form.
    expect(await page.locator("textarea[name=filter]").count()).toBe(0);
    await context.close();
  });

  it("edits an API segment's filter, saying a problem at its path", async () => {
    const { context, page } = await h.signedIn();
    await page.goto(`${segments()}/silver`);
    await page.fill("textarea[name=filter]", '{"property": "tier", "gt": {"no": 1}}');
    await page.click("button:has-text('Save the segment')");
    expect(await page.locator("[data-part=problems] li").first().getAttribute("data-path")).toMatch(
      /^filter/,
    );
    await h.shot(page, "segments-edit-refused");
    await page.fill("textarea[name=filter]", '{"property": "tier", "in": ["silver", "gold"]}');
    await page.fill("input[name=description]", "Silver and gold");
    await page.click("button:has-text('Save the segment')");
    await page.waitForURL(`${segments()}/silver`);
    expect(await page.locator("#h-preview [data-part=count]").textContent()).toBe(String(GOLD + 5));
    const stored = (await (await h.api("GET", "/v1/segments/silver")).json()) as { description: string };
    expect(stored.description).toBe("Silver and gold");
    // Back as it was, for the tests after.
    await h.api("PUT", "/v1/segments/silver", { filter: { property: "tier", equals: "silver" } });
    await context.close();
  });

  it("sends to a segment from the console: one delivery per member, the progress bar finishing", async () => {
    const { context, page } = await h.signedIn();
    await page.goto(`${segments()}/gold`);
    await page.selectOption("select[name=webhook]", "crm");
    await page.fill("input[name=sendId]", "console-gold");
    await page.click("button:has-text('Send to')");
    await page.waitForURL(/\/console\/deliveries\/runs\//);
    await page.waitForSelector("#run-progress[data-state=finished]", { timeout: 20_000 });
    expect(await page.locator("[data-outcome=succeeded]").textContent()).toBe(String(GOLD));
    const ids = sink.requests.map((r) => (JSON.parse(r.body) as { id: string }).id).sort();
    expect(ids).toHaveLength(GOLD);
    expect(new Set(ids).size).toBe(GOLD);
    expect(ids.every((id) => id.startsWith("g"))).toBe(true);
    await h.shot(page, "segments-send-progress");
    await context.close();
  });

  it("refuses a send the form gets wrong, next to the form", async () => {
    const { context, page } = await h.signedIn();
    await page.goto(`${segments()}/gold`);
    await page.selectOption("select[name=webhook]", "crm");
    await page.fill("input[name=sendId]", "not allowed!");
    await page.click("button:has-text('Send to')");
    await page.waitForLoadState();
    expect(await page.locator("[data-part=problems] li[data-path=sendId]").count()).toBe(1);
    await context.close();
  });

  it("shows a viewer no edit or send form, and refuses a viewer's posted send (403)", async () => {
    const { context, page } = await h.signedIn(viewerToken, PHONE);
    await page.goto(`${segments()}/silver`);
    expect(await page.locator("textarea[name=filter]").count()).toBe(0);
    expect(await page.locator("select[name=webhook]").count()).toBe(0);
    expect(await page.locator("tr[data-member]").count()).toBe(5);
    await h.shot(page, "segments-viewer-phone");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    const before = sink.requests.length;
    const csrf = await page.locator("header input[name=_csrf]").getAttribute("value");
    const posted = await page.request.post(`${segments()}/silver/send`, {
      form: { _csrf: csrf!, webhook: "crm" },
      maxRedirects: 0,
    });
    expect(posted.status()).toBe(403);
    const edit = await page.request.post(`${segments()}/silver`, {
      form: { _csrf: csrf!, filter: '{"property": "tier", "exists": true}' },
      maxRedirects: 0,
    });
    expect(edit.status()).toBe(403);
    expect((await h.app.store.listRuns({ limit: 10 })).length).toBe(1);
    await new Promise((r) => setTimeout(r, 200));
    expect(sink.requests.length).toBe(before);
    await context.close();
  });
});

describe("a webhook's consent objectives in the console", () => {
  let h: ConsoleHarness;
  beforeAll(async () => {
    h = await startConsole(
      `webhooks:
  fromfile: { url: "https://crm.example.com/in", consent: [marketing-email] }
`,
      // The inbound plugin keeps the consents (a webhook needing one is refused without it).
      { plugins: [inbound()] },
    );
    const put = await h.api("PUT", "/v1/webhooks/mail", { url: "https://mail.example.com/send" });
    expect(put.ok).toBe(true);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("saves an admin-API webhook's consent through the form, and shows a config webhook's read-only", async () => {
    const { context, page } = await h.signedIn();
    await page.goto(`${h.base}/console/webhooks/mail?tab=settings`);
    await page.fill("[name=consent]", "marketing-email, sms");
    await page.click("button:has-text('Save')");
    await eventually(
      async () => {
        const w = (await (await h.api("GET", "/v1/webhooks/mail")).json()) as { consent?: string[] };
        return JSON.stringify(w.consent) === JSON.stringify(["marketing-email", "sms"]);
      },
      5_000,
      "the consent saved",
    );
    await page.goto(`${h.base}/console/webhooks/mail?tab=settings`);
    expect(await page.inputValue("[name=consent]")).toBe("marketing-email, sms");
    await h.shot(page, "webhooks-consent");
    // Emptied: no consent needed any more.
    await page.fill("[name=consent]", "");
    await page.click("button:has-text('Save')");
    await eventually(
      async () => {
        const w = (await (await h.api("GET", "/v1/webhooks/mail")).json()) as { consent?: string[] };
        return w.consent === undefined;
      },
      5_000,
      "the consent removed",
    );
    await page.goto(`${h.base}/console/webhooks/fromfile?tab=settings`);
    expect(await page.inputValue("[name=consent]")).toBe("marketing-email");
    expect(await page.locator("[name=consent]").isDisabled()).toBe(true);
    await context.close();
  });
});
