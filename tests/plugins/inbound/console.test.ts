/**
 * The console's Inbound pages, in Chromium: what senders posted to real receivers shows up (escaped),
 * newest first and paged; a refused request is counted under its reason; a viewer sees the pages.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { RefusalCounts } from "../../../plugins/inbound/console-refusals.ts";
import { inbound } from "../../../plugins/inbound/index.ts";
import {
  activityPage,
  addRefusals,
  insertActivities,
  refusalCounts,
} from "../../../plugins/inbound/repository.ts";
import { testApp } from "../../support/app.ts";
import { type ConsoleHarness, PHONE, startConsole } from "../../support/console.ts";
import { storeKinds } from "../../support/db.ts";

const KEY = "esputnik-key-for-console-tests";
const XSS = "<script>window.pwned=1</script>";

describe("the console's Inbound pages", () => {
  let h: ConsoleHarness;
  let viewerToken = "";

  const post = (path: string, body: unknown, headers: Record<string, string> = { "x-api-key": KEY }) =>
    fetch(`${h.base}/in/${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    h = await startConsole(
      `inbound:
  endpoints:
    esputnik: { kind: activity-status, auth: { kind: apiKey, keys: ["\${ESPUTNIK_KEY}"] } }
    crm:
      kind: profile-update
      auth: { kind: none }
      identifier: { property: email }
      createProfiles: true
      mappings: [{ from: "$.name", to: name }]
`,
      { plugins: [inbound()], env: { ESPUTNIK_KEY: KEY } },
    );
    viewerToken = (await h.app.store.createToken("inbound-viewer", "viewer")).secret;
    // One endpoint of the admin API beside the config file's.
    const put = await h.api("PUT", "/v1/inbound/partner", {
      kind: "activity-status",
      auth: { kind: "none" },
    });
    expect(put.status).toBe(201);
    // 55 activities (a page and a bit), then one whose email a sender filled with markup: the newest.
    const many = Array.from({ length: 55 }, (_, i) => ({
      activityStatus: "DELIVERED",
      activityDateTime: "2026-12-01T10:00:00",
      contactId: 1000 + i,
      email: `c${i}@example.com`,
    }));
    expect((await post("esputnik", many)).status).toBe(200);
    expect(
      (
        await post("esputnik", [
          { activityStatus: "CLICKED", activityDateTime: "2026-12-01T10:05:00", contactId: 7, email: XSS },
        ])
      ).status,
    ).toBe(200);
    // Refused: a wrong key (twice), and a body that is not JSON.
    expect((await post("esputnik", [], { "x-api-key": "wrong" })).status).toBe(401);
    expect((await post("esputnik", [], { "x-api-key": "wrong" })).status).toBe(401);
    const notJson = await fetch(`${h.base}/in/esputnik`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": KEY },
      body: "{not json",
    });
    expect(notJson.status).toBe(400);
    expect((await post("crm?email=ada%40example.com", { name: `Ada ${XSS}` }, {})).status).toBe(200);
  });
  afterAll(async () => {
    await h?.close();
  });

  it("lists every endpoint with its kind, auth and refusals, and counts each refusal under its reason", async () => {
    const { context, page, violations } = await h.signedIn();
    await page.click("nav[aria-label=Console] >> text=Inbound");
    await page.waitForURL(`${h.base}/console/inbound`);
    const esputnik = page.locator("tr[data-endpoint=esputnik]");
    await expect(esputnik.textContent()).resolves.toContain("activity-status");
    await expect(esputnik.textContent()).resolves.toContain("apiKey");
    await expect(esputnik.locator("td").last().textContent()).resolves.toBe("3 / 3");
    await expect(page.locator("tr[data-endpoint=crm]").textContent()).resolves.toContain("profile-update");
    await expect(page.locator("tr[data-endpoint=partner]").textContent()).resolves.toContain("API");
    // By reason: the wrong key twice (401), the broken JSON once (400).
    const key = page.locator("tr[data-reason=HOOKLINE_INBOUND_API_KEY]");
    await expect(key.locator("[data-count=hour]").textContent()).resolves.toBe("2");
    await expect(key.textContent()).resolves.toContain("401");
    const json = page.locator("tr[data-reason=HOOKLINE_INBOUND_JSON]");
    await expect(json.locator("[data-count=day]").textContent()).resolves.toBe("1");
    // The key itself is nowhere on the page.
    expect(await page.content()).not.toContain(KEY);
    await h.shot(page, "inbound-list");
    expect(violations).toEqual([]);
    await context.close();
  });

  it("shows an endpoint's activities newest first, paged, with a sender's markup as inert text", async () => {
    const { context, page, violations } = await h.signedIn();
    await page.goto(`${h.base}/console/inbound/esputnik`);
    const rows = page.locator("section[aria-label='Recent activities'] tbody tr");
    expect(await rows.count()).toBe(50);
    // The newest first: the one carrying markup, shown as the text it is, and nothing ran.
    await expect(rows.first().locator("[data-part=contact]").textContent()).resolves.toBe(XSS);
    await expect(rows.first().textContent()).resolves.toContain("CLICKED");
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator("main script").count()).toBe(0);
    await expect(rows.nth(1).textContent()).resolves.toContain("c54@example.com");
    await h.shot(page, "inbound-endpoint");
    await page.click("text=Older →");
    // The click returns once the next page starts loading: its rows are counted once it has loaded.
    await page.waitForURL(/[?&]before=/);
    const older = page.locator("section[aria-label='Recent activities'] tbody tr");
    expect(await older.count()).toBe(6);
    await expect(older.last().textContent()).resolves.toContain("c0@example.com");
    await page.click("text=Newest");
    await page.waitForURL(`${h.base}/console/inbound/esputnik`);
    expect(await rows.count()).toBe(50);
    expect(violations).toEqual([]);
    await context.close();
  });

  it("shows a profile-update endpoint's recent updates: the customer, what changed", async () => {
    const { context, page } = await h.signedIn();
    await page.goto(`${h.base}/console/inbound/crm`);
    const row = page.locator("section[aria-label='Recent profile updates'] tbody tr").first();
    await expect(row.textContent()).resolves.toContain("ada@example.com");
    await expect(row.textContent()).resolves.toContain("created");
    await expect(row.textContent()).resolves.toContain("changed");
    await expect(page.locator("main").textContent()).resolves.toContain("$.name");
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    await context.close();
  });

  it("answers 404 for an endpoint that does not exist, and 400 for a page position that is not one", async () => {
    const { context, page } = await h.signedIn();
    const r = await page.goto(`${h.base}/console/inbound/nope`);
    expect(r?.status()).toBe(404);
    await expect(page.locator("[role=alert]").textContent()).resolves.toContain('no inbound endpoint "nope"');
    const bad = await page.goto(`${h.base}/console/inbound/esputnik?before=${encodeURIComponent(XSS)}`);
    expect(bad?.status()).toBe(400);
    await expect(page.locator("[role=alert]").textContent()).resolves.toContain("before:");
    await context.close();
  });

  it("lets a viewer see the pages, on a phone too", async () => {
    const { context, page } = await h.signedIn(viewerToken, PHONE);
    await page.goto(`${h.base}/console/inbound`);
    await expect(page.locator("h1").textContent()).resolves.toBe("Inbound");
    await expect(page.locator("tr[data-endpoint=esputnik]").isVisible()).resolves.toBe(true);
    // Nothing on it to change: the only form is sign-out.
    expect(await page.locator("main form").count()).toBe(0);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(PHONE.width);
    await h.shot(page, "inbound-phone");
    const r = await page.goto(`${h.base}/console/inbound/esputnik`);
    expect(r?.status()).toBe(200);
    await context.close();
  });
});

describe.each(storeKinds)("what the Inbound pages read, on $name", (kind) => {
  let driver: Awaited<ReturnType<typeof kind.open>>;
  let app: Awaited<ReturnType<typeof testApp>>;
  beforeAll(async () => {
    driver = await kind.open();
    app = await testApp("inbound: { endpoints: {} }\n", driver, { plugins: [inbound()] });
  });
  afterAll(async () => {
    await app?.stop(0);
    await driver?.dispose();
  });

  it("counts refusals by reason over the last hour and the last day, adding each flush to the minute's count", async () => {
    const counts = new RefusalCounts(driver, app.host.logger);
    for (let i = 0; i < 3; i++) counts.count("e1", "HOOKLINE_INBOUND_API_KEY", 401);
    counts.count("e1", "HOOKLINE_INBOUND_JSON", 400);
    await counts.flush();
    counts.count("e1", "HOOKLINE_INBOUND_API_KEY", 401);
    await counts.flush();
    const minute = (ms: number) => new Date(Math.floor((Date.now() - ms) / 60_000) * 60_000).toISOString();
    await addRefusals(driver, [
      {
        endpoint: "e1",
        code: "HOOKLINE_INBOUND_API_KEY",
        status: 401,
        minute: minute(2 * 3_600_000),
        count: 5,
      },
      {
        endpoint: "e1",
        code: "HOOKLINE_INBOUND_API_KEY",
        status: 401,
        minute: minute(3 * 86_400_000),
        count: 7,
      },
      { endpoint: "e2", code: "HOOKLINE_INBOUND_IP", status: 403, minute: minute(0), count: 1 },
    ]);
    const e1 = await refusalCounts(driver, "e1");
    expect(e1.map((r) => [r.code, r.status, r.lastHour, r.lastDay])).toEqual([
      ["HOOKLINE_INBOUND_API_KEY", 401, 4, 9],
      ["HOOKLINE_INBOUND_JSON", 400, 1, 1],
    ]);
    expect((await refusalCounts(driver)).map((r) => r.endpoint).sort()).toEqual(["e1", "e1", "e2"]);
  });

  it("pages an endpoint's activities newest first, in the order they were stored", async () => {
    const rows = Array.from({ length: 12 }, (_, i) => ({
      endpoint: "esp",
      dedupe_key: `k${i}`,
      request_key: null,
      status: "READ",
      activity: { activityStatus: "READ", activityDateTime: "2026-12-01T10:00:00", contactId: i },
    }));
    await insertActivities(driver, "[]", JSON.stringify(rows));
    const since = new Date(Date.now() - 86_400_000);
    const ids = (page: Awaited<ReturnType<typeof activityPage>>) => page.map((a) => a.activity.contactId);
    const first = await activityPage(driver, "esp", { since, limit: 5 });
    expect(ids(first)).toEqual([11, 10, 9, 8, 7]);
    const second = await activityPage(driver, "esp", { since, limit: 5, before: first.at(-1)!.seq });
    expect(ids(second)).toEqual([6, 5, 4, 3, 2]);
    const last = await activityPage(driver, "esp", { since, limit: 5, before: second.at(-1)!.seq });
    expect(ids(last)).toEqual([1, 0]);
    expect(await activityPage(driver, "other", { since, limit: 5 })).toEqual([]);
  });
});
