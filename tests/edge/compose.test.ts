/**
 * The edge worker's app (`inboundApp`) starts against the servers' store: it may write what is its own
 * (inbound receipts, the deliveries activities fire) and must leave the servers' shared configuration
 * as it found it. These tests start it, with its own inbound-only config, against a store a server has
 * set up, on PGlite and on the Postgres server.
 */
import { afterEach, describe, expect, it } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { inboundApp } from "../../edge/compose.ts";
import { embedConfig } from "../../edge/embed.ts";
import { basic } from "../../plugins/basic/index.ts";
import { eta } from "../../plugins/eta/index.ts";
import { inbound } from "../../plugins/inbound/index.ts";
import { testApp } from "../support/app.ts";
import { storeKinds } from "../support/db.ts";

const EXAMPLE = join(import.meta.dir, "../../examples/cloudflare-worker-inbound/hookline.yaml");
const EDGE_ENV = { ESPUTNIK_KEY: "esputnik-key-0123456789", CRM_PASSWORD: "crm-password-0123" };

/** A server's config: two throughput policies, one with a rate, used by its webhooks. */
const SERVER = `
policies:
  partner: { concurrency: 5, rate: 25 }
  bulk: { concurrency: 2 }
webhooks:
  call: { url: "https://crm.example.com/api/call", policy: partner, body: "{}" }
  sync: { url: "https://crm.example.com/api/sync", policy: bulk, body: "{}" }
`;

const RATED = [
  { name: "bulk", concurrency: 2, inUse: 0 },
  { name: "partner", concurrency: 5, rate: 25, inUse: 0 },
];

/** Starts the edge's app on `driver` as the worker does on a cold start, with the config given. */
async function edgeStart(driver: Parameters<typeof testApp>[1], text: string) {
  const plugins = [eta(), basic()];
  return inboundApp({ config: embedConfig(text, "hookline.yaml", plugins), env: EDGE_ENV, driver, plugins });
}

for (const kind of storeKinds) {
  describe(`the edge's start against a server's store (${kind.name})`, () => {
    const disposals: Array<() => Promise<unknown>> = [];
    afterEach(async () => {
      for (const d of disposals.splice(0).reverse()) await d();
    });

    async function serverStore() {
      const driver = await kind.open();
      disposals.push(() => driver.dispose());
      // A server with the inbound plugin: it migrates what the edge's receivers need (the edge checks).
      const server = await testApp(SERVER, driver, { plugins: [inbound()] });
      disposals.push(() => server.stop(0));
      expect(await server.store.listPolicies()).toEqual(RATED);
      return { driver, server };
    }

    it("leaves the server's throughput policies in place when its own config (the example's) has none", async () => {
      const { driver, server } = await serverStore();
      const edge = await edgeStart(driver, readFileSync(EXAMPLE, "utf8"));
      expect(Object.keys(edge.config.policies)).toEqual([]);
      expect(await server.store.listPolicies()).toEqual(RATED);
    });

    it("keeps a policy's rate when the edge is built from the server's own hookline.yaml", async () => {
      const { driver, server } = await serverStore();
      // One file for both: the server's policies and webhooks, plus the inbound receivers the edge serves.
      const inbound = readFileSync(EXAMPLE, "utf8").replace(/^webhooks:[\s\S]*$/m, "");
      const edge = await edgeStart(driver, `${SERVER}\n${inbound}`);
      expect(edge.config.policies.partner).toEqual({ concurrency: 5, rate: 25 });
      expect(await server.store.listPolicies()).toEqual(RATED);
    });
  });
}
