/**
 * The console's Schedules page, in Chromium: each schedule trigger with its cron, time zone,
 * webhooks and catch-up rule, and from its row the next tick, the last tick fired and its run.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { schedule } from "../../../plugins/schedule/index.ts";
import { eventually } from "../../support/app.ts";
import { type ConsoleHarness, PHONE, startConsole } from "../../support/console.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

describe("the console's Schedules page", () => {
  let h: ConsoleHarness;
  let sink: Sink;
  let viewerToken = "";
  // A clock the test moves by hand: a minute before the 09:00 tick.
  let t = Date.parse("2026-12-07T07:59:00Z");

  beforeAll(async () => {
    sink = await startSink();
    h = await startConsole(
      `engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
webhooks:
  digest: { url: "${sink.url}/digest" }
triggers:
  - { kind: schedule, name: morning, cron: "0 9 * * *", timezone: Europe/Amsterdam, webhooks: [digest] }
  - { kind: schedule, name: launch, at: "2027-01-01T00:00:00Z", catchUp: skip, webhooks: [digest] }
`,
      { plugins: [schedule({ now: () => t, checkEvery: 20 })] },
    );
    viewerToken = (await h.app.store.createToken("schedules-viewer", "viewer")).secret;
  });
  afterAll(async () => {
    await h?.close();
    await sink?.close();
  });

  it("shows each schedule's rule and next tick, then the tick fired with its run", async () => {
    const { context, page, violations } = await h.signedIn();
    await eventually(
      async () => (await h.driver.query("SELECT key FROM hookline_schedules")).length === 2,
      10_000,
      "the schedules' rows",
    );
    await page.goto(`${h.base}/console/schedules`);
    const morning = page.locator("[data-schedule=morning]");
    expect(await morning.locator("[data-part=when]").textContent()).toBe("0 9 * * *");
    expect(await morning.textContent()).toContain("Europe/Amsterdam");
    expect(await morning.locator("[data-part=target]").textContent()).toBe("digest");
    expect(await morning.locator("[data-part=next] time").getAttribute("datetime")).toBe(
      "2026-12-07T08:00:00.000Z",
    );
    expect(await morning.locator("[data-part=last]").textContent()).toBe("none yet");
    expect(await page.locator("[data-schedule=launch]").textContent()).toContain("skipped");

    t = Date.parse("2026-12-07T08:00:00.500Z");
    await eventually(() => sink.requests.length === 1, 10_000, "the 09:00 tick");
    const run = "schedule.morning.2026-12-07T08:00:00.000Z";
    await eventually(
      async () =>
        (await h.driver.query("SELECT key FROM hookline_schedules WHERE last_run = $1", [run])).length === 1,
      10_000,
      "the tick finished",
    );
    await page.reload();
    expect(await morning.locator("[data-part=outcome]").textContent()).toBe("fired");
    expect(await morning.locator("[data-part=last] time").getAttribute("datetime")).toBe(
      "2026-12-07T08:00:00.000Z",
    );
    expect(await morning.locator("[data-part=next] time").getAttribute("datetime")).toBe(
      "2026-12-08T08:00:00.000Z",
    );
    await h.shot(page, "schedules-fired");
    expect(violations).toEqual([]);
    await morning.locator("[data-part=run] a").click();
    await page.waitForURL(/\/console\/deliveries\/runs\//);
    await page.waitForSelector("#run-progress[data-state=finished]", { timeout: 10_000 });
    expect(await page.locator("[data-outcome=succeeded]").textContent()).toBe("1");
    await context.close();
  });

  it("shows a viewer the page on a phone, without sideways scroll", async () => {
    const { context, page } = await h.signedIn(viewerToken, PHONE);
    await page.goto(`${h.base}/console/schedules`);
    expect(await page.locator("[data-schedule]").count()).toBe(2);
    await h.shot(page, "schedules-phone");
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await context.close();
  });
});
