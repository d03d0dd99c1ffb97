// A delivery worker in its own OS process, for crash tests: `bun tests/support/worker-process.ts`
// with HOOKLINE_CONFIG (YAML text) and DATABASE_URL in the environment. Prints "ready" when claiming.

import { nodeTransportPlugin } from "../../adapters/node/runtime.ts";
import { createHookline } from "../../core/app.ts";
import { defaultPlugins } from "../../plugins/defaults.ts";

const app = await createHookline({
  config: { text: process.env.HOOKLINE_CONFIG!, file: "worker.yaml" },
  plugins: [...defaultPlugins(), nodeTransportPlugin()],
  env: process.env,
  workerId: process.env.WORKER_ID,
});
// Crash tests on PGlite: only one process may open its data folder, so the worker publishes its own load.
const publish = Number(process.env.PUBLISH_COUNT ?? 0);
for (let i = 0; i < publish; i += 500) {
  await app.publish(
    Array.from({ length: Math.min(500, publish - i) }, (_, j) => ({
      id: `e-${i + j}`,
      type: "tick",
      data: { n: i + j },
    })),
  );
}
await app.start();
console.log("ready");
// EXIT_WHEN_IDLE: leave once the store holds nothing pending or in flight (leases of a dead worker included).
if (process.env.EXIT_WHEN_IDLE) {
  for (;;) {
    await new Promise((r) => setTimeout(r, 200));
    if (app.worker.active === 0 && !(await app.store.nextDueAt())) break;
  }
  await app.stop(5_000);
  process.exit(0);
}
process.on("SIGTERM", async () => {
  await app.stop(5_000);
  process.exit(0);
});
