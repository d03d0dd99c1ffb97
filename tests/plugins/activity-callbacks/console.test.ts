/**
 * The console's Subscribers page, in Chromium: a subscriber whose destination answers 500 shows its
 * queue depth, the batch at the head with its next attempt, and the error (escaped), refreshed live;
 * a viewer sees it.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { activityCallbacks } from "../../../plugins/activity-callbacks/index.ts";
import { eventually } from "../../support/app.ts";
import { type ConsoleHarness, PHONE, startConsole } from "../../support/console.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

const XSS = "<script>window.pwned=1</script>";

describe("the console's Subscribers page", () => {
  let h: ConsoleHarness;
  let sink: Sink;
  let viewerToken = "";

  const activities = (from: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({
      activityStatus: "DELIVERED",
      activityDateTime: "2026-12-01T10:00:00",
      contactId: from + i,
    }));
  const queued = async () =>
    ((await (await h.api("GET", "/v1/subscribers/acme")).json()) as { queued: number }).queued;

  beforeAll(async () => {
    // acme's destination takes the GET check, and answers every batch with a 500 carrying markup; calm's takes all.
    sink = await startSink((req) =>
      req.method === "POST" && req.url.startsWith("/acme") ? { status: 500, body: XSS } : { status: 200 },
    );
    h = await startConsole(
      `engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
subscribers:
  acme: { url: "${sink.url}/acme", batchSize: 2 }
  calm: { url: "${sink.url}/calm" }
`,
      { plugins: [activityCallbacks({ pollInterval: 20 })] },
    );
    viewerToken = (await h.app.store.createToken("subscribers-viewer", "viewer")).secret;
    expect((await h.api("POST", "/v1/activities", activities(1, 3))).status).toBe(202);
    // The head batch went out once, failed, and waits for its retry (a minute later).
    await eventually(
      async () => sink.requests.filter((r) => r.method === "POST" && r.url === "/acme").length > 0,
      15_000,
      "acme's first batch",
    );
    await eventually(
      async () =>
        (await h.app.store.listDeliveries({ webhook: "subscriber.acme" })).some((d) => d.attempts > 0),
      15_000,
      "its attempt recorded",
    );
    await eventually(async () => (await queued()) === 3, 15_000, "acme's queue");
  });
  afterAll(async () => {
    await h?.close();
    await sink?.close();
  });

  it("shows each subscriber's queue depth, head batch, next attempt and last error, refreshed live", async () => {
    const { context, page, violations } = await h.signedIn();
    await page.click("nav[aria-label=Console] >> text=Subscribers");
    await page.waitForURL(`${h.base}/console/subscribers`);
    const acme = page.locator("[data-subscriber=acme]");
    await expect(acme.locator("[data-part=queued]").textContent()).resolves.toBe("3 activities");
    await expect(acme.locator("[data-part=head]").textContent()).resolves.toContain("2 activities last sent");
    await expect(acme.locator("[data-part=attempts]").textContent()).resolves.toBe("1");
    // The exponential policy's first retry: a minute after the failure.
    await expect(acme.locator("[data-part=next]").textContent()).resolves.toMatch(/^in (\d+ s|1 min)$/);
    await expect(acme.locator("[data-part=last-error]").textContent()).resolves.toContain("HTTP 500");
    // The destination's markup is shown as text, and nothing ran.
    await expect(acme.locator("[data-part=response-body]").textContent()).resolves.toBe(XSS);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    const calm = page.locator("[data-subscriber=calm]");
    await expect(calm.locator("[data-part=queued]").textContent()).resolves.toBe("0 activities");
    await expect(calm.locator("[data-part=head]").textContent()).resolves.toBe("none: nothing waits");
    // The head links to its delivery, where it can be read (and, for admins, retried).
    const href = await acme.locator("[data-part=head] a").getAttribute("href");
    expect(href).toMatch(/^\/console\/deliveries\/[0-9a-f-]{36}$/);
    await h.shot(page, "subscribers");

    // Two more activities join the queue: the page shows them without a reload (htmx polls the cards).
    expect((await h.api("POST", "/v1/activities", activities(10, 2))).status).toBe(202);
    await page.waitForFunction(
      () =>
        document.querySelector("[data-subscriber=acme] [data-part=queued]")?.textContent === "5 activities",
      undefined,
      { timeout: 15_000 },
    );
    expect(violations).toEqual([]);
    await context.close();
  });

  it("lets a viewer see it, on a phone too, with nothing to change", async () => {
    const { context, page } = await h.signedIn(viewerToken, PHONE);
    const r = await page.goto(`${h.base}/console/subscribers`);
    expect(r?.status()).toBe(200);
    await expect(page.locator("[data-subscriber=acme] [data-part=queued]").isVisible()).resolves.toBe(true);
    expect(await page.locator("main form").count()).toBe(0);
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(width).toBeLessThanOrEqual(PHONE.width);
    await h.shot(page, "subscribers-phone");
    await context.close();
  });
});
