import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

/** Debian's chromium: what the browser tests drive (`.ci/run` installs it when missing). */
export const CHROMIUM = process.env.HOOKLINE_CHROMIUM ?? "/usr/bin/chromium";

/**
 * Launches headless Chromium from `CHROMIUM` with playwright-core (which downloads no browser). A
 * missing browser fails the test that asked for it, with the command that installs one: a browser
 * test that cannot run must not pass.
 *
 * @example const browser = await launchChromium(); const page = await browser.newPage();
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `the browser tests need Chromium at ${CHROMIUM} (Debian: apt-get install -y chromium; or set HOOKLINE_CHROMIUM to its path)`,
    );
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox"] });
}
