import { nodeTransportPlugin } from "../../adapters/node/runtime.ts";
import type { Hookline } from "../../core/app.ts";
import { createHookline } from "../../core/app.ts";
import type { Plugin } from "../../core/contracts/plugin.ts";
import type { SqlDriver } from "../../core/contracts/store.ts";
import { Tokens } from "../../core/tokens.ts";
import { basic } from "../../plugins/basic/index.ts";
import { eta } from "../../plugins/eta/index.ts";
import { headers } from "../../plugins/headers/index.ts";

/** Registers an already-open driver as the store. */
export const useDriver = (driver: SqlDriver): Plugin => ({
  name: "test-driver",
  register(c) {
    // The app closes its store on stop; tests dispose drivers themselves.
    c.register(Tokens.SqlDriver, { useValue: { ...driver, close: async () => {} } });
  },
});

/** An app on the given driver with the default plugins and Node's transport; logs kept in `logs`. */
export async function testApp(
  yaml: string,
  driver: SqlDriver,
  options: { env?: Record<string, string>; plugins?: Plugin[]; adminToken?: string } = {},
): Promise<Hookline & { logs: string[] }> {
  const logs: string[] = [];
  const app = await createHookline({
    config: { text: yaml, file: "test.yaml" },
    plugins: [
      eta(),
      basic(),
      headers(),
      nodeTransportPlugin(),
      useDriver(driver),
      ...(options.plugins ?? []),
    ],
    env: options.env ?? {},
    adminToken: options.adminToken,
    logger: (redactor) => ({
      log: (level, message, fields) =>
        logs.push(redactor.redact(JSON.stringify({ level, message, ...fields }))),
    }),
  });
  return Object.assign(app, { logs });
}

/** Polls until `check` returns a truthy value (or throws after `ms`). */
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
