import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { BUILTIN_PRESETS } from "../../../core/config/builtin-presets.ts";
import { mustache } from "../../../plugins/mustache/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { type ConsoleHarness, PHONE, startConsole } from "../../support/console.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

const customer = { id: "c-1", email: "ann@example.com" };
// The request the Slack preset's own test (tests/core/config/builtin-presets.test.ts) checks.
const slackParams = {
  text: 'Signup: <&> "quoted"',
  blocks: [{ type: "section", text: { type: "mrkdwn", text: "*New*" } }],
};

for (const kind of storeKinds) {
  describe(`a webhook from a preset through the admin API on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await app.fetch(
        new Request(`http://h${path}`, {
          method,
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
      const text = await r.text();
      return { status: r.status, json: text ? JSON.parse(text) : undefined };
    };
    const delivered = async (path: string) =>
      eventually(() => sink.requests.find((r) => r.url === path), 15_000, `a request to ${path}`);

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink(() => ({ status: 200, body: "ok" }));
      app = await testApp(
        `engine: { allowNetworks: ["127.0.0.1/32"], pollInterval: 20ms }
presets:
  team-slack: { extends: slack, params: { text: "From the team preset" } }
  house-json: { method: PUT, body: '{"who": <%= json(it.customer.id) %>}' }
`,
        driver,
        { plugins: [mustache()] },
      );
      await app.start();
    });
    afterAll(async () => {
      await app.stop(0);
      await sink.close();
      await driver.dispose();
    });

    it("creates a webhook that extends a built-in Eta preset, and it sends the preset's Slack request", async () => {
      const put = await call("PUT", "/v1/webhooks/signup-alert", {
        extends: "slack",
        url: `${sink.url}/services/T000/B000/XXXX`,
        params: slackParams,
        events: ["signup"],
      });
      expect(put.status).toBe(200);
      await app.publish({ type: "signup", customer });
      const r = await delivered("/services/T000/B000/XXXX");
      expect(r.method).toBe("POST");
      expect(r.headers["content-type"]).toBe("application/json");
      expect(JSON.parse(r.body)).toEqual(slackParams);
    });

    it("takes a config preset that extends a built-in, and a config preset's own Eta templates", async () => {
      expect(
        (
          await call("PUT", "/v1/webhooks/team-alert", {
            extends: "team-slack",
            url: `${sink.url}/services/team`,
            events: ["team"],
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await call("PUT", "/v1/webhooks/house", {
            extends: "house-json",
            url: `${sink.url}/house/1`,
            events: ["team"],
          })
        ).status,
      ).toBe(200);
      await app.publish({ type: "team", customer });
      expect(JSON.parse((await delivered("/services/team")).body)).toEqual({ text: "From the team preset" });
      const house = await delivered("/house/1");
      expect({ method: house.method, body: JSON.parse(house.body) }).toEqual({
        method: "PUT",
        body: { who: "c-1" },
      });
    });

    it("takes an exported preset webhook back: merged, without extends, its templates still the preset's", async () => {
      const { body, engine, format } = BUILTIN_PRESETS.slack!.fields;
      const put = await call("PUT", "/v1/webhooks/imported", {
        url: `${sink.url}/services/imported`,
        body,
        engine,
        format,
        params: { text: "again" },
      });
      expect(put.status).toBe(200);
    });

    it("refuses a template the request writes itself with a code engine, naming the field", async () => {
      const url = `${sink.url}/services/x`;
      const refused = [
        [{ extends: "slack", url, body: '{"text": <%= json(it.customer.email) %>}' }, "body"],
        [{ extends: "slack", url, body: '{"text": "plain"}' }, "body"],
        [{ extends: "slack", url: `<%= "${sink.url}/services/x" %>` }, "url"],
        [{ extends: "slack", url, headers: { "X-Who": "<%= it.customer.id %>" } }, "headers.X-Who"],
        [{ extends: "cm-sms", integration: "none", batch: { size: 5, item: "<%= 1 %>" } }, "batch.item"],
        [{ url, body: "{}" }, "body"],
      ] as const;
      for (const [body, path] of refused) {
        const r = await call("PUT", "/v1/webhooks/evil", body);
        expect({ path, status: r.status }).toEqual({ path, status: 403 });
        expect(r.json.error).toContain("runs templates as code");
        expect(r.json.issues?.[0]?.path ?? r.json.details?.issues?.[0]?.path).toBe(path);
      }
      expect((await call("GET", "/v1/webhooks/evil")).status).toBe(404);
    });

    it("takes the preset's templates overridden with an interpreted engine", async () => {
      const put = await call("PUT", "/v1/webhooks/mustache-alert", {
        extends: "slack",
        engine: "mustache",
        url: `${sink.url}/services/mustache`,
        body: '{"text": "hi {{customer.id}}"}',
        events: ["mustache"],
      });
      expect(put.status).toBe(200);
      await app.publish({ type: "mustache", customer });
      expect(JSON.parse((await delivered("/services/mustache")).body)).toEqual({ text: "hi c-1" });
    });

    it("says what a built-in preset still needs (a required param, its integration)", async () => {
      const r = await call("PUT", "/v1/webhooks/sms", { extends: "twilio-sms", params: { from: "+1555" } });
      expect(r.status).toBe(400);
      expect(r.json.error).toContain('preset "twilio-sms" needs param "accountSid"');
      const unknown = await call("PUT", "/v1/webhooks/sms", {
        extends: "slak",
        url: "https://x.example.com",
      });
      expect(unknown.status).toBe(400);
      expect(unknown.json.error).toContain('unknown preset "slak"');
      expect(unknown.json.error).toContain("built-in preset: slack");
    });
  });
}

