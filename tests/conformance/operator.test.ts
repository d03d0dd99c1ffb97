import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { ServerHandle } from "../../core/contracts/runtime.ts";
import { eta } from "../../plugins/eta/index.ts";
import { type Sink, startSink } from "../support/http-sink.ts";
import { type ConformanceApp, conformanceApp, eventually } from "./support/app.ts";
import { RUNTIME, runtimeServe } from "./support/runtime.ts";

const ADMIN = "admin-token-for-conformance-0123";

const config = (sink: string) => `
engine:
  pollInterval: 20ms
  retry: { delays: [20ms], jitter: 0 }
  allowNetworks: ["127.0.0.1/32"]
webhooks:
  contact: { url: "${sink}/contacts", body: '{"email": <%= json(it.customer.email) %>}' }
triggers: [{ kind: event, events: [signup], webhooks: [contact] }]
`;

// The operator's API on this runtime's own server: a publish call's run and its progress, a bulk
// retry of its failures, and a token for a role.
describe(`runs, bulk retry and tokens over HTTP (${RUNTIME})`, () => {
  let sink: Sink;
  let app: ConformanceApp;
  let server: ServerHandle;
  let base = "";
  let accepting = false;
  const call = async (method: string, path: string, body?: unknown, token = ADMIN) => {
    const r = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, json: (await r.json()) as Record<string, any> };
  };
  const finished = (id: string) =>
    eventually(async () => {
      const { run } = (await call("GET", `/v1/runs/${id}`)).json;
      return run.state === "finished" && run.job?.state !== "running" ? run : undefined;
    });

  beforeAll(async () => {
    sink = await startSink((req) =>
      !accepting && req.body.includes("bad") ? { status: 500 } : { status: 200 },
    );
    app = await conformanceApp(config(sink.url), [eta()], {}, { adminToken: ADMIN });
    await app.start();
    server = await (await runtimeServe())(app.http.fetch, { host: "127.0.0.1", port: 0 });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server?.close();
    await app.dispose();
    await sink.close();
  });

  it("follows a publish call's run to its end and retries its failures as a run of their own", async () => {
    const events = ["a", "bad", "b"].map((who) => ({
      type: "signup",
      customer: { id: who, email: `${who}@x.example` },
    }));
    const runId = (await call("POST", "/v1/events", { events })).json.runId as string;
    const run = await finished(runId);
    expect(run.counts).toEqual({
      total: 3,
      succeeded: 2,
      failed: 1,
      halted: 0,
      aborted: 0,
      skipped: 0,
      queued: 0,
    });
    accepting = true;
    const started = await call("POST", "/v1/deliveries/retry", { run: runId });
    expect(started.status).toBe(202);
    const retry = await finished(started.json.run.id);
    expect(retry.counts).toMatchObject({ total: 1, succeeded: 1, queued: 0 });
  });

  it("gives a token a role: a viewer reads, and may not publish", async () => {
    const made = await call("POST", "/v1/tokens", { name: "dashboard", role: "viewer" });
    expect(made.status).toBe(201);
    const viewer = made.json.secret as string;
    expect((await call("GET", "/v1/runs", undefined, viewer)).status).toBe(200);
    const refused = await call("POST", "/v1/events", { type: "signup" }, viewer);
    expect([refused.status, refused.json.code]).toEqual([403, "HOOKLINE_HTTP_FORBIDDEN"]);
  });
});
