import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { nodeRuntime } from "../../adapters/node/runtime.ts";
import type { Plugin } from "../../core/contracts/plugin.ts";
import type { ServerHandle } from "../../core/contracts/runtime.ts";
import { testApp } from "./app.ts";
import { launchChromium } from "./browser.ts";
import { storeKinds } from "./db.ts";

/** Where browser tests write their screenshots (not committed; rewritten every run). */
export const SCREENSHOTS = join(import.meta.dir, "..", "screenshots");

/** The admin token the console tests sign in with. */
export const CONSOLE_TOKEN = "admin-token-for-console-tests-0123456789";

/** A laptop screen, and a phone's (as the console must read on both). */
export const LAPTOP = { width: 1280, height: 860 } as const;
export const PHONE = { width: 390, height: 844 } as const;

export type ConsoleHarness = Awaited<ReturnType<typeof startConsole>>;

/**
 * A real server (Node's, on 127.0.0.1) over a test app on the first store kind (PGlite), with the
 * console on and headless Chromium launched: what a console browser test drives.
 *
 * @example const h = await startConsole(`webhooks: { crm: { url: "${sink.url}" } }`); const { page } = await h.signedIn();
 */
export async function startConsole(
  yaml: string,
  options: { env?: Record<string, string>; plugins?: Plugin[] } = {},
) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const kind = storeKinds[0]!;
  const driver = await kind.open();
  const browser: Browser = await launchChromium();
  const app = await testApp(yaml, driver, { ...options, adminToken: CONSOLE_TOKEN });
  await app.start();
  const server: ServerHandle = await nodeRuntime().serve(app.fetch, { host: "127.0.0.1", port: 0 });
  const base = `http://127.0.0.1:${server.port}`;
  return {
    app,
    driver,
    browser,
    base,
    /**
     * A fresh browser context signed in through the form with `token` (the admin token by default),
     * on the overview. Content-Security-Policy violations the page reports are collected in `violations`.
     */
    async signedIn(
      token = CONSOLE_TOKEN,
      viewport: { width: number; height: number } = LAPTOP,
    ): Promise<{ context: BrowserContext; page: Page; violations: string[] }> {
      const context = await browser.newContext({ viewport });
      const page = await context.newPage();
      const violations: string[] = [];
      page.on("console", (m) => {
        if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
      });
      await page.goto(`${base}/console/sign-in`);
      await page.fill("input[name=token]", token);
      await page.click("button[type=submit]");
      await page.waitForURL(`${base}/console`);
      return { context, page, violations };
    },
    /** Writes a full-page screenshot `console-<name>.png` to SCREENSHOTS. */
    shot: (page: Page, name: string) =>
      page.screenshot({ path: join(SCREENSHOTS, `console-${name}.png`), fullPage: true }),
    /** A request to the admin API with the admin token. */
    api: (method: string, path: string, body?: unknown) =>
      app.fetch(
        new Request(`http://hookline.test${path}`, {
          method,
          headers: {
            authorization: `Bearer ${CONSOLE_TOKEN}`,
            ...(body === undefined ? {} : { "content-type": "application/json" }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        }),
      ),
    async close() {
      await browser.close();
      await server.close();
      await app.stop(500);
      await driver.dispose();
    },
  };
}
