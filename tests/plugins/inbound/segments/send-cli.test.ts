import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { nodeRuntime } from "../../../../adapters/node/runtime.ts";
import { runCli } from "../../../../core/cli.ts";
import type { ServerHandle } from "../../../../core/contracts/runtime.ts";
import { defaultPlugins } from "../../../../plugins/defaults.ts";
import { inbound } from "../../../../plugins/inbound/index.ts";
import { testApp } from "../../../support/app.ts";
import { capturedRuntime } from "../../../support/captured-runtime.ts";
import { storeKinds } from "../../../support/db.ts";
import { type Sink, startSink } from "../../../support/http-sink.ts";
import { writeProfiles } from "../../../support/segments.ts";

const TOKEN = "admin-token-for-tests-0123456789";

describe("hookline send --segment NAME --webhook NAME", () => {
  const kind = storeKinds[0]!;
  let driver: Awaited<ReturnType<typeof kind.open>>;
  let sink: Sink;
  let app: Awaited<ReturnType<typeof testApp>>;
  let server: ServerHandle;
  let base = "";

  beforeAll(async () => {
    driver = await kind.open();
    sink = await startSink();
    app = await testApp(
      `engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
segments:
  gold: { filter: { property: tier, equals: gold } }
webhooks:
  contact: { url: "${sink.url}/contacts", body: '{"id": <%= json(it.customer.id) %>}' }
`,
      driver,
      { adminToken: TOKEN, plugins: [inbound()] },
    );
    await app.start();
    await writeProfiles(
      driver,
      Array.from({ length: 300 }, (_, i) => ({
        id: `c${i}`,
        properties: { tier: i % 3 === 0 ? "gold" : "silver" },
      })),
    );
    server = await nodeRuntime().serve(app.fetch, { host: "127.0.0.1", port: 0 });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.close();
    await app.stop(500);
    await sink.close();
    await driver.dispose();
  });

  const send = (...args: string[]) => {
    const c = capturedRuntime({ HOOKLINE_ADMIN_TOKEN: TOKEN });
    const code = runCli(c.runtime, ["send", ...args, "--url", base], defaultPlugins());
    return code.then((exit) => ({ exit, out: c.out, err: c.err }));
  };

  it("starts the send, follows its run to the end and exits 0 when every member got it", async () => {
    const r = await send("--segment", "gold", "--webhook", "contact", "--send-id", "cli-1");
    expect(r.err).toEqual([]);
    expect(r.out[0]).toBe("started: send cli-1 of segment gold to contact, run send_cli-1");
    expect(r.out.at(-1)).toContain("100/100 ok 100");
    expect(r.out.at(-1)).toContain("finished");
    expect(r.exit).toBe(0);
    const ids = sink.requests.map((q) => JSON.parse(q.body).id as string);
    expect(ids.sort()).toEqual(Array.from({ length: 100 }, (_, i) => `c${i * 3}`).sort());
  });

  it("the same --send-id again sends nothing and says so", async () => {
    const before = sink.requests.length;
    const r = await send("--segment", "gold", "--webhook", "contact", "--send-id", "cli-1");
    expect(r.out[0]).toBe("already started: send cli-1 of segment gold to contact, run send_cli-1");
    expect(r.exit).toBe(0);
    expect(sink.requests.length).toBe(before);
  });

  it("names what the server refused, and needs both flags", async () => {
    const r = await send("--segment", "platinum", "--webhook", "contact");
    expect(r.exit).toBe(1);
    expect(r.err.join("\n")).toContain('refused the send (404): no segment "platinum"');
    const usage = await send("--segment", "gold");
    expect(usage.exit).toBe(2);
    expect(usage.err.join("\n")).toContain("--webhook");
  });
});
