import { createHookline, type Hookline } from "../../../core/app.ts";
import type { Plugin } from "../../../core/contracts/plugin.ts";
import type { SqlDriver } from "../../../core/contracts/store.ts";
import { Tokens } from "../../../core/tokens.ts";
import { pgliteDriver } from "../../../plugins/pglite/index.ts";
import { runtimeTransportPlugin } from "./runtime.ts";

/** An app under test on the embedded store, with this runtime's transport; `dispose` stops both. */
export interface ConformanceApp extends Hookline {
  driver: SqlDriver;
  logs: string[];
  dispose(): Promise<void>;
}

/**
 * Creates an app from a config text on a fresh in-memory PGlite, with this runtime's transport.
 *
 * @example const app = await conformanceApp(yaml, [eta(), basic()], { PASSWORD: "p" });
 */
export async function conformanceApp(
  yaml: string,
  plugins: Plugin[],
  env: Record<string, string> = {},
  options: { adminToken?: string } = {},
): Promise<ConformanceApp> {
  const driver = await pgliteDriver();
  const logs: string[] = [];
  const store: Plugin = {
    name: "conformance-store",
    register: (c) => c.register(Tokens.SqlDriver, { useValue: { ...driver, close: async () => {} } }),
  };
  const app = await createHookline({
    config: { text: yaml, file: "conformance.yaml" },
    plugins: [...plugins, await runtimeTransportPlugin(), store],
    env,
    adminToken: options.adminToken,
    logger: (redactor) => ({
      log: (level, message, fields) =>
        logs.push(redactor.redact(JSON.stringify({ level, message, ...fields }))),
    }),
  });
  return Object.assign(app, {
    driver,
    logs,
    async dispose() {
      await app.stop(1_000);
      await driver.close();
    },
  });
}

/**
 * Polls until `check` returns something truthy; throws after `ms` with the last error.
 *
 * @example const d = await eventually(async () => (await app.store.getDelivery(id))?.status === "succeeded");
 */
export async function eventually<T>(
  check: () => Promise<T> | T,
  ms = 15_000,
  what = "condition",
): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
}
