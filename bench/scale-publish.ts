// Publishes N events for bench:scale into the store named by DATABASE_URL, then exits.

import { nodeTransportPlugin } from "../adapters/node/runtime.ts";
import { createHookline } from "../core/app.ts";
import { defaultPlugins } from "../plugins/defaults.ts";

const n = Number(process.argv[2] ?? 1000);
const app = await createHookline({
  config: { text: process.env.HOOKLINE_CONFIG!, file: "scale.yaml" },
  plugins: [...defaultPlugins(), nodeTransportPlugin()],
  env: process.env,
});
for (let i = 0; i < n; i += 1000) {
  await app.publish(
    Array.from({ length: Math.min(1000, n - i) }, (_, j) => ({
      type: "tick",
      customer: { id: `c${i + j}`, email: `c${i + j}@example.com` },
      data: { n: i + j },
    })),
  );
}
await app.stop(0);
