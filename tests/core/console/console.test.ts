import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Page } from "playwright-core";
import { readOutcomes } from "../../../core/store/gauges.ts";
import { eventually } from "../../support/app.ts";
import { type ConsoleHarness, PHONE, startConsole } from "../../support/console.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

const XSS = "<script>window.pwned=1</script>";
/** The credential the crm webhook sends in a header (from the environment): never shown. */
const CRM_KEY = "crm_live_Key_distinctive_77";

describe("the console, in Chromium", () => {
  let h: ConsoleHarness;
  let sink: Sink;
  let viewerToken = "";
  let failedId = "";
  const olderIds: string[] = [];
  /** How many times the flaky destination has seen each body: it refuses the first try of each. */
  const flakySeen = new Map<string, number>();

  /** Publishes one event per address (customer `cust-<local part>`); answers the run id. */
  const publish = async (emails: string[], type = "signup") => {
    const r = await h.api("POST", "/v1/events", {
      events: emails.map((email) => ({ type, customer: { id: `cust-${email.split("@")[0]}`, email } })),
    });
    expect(r.status).toBe(202);
    return ((await r.json()) as { runId: string }).runId;
  };
  const rows = (page: Page) => page.locator("tbody tr");
  const customers = (page: Page) =>
    page.locator("tbody tr td:nth-child(5)").evaluateAll((tds) => tds.map((td) => td.textContent));

  beforeAll(async () => {
    // "bad" addresses get a 422 (failed, no retry) whose body and header carry markup; "slow" ones
    // keep their run in progress while the overview is looked at; the flaky destination refuses
    // each body once (422), then takes it.
    sink = await startSink((req) => {
      if (req.url.startsWith("/flaky")) {
        const seen = (flakySeen.get(req.body) ?? 0) + 1;
        flakySeen.set(req.body, seen);
        return seen === 1 ? { status: 422, body: "not yet" } : { status: 200, body: '{"ok":true}' };
      }
      return req.body.includes("bad")
        ? { status: 422, headers: { "x-echo": '"><img src=x id=injected>' }, body: XSS }
        : req.body.includes("slow")
          ? { status: 200, delayMs: 30_000 }
          : { status: 200, body: '{"ok":true}' };
    });
    h = await startConsole(
      `engine: { pollInterval: 20ms, timeout: 60s, allowNetworks: ["127.0.0.1/32"] }
webhooks:
  crm:
    url: "${sink.url}/contacts"
    headers: { x-api-key: "\${CRM_KEY}" }
    body: '{"email": <%= json(it.customer.email) %>}'
  flaky: { url: "${sink.url}/flaky", body: '{"email": <%= json(it.customer.email) %>}' }
triggers:
  - { kind: event, events: [signup], webhooks: [crm] }
  - { kind: event, events: [import], webhooks: [flaky] }
`,
      { env: { CRM_KEY } },
    );
    viewerToken = (await h.app.store.createToken("console-viewer", "viewer")).secret;

    await publish(["a@example.com", "b@example.com", "bad@example.com"]);
    failedId = (
      await eventually(
        async () => (await h.app.store.listDeliveries({ status: "failed" }))[0],
        15_000,
        "the failed delivery",
      )
    ).id;
    const ok = await eventually(
      async () => {
        const done = await h.app.store.listDeliveries({ status: "succeeded" });
        return done.length === 2 && done;
      },
      15_000,
      "two successes",
    );
    // Those two were created two days ago, as far as the time filters can tell.
    olderIds.push(...ok.map((d) => d.id));
    await h.driver.query(
      "UPDATE hookline_deliveries SET created_at = now() - interval '2 days' WHERE id = ANY($1::uuid[])",
      [olderIds],
    );
    await publish(["slow1@example.com", "slow2@example.com", "slow3@example.com"]);
  });
  afterAll(async () => {
    await h?.close();
    await sink?.close();
  });

  it("answers with a strict Content-Security-Policy, nosniff and no framing", async () => {
    const r = await fetch(`${h.base}/console/sign-in`);
    expect(r.status).toBe(200);
    const csp = r.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(r.headers.get("x-content-type-options")).toBe("nosniff");
    // htmx comes from this server, from its npm package.
    const htmx = await fetch(`${h.base}/console/assets/htmx.min.js`);
    expect(htmx.status).toBe(200);
    expect(htmx.headers.get("content-type")).toContain("javascript");
    expect(await htmx.text()).toContain("htmx");
  });

  it("refuses a wrong token: the sign-in form again, with no session", async () => {
    const context = await h.browser.newContext();
    const page = await context.newPage();
    await page.goto(`${h.base}/console/sign-in`);
    await page.fill("input[name=token]", "not-the-token");
    const answer = page.waitForResponse((r) => r.request().method() === "POST");
    await page.click("button[type=submit]");
    expect((await answer).status()).toBe(401);
    await expect(page.locator("[role=alert]").textContent()).resolves.toContain("Wrong or revoked token");
    expect((await context.cookies()).some((c) => c.name === "hookline_console")).toBe(false);
    await page.goto(`${h.base}/console`);
    expect(new URL(page.url()).pathname).toBe("/console/sign-in");
    await h.shot(page, "sign-in");
    await context.close();
  });

  it("signs in with the admin token onto the overview, refreshed live, under the CSP without a violation", async () => {
    const { context, page, violations } = await h.signedIn();
    const cookie = (await context.cookies()).find((c) => c.name === "hookline_console");
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe("Strict");
    expect(cookie?.expires).toBeGreaterThan(Date.now() / 1000);
    await page.reload();
    expect(await page.locator("h1").textContent()).toBe("Overview");
    for (const window of ["hour", "day"]) {
      expect(await page.locator(`[data-window=${window}] [data-outcome=failed]`).textContent()).toBe("1");
      expect(await page.locator(`[data-window=${window}] [data-outcome=succeeded]`).textContent()).toBe("2");
    }
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
    await h.shot(page, "overview");
    await page.setViewportSize(PHONE);
    await h.shot(page, "overview-phone");
    expect(violations).toEqual([]);
    await context.close();
  });

  it("lists deliveries by filter and shows a destination's markup as text, inert", async () => {
    const { context, page } = await h.signedIn();
    await page.goto(`${h.base}/console/deliveries`);
    expect(await rows(page).count()).toBe(6);
    await page.selectOption("select[name=status]", "failed");
    await page.click("form.filters button[type=submit]");
    await page.waitForURL(/status=failed/);
    expect(await rows(page).count()).toBe(1);
    await h.shot(page, "deliveries");

    await page.click(`a[href="/console/deliveries/${failedId}"]`);
    await page.waitForURL(`${h.base}/console/deliveries/${failedId}`);
    expect(await page.locator("[data-part=response-body]").textContent()).toContain(XSS);
    expect(await page.locator(".attempt").textContent()).toContain('"><img src=x id=injected>');
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
    expect(await page.locator("#injected").count()).toBe(0);
    expect(await page.locator("button", { hasText: "Retry" }).count()).toBe(1);
    await h.shot(page, "delivery");

    // An admin retries it: a new attempt, failing again the same way.
    await page.click("button:has-text('Retry')");
    await page.waitForURL(`${h.base}/console/deliveries/${failedId}`);
    await eventually(
      async () => (await h.app.store.listAttempts(failedId)).length === 2,
      10_000,
      "a second attempt",
    );
    await page.reload();
    expect(await page.locator(".attempt").count()).toBe(2);
    await context.close();
  });

  it("filters deliveries by customer and by when they were created", async () => {
    const { context, page, violations } = await h.signedIn();
    await page.goto(`${h.base}/console/deliveries`);
    await page.fill("input[name=customer]", "cust-bad");
    await page.click("form.filters button[type=submit]");
    await page.waitForURL(/customer=cust-bad/);
    expect(await customers(page)).toEqual(["cust-bad"]);
    expect(await page.locator(`a[href="/console/deliveries/${failedId}"]`).count()).toBe(1);
    // The admin API filters alike.
    const api = await h.api("GET", "/v1/deliveries?customer=cust-bad");
    expect(((await api.json()) as { deliveries: Array<{ id: string }> }).deliveries.map((d) => d.id)).toEqual(
      [failedId],
    );

    // The last day: not the two created two days ago.
    await page.fill("input[name=customer]", "");
    await page.selectOption("select[name=window]", "day");
    await page.click("form.filters button[type=submit]");
    await page.waitForURL(/window=day/);
    expect((await customers(page)).sort()).toEqual(["cust-bad", "cust-slow1", "cust-slow2", "cust-slow3"]);

    // Created before a day ago (the form's time is UTC): only those two, newest first.
    await page.selectOption("select[name=window]", "");
    await page.fill("input[name=to]", new Date(Date.now() - 86_400_000).toISOString().slice(0, 16));
    await page.click("form.filters button[type=submit]");
    await page.waitForURL(/to=/);
    expect(await customers(page)).toEqual(["cust-b", "cust-a"]);
    // The form shows the filter it applied, and keeps it on the phone.
    await page.setViewportSize(PHONE);
    expect(await page.locator("form.filters input[name=to]").inputValue()).not.toBe("");
    await h.shot(page, "deliveries-filtered-phone");
    expect(violations).toEqual([]);
    await context.close();
  });

  it("shows a delivery's request rendered again above its attempts, the credential masked", async () => {
    const { context, page } = await h.signedIn(viewerToken);
    const [id] = olderIds;
    await page.goto(`${h.base}/console/deliveries/${id}`);
    const headers = await page.locator("[data-part=rendered-headers]").textContent();
    expect(headers).toContain("x-api-key: [REDACTED]");
    expect(await page.locator("[data-part=rendered-line]").textContent()).toBe(`POST ${sink.url}/contacts`);
    expect(await page.locator("[data-part=rendered-body]").textContent()).toMatch(
      /^\{"email": "[ab]@example\.com"\}$/,
    );
    expect(await page.locator("#h-request + p").textContent()).toContain(
      "its body is the one the last attempt sent",
    );
    // Above the attempts, and the key nowhere on the page (the destination did receive it).
    expect(
      await page.evaluate(() => {
        const request = document.querySelector("#h-request")!;
        const attempt = document.querySelector(".attempt")!;
        return Boolean(request.compareDocumentPosition(attempt) & Node.DOCUMENT_POSITION_FOLLOWING);
      }),
    ).toBe(true);
    expect(await page.content()).not.toContain(CRM_KEY);
    expect(sink.requests.some((r) => r.headers["x-api-key"] === CRM_KEY)).toBe(true);
    await h.shot(page, "delivery-request");
    await context.close();
  });

  it("refuses a POST without the session's CSRF token (403), and signs out with it", async () => {
    const { context, page } = await h.signedIn();
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
    const bulk = await page.evaluate(
      async () =>
        (
          await fetch("/console/deliveries/retry", {
            method: "POST",
            body: new URLSearchParams({ statuses: "failed" }),
          })
        ).status,
    );
    expect(bulk).toBe(403);
    expect((await h.app.store.listAttempts(failedId)).length).toBe(2);
    // No bulk retry started: the only retry run is the one-delivery retry's, which has no job.
    expect((await h.app.store.listRuns({ kind: "retry" })).map((r) => r.job)).toEqual([undefined]);

    await page.click("button:has-text('Sign out')");
    await page.waitForURL(`${h.base}/console/sign-in`);
    await page.goto(`${h.base}/console/deliveries`);
    expect(new URL(page.url()).pathname).toBe("/console/sign-in");
    await context.close();
  });

  it("shows a viewer no Retry buttons, and refuses the retries it posts anyway", async () => {
    const { context, page } = await h.signedIn(viewerToken);
    expect(await page.locator("[data-role]").textContent()).toBe("viewer");
    await page.goto(`${h.base}/console/deliveries?status=failed`);
    expect(await rows(page).count()).toBe(1);
    expect(await page.locator("button", { hasText: "Retry everything" }).count()).toBe(0);
    await page.goto(`${h.base}/console/deliveries/${failedId}`);
    expect(await page.locator("h1").textContent()).toContain(failedId);
    expect(await page.locator("button", { hasText: "Retry" }).count()).toBe(0);
    // With its session's own CSRF token (from the sign-out form): refused for the role.
    const statuses = await page.evaluate(async (id) => {
      const csrf = (document.querySelector("input[name=_csrf]") as HTMLInputElement).value;
      const post = (path: string, fields: Record<string, string> = {}) =>
        fetch(path, { method: "POST", body: new URLSearchParams({ _csrf: csrf, ...fields }) }).then(
          (r) => r.status,
        );
      return [
        await post(`/console/deliveries/${id}/retry`),
        await post("/console/deliveries/retry", { statuses: "failed" }),
        (await fetch("/console/deliveries/retry?status=failed")).status,
      ];
    }, failedId);
    expect(statuses).toEqual([403, 403, 403]);
    expect((await h.app.store.listAttempts(failedId)).length).toBe(2);
    await h.shot(page, "delivery-viewer");
    await context.close();
  });

  it("bulk-retries what a filter matches after confirming, and shows its progress live until it finishes", async () => {
    const emails = Array.from({ length: 5 }, (_, i) => `import${i}@example.com`);
    await publish(emails, "import");
    await eventually(
      async () => (await h.app.store.listDeliveries({ webhook: "flaky", status: "failed" })).length === 5,
      15_000,
      "five failed imports",
    );
    const { context, page, violations } = await h.signedIn();
    await page.goto(`${h.base}/console/deliveries`);
    await page.selectOption("select[name=webhook]", "flaky");
    await page.selectOption("select[name=status]", "failed");
    await page.click("form.filters button[type=submit]");
    await page.waitForURL(/webhook=flaky/);
    expect(await rows(page).count()).toBe(5);

    await page.click("button:has-text('Retry everything this filter matches')");
    await page.waitForURL(/\/console\/deliveries\/retry\?/);
    expect(await page.locator("[data-matching]").getAttribute("data-matching")).toBe("5");
    const said = await page.locator("section.card ul").textContent();
    expect(said).toContain("status failed");
    expect(said).toContain("webhook flaky");
    await h.shot(page, "bulk-retry-confirm");

    const polled = page.waitForRequest((r) => /\/console\/deliveries\/runs\/[^/]+\/live$/.test(r.url()), {
      timeout: 10_000,
    });
    await page.click("button:has-text('Start the retry')");
    await page.waitForURL(/\/console\/deliveries\/runs\/retry_/);
    expect((await polled).headers()["hx-request"]).toBe("true");
    await page.locator("#run-progress[data-state=finished]").waitFor({ timeout: 20_000 });
    const bar = page.locator("#run-progress progress");
    expect(await bar.getAttribute("value")).toBe("5");
    expect(await bar.getAttribute("max")).toBe("5");
    expect(await page.locator("#run-progress [data-outcome=succeeded]").textContent()).toBe("5");
    expect(await page.locator("#run-progress [data-outcome=failed]").textContent()).toBe("0");
    expect(await page.locator("#run-progress [data-outcome=queued]").textContent()).toBe("0");
    // Finished: it stops polling.
    expect(await page.locator("#run-progress[hx-trigger]").count()).toBe(0);
    await h.shot(page, "bulk-retry");
    expect(violations).toEqual([]);

    // Every import was sent twice and taken the second time; the failed crm one was left alone.
    expect([...flakySeen.values()]).toEqual([2, 2, 2, 2, 2]);
    expect(await h.app.store.listDeliveries({ webhook: "flaky", status: "succeeded" })).toHaveLength(5);
    expect((await h.app.store.getDelivery(failedId))?.status).toBe("failed");
    await context.close();
  });

  it("pages deliveries 50 at a time, older ones behind the last one's id", async () => {
    await publish(Array.from({ length: 50 }, (_, i) => `page${i}@example.com`));
    const total = 56; // 6 before, 50 now
    const { context, page } = await h.signedIn(viewerToken);
    await page.goto(`${h.base}/console/deliveries?webhook=crm`);
    expect(await rows(page).count()).toBe(50);
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

  it("counts the last day's outcomes on the overview, beside the last hour's", async () => {
    await eventually(
      async () => (await h.app.store.listDeliveries({ webhook: "crm", status: "succeeded" })).length >= 52,
      15_000,
      "the paged deliveries sent",
    );
    // Two hours on for every outcome so far, merged as the job runner merges them.
    await h.driver.query("UPDATE hookline_run_tallies SET at = at - interval '2 hours'");
    await h.app.store.compactTallies(100_000);
    const { context, page } = await h.signedIn(viewerToken);
    const shown = (window: string, outcome: string) =>
      page.locator(`[data-window=${window}] [data-outcome=${outcome}]`).textContent();
    // The overview is read at most every 2 s: until then it may show the counts before the move.
    await eventually(
      async () => {
        await page.reload();
        return (await shown("hour", "failed")) === "0";
      },
      10_000,
      "the overview read again",
    );
    // Failed: the crm one twice (sent, retried), the five imports once each.
    expect(await shown("day", "failed")).toBe("7");
    const { day } = await readOutcomes(h.driver);
    expect(day.failed).toBe(7);
    expect(Number(await shown("day", "succeeded"))).toBeGreaterThanOrEqual(2 + 5 + 50);
    expect(Number(await shown("day", "succeeded"))).toBeLessThanOrEqual(day.succeeded);
    await h.shot(page, "overview-day");
    await context.close();
  });
});
