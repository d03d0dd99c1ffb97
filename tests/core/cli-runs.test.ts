import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { nodeRuntime } from "../../adapters/node/runtime.ts";
import { runCli } from "../../core/cli.ts";
import { progressLine } from "../../core/cli-runs.ts";
import type { ServerHandle } from "../../core/contracts/runtime.ts";
import { defaultPlugins } from "../../plugins/defaults.ts";
import { testApp } from "../support/app.ts";
import { capturedRuntime } from "../support/captured-runtime.ts";
import { storeKinds } from "../support/db.ts";
import { type Sink, startSink } from "../support/http-sink.ts";

const TOKEN = "admin-token-for-tests-0123456789";

const captured = (terminal: boolean, token = TOKEN) =>
  capturedRuntime({ HOOKLINE_ADMIN_TOKEN: token }, terminal);

describe("hookline runs watch", () => {
  const kind = storeKinds[0]!;
  let driver: Awaited<ReturnType<typeof kind.open>>;
  let sink: Sink;
  let app: Awaited<ReturnType<typeof testApp>>;
  let server: ServerHandle;
  let base = "";
  const publish = async (emails: string[]) => {
    const r = await app.fetch(
      new Request("http://hookline.test/v1/events", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({
          events: emails.map((email, i) => ({ type: "signup", customer: { id: `c-${i}`, email } })),
        }),
      }),
    );
    return ((await r.json()) as { runId: string }).runId;
  };

  beforeAll(async () => {
    driver = await kind.open();
    // Slow enough that the watcher sees the run going; "bad" addresses are refused (400: halted).
    sink = await startSink((req) =>
      req.body.includes("bad") ? { status: 400 } : { status: 200, delayMs: 1_200 },
    );
    app = await testApp(
      `engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
webhooks:
  contact: { url: "${sink.url}/contacts", body: '{"email": <%= json(it.customer.email) %>}' }
triggers: [{ kind: event, events: [signup], webhooks: [contact] }]
`,
      driver,
      { adminToken: TOKEN },
    );
    await app.start();
    server = await nodeRuntime().serve(app.fetch, { host: "127.0.0.1", port: 0 });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.close();
    await app.stop(500);
    await sink.close();
    await driver.dispose();
  });

  it("follows a run to its end, redrawing one line in a terminal, and exits 0 when everything succeeded", async () => {
    const runId = await publish(Array.from({ length: 12 }, (_, i) => `u${i}@example.com`));
    const c = captured(true);
    expect(await runCli(c.runtime, ["runs", "watch", runId, "--url", base], defaultPlugins())).toBe(0);
    expect(c.out.length).toBeGreaterThan(1);
    expect(c.out[0]).toMatch(/^\[-{30}\]\s+0% 0\/12 ok 0 /);
    // Every later line moves up one and clears it first.
    expect(c.out.slice(1).every((l) => l.startsWith("\x1b[1A\x1b[2K"))).toBe(true);
    expect(c.out.at(-1)).toContain(`[${"#".repeat(30)}] 100% 12/12 ok 12`);
    expect(c.out.at(-1)).toEndWith("finished");
  });

  it("prints plain lines when stdout is not a terminal, and exits 1 when deliveries did not succeed", async () => {
    const runId = await publish(["ok@example.com", "bad@example.com"]);
    const c = captured(false);
    expect(await runCli(c.runtime, ["runs", "watch", runId, "--url", base], defaultPlugins())).toBe(1);
    expect(c.out.some((l) => l.includes("\x1b"))).toBe(false);
    expect(c.out.at(-1)).toContain("2/2 ok 1 halted 1");
  });

  it("names what is wrong: an unknown run, a refused token, a server it cannot reach", async () => {
    const unknown = captured(false);
    expect(
      await runCli(unknown.runtime, ["runs", "watch", "run_nope", "--url", base], defaultPlugins()),
    ).toBe(1);
    expect(unknown.err.join("\n")).toContain(`no run run_nope at ${base}`);
    const refused = captured(false, "wrong-token");
    expect(
      await runCli(refused.runtime, ["runs", "watch", "run_nope", "--url", base], defaultPlugins()),
    ).toBe(1);
    expect(refused.err.join("\n")).toContain("refused the admin token");
    const away = captured(false);
    expect(
      await runCli(away.runtime, ["runs", "watch", "run_x", "--url", "http://127.0.0.1:1"], defaultPlugins()),
    ).toBe(1);
    expect(away.err.join("\n")).toContain("cannot reach hookline at http://127.0.0.1:1");
    const usage = captured(false);
    expect(await runCli(usage.runtime, ["runs", "watch"], defaultPlugins())).toBe(2);
  });
});

describe("a run's progress line", () => {
  it("counts deliveries skipped for want of consent beside the failures", () => {
    const line = progressLine({
      id: "send_1",
      kind: "segment",
      state: "finished",
      startedAt: "2026-12-07T10:00:00.000Z",
      counts: { total: 10, succeeded: 7, failed: 1, halted: 0, aborted: 0, skipped: 2, queued: 0 },
      webhooks: [],
      perSecond: 0,
    });
    expect(line).toContain("10/10 ok 7 failed 1 skipped 2");
  });
});