describe("the console's preset gallery, in Chromium", () => {
  let h: ConsoleHarness;
  let sink: Sink;
  let viewerToken = "";

  beforeAll(async () => {
    sink = await startSink(() => ({ status: 200, body: "ok" }));
    h = await startConsole(`engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
presets:
  team-slack: { extends: slack, description: "Slack, the team's channel", params: { text: "From the team" } }
`);
    viewerToken = (await h.app.store.createToken("presets-viewer", "viewer")).secret;
  });
  afterAll(async () => {
    await h.close();
    await sink.close();
  });

  it("creates a Slack webhook from the preset in one step, and a test event sends Slack's request", async () => {
    const { context, page, violations } = await h.signedIn();
    await page.click("nav >> text=Presets");
    await page.waitForURL(`${h.base}/console/presets`);
    const cards = await page
      .locator("[data-preset]")
      .evaluateAll((e) => e.map((x) => x.getAttribute("data-preset")));
    expect(cards).toEqual([...Object.keys(BUILTIN_PRESETS), "team-slack"]);
    await h.shot(page, "presets");

    await page.click("a[aria-label='Use Slack incoming webhook']");
    await page.waitForURL(`${h.base}/console/presets/slack`);
    // Each parameter documented: whether it is required, its default, what it does.
    const param = (name: string, part: string) => page.locator(`tr[data-param=${name}] [data-part=${part}]`);
    expect(await param("text", "required").textContent()).toBe("no");
    expect(await param("text", "default").textContent()).toBe("");
    expect(await param("text", "what").textContent()).toContain("the message (mrkdwn)");
    expect(await page.locator("tr[data-param]").count()).toBe(2);

    await page.fill("input[name=name]", "signup-alert");
    await page.fill("input[name=url]", `${sink.url}/services/T000/B000/XXXX`);
    await page.fill("input[name=events]", "signup");
    await page.fill("input[name='param.text']", slackParams.text);
    await page.fill("input[name='param.blocks']", JSON.stringify(slackParams.blocks));
    await h.shot(page, "presets-slack");
    await page.click("button:has-text('Create webhook')");
    await page.waitForURL(`${h.base}/console/webhooks/signup-alert`);

    const made = (await (await h.api("GET", "/v1/webhooks/signup-alert")).json()) as Record<string, unknown>;
    expect(made).toMatchObject({ name: "signup-alert" });
    const published = await h.api("POST", "/v1/events", { events: [{ type: "signup", customer }] });
    expect(published.status).toBe(202);
    const r = await eventually(() => sink.requests.find((x) => x.url === "/services/T000/B000/XXXX"));
    expect(r.method).toBe("POST");
    expect(r.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(r.body)).toEqual(slackParams);

    // The same name again: refused on the form, saying why, the URL (a secret) not written back.
    await page.goto(`${h.base}/console/presets/slack`);
    await page.fill("input[name=name]", "signup-alert");
    await page.fill("input[name=url]", `${sink.url}/services/secret-path`);
    await page.click("button:has-text('Create webhook')");
    expect(await page.locator("[role=alert]").textContent()).toContain(
      'a webhook "signup-alert" exists already',
    );
    expect(await page.content()).not.toContain("secret-path");
    expect(await page.inputValue("input[name=name]")).toBe("signup-alert");
    expect(violations).toEqual([]);
    await context.close();
  }, 60_000);

  it("creates from a preset of the config file, with the file's defaults", async () => {
    const { context, page } = await h.signedIn();
    await page.goto(`${h.base}/console/presets/team-slack`);
    expect(await page.locator("tr[data-param=text] [data-part=default]").textContent()).toBe("From the team");
    await page.fill("input[name=name]", "team-alert");
    await page.fill("input[name=url]", `${sink.url}/services/team`);
    await page.fill("input[name=events]", "team");
    await page.click("button:has-text('Create webhook')");
    await page.waitForURL(`${h.base}/console/webhooks/team-alert`);
    expect((await h.api("POST", "/v1/events", { events: [{ type: "team", customer }] })).status).toBe(202);
    const r = await eventually(() => sink.requests.find((x) => x.url === "/services/team"));
    expect(JSON.parse(r.body)).toEqual({ text: "From the team" });
    await context.close();
  });

  it("shows a viewer the gallery without the form, and refuses a viewer's posted webhook (403)", async () => {
    const { context, page } = await h.signedIn(viewerToken, PHONE);
    await page.goto(`${h.base}/console/presets`);
    await h.shot(page, "presets-phone");
    await page.goto(`${h.base}/console/presets/twilio-sms`);
    await h.shot(page, "presets-twilio-phone");
    // Nothing wider than the phone: no page to scroll sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    expect(await page.locator("form button:has-text('Create webhook')").count()).toBe(0);
    expect(await page.locator("tr[data-param=accountSid] [data-part=required]").textContent()).toBe("yes");
    const csrf = await page.locator("header input[name=_csrf]").getAttribute("value");
    const posted = await page.request.post(`${h.base}/console/presets/slack`, {
      form: { _csrf: csrf!, name: "viewer-made", url: `${sink.url}/services/v` },
      maxRedirects: 0,
    });
    expect(posted.status()).toBe(403);
    expect((await h.api("GET", "/v1/webhooks/viewer-made")).status).toBe(404);
    await context.close();
  });
});
