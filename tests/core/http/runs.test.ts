import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, type SinkRequest, startSink } from "../../support/http-sink.ts";

const TOKEN = "admin-token-for-tests-0123456789";

const yaml = (sink: string) => `
engine:
  pollInterval: 20ms
  retry: { delays: [20ms], jitter: 0 }
  allowNetworks: ["127.0.0.1/32"]
webhooks:
  contact:
    url: ${sink}/api/contacts
    body: '{"email": <%= json(it.customer.email) %>}'
  ordered:
    url: ${sink}/api/ordered
    timeout: 300ms
    orderingKey: '<%= it.customer.id %>'
    body: '{"n": <%= it.event.data.n %>}'
triggers:
  - { kind: event, events: [signup], webhooks: [contact] }
  - { kind: event, events: [ordered], webhooks: [ordered] }
`;

type Run = {
  id: string;
  kind: string;
  state: string;
  counts: Record<string, number>;
  webhooks: Array<{ webhook: string; counts: Record<string, number>; halted?: { reason: string } }>;
  finishedAt?: string;
  perSecond: number;
  job?: { state: string };
};

for (const kind of storeKinds) {
  describe(`runs, bulk retry and replay over HTTP on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;
    // Contacts whose email says "bad" are answered 500 (retried once, then failed) until `accepting`.
    let accepting = false;
    const call = async (method: string, path: string, body?: unknown) => {
      const r = await app.fetch(
        new Request(`http://hookline.test${path}`, {
          method,
          headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` },
          body: body === undefined ? undefined : JSON.stringify(body),
        }),
      );
      return { status: r.status, body: (await r.json()) as Record<string, any> };
    };
    const runOf = async (id: string) => (await call("GET", `/v1/runs/${id}`)).body.run as Run;
    const finished = (id: string) =>
      eventually(async () => {
        const run = await runOf(id);
        return run.state === "finished" && run.job?.state !== "running" ? run : undefined;
      });
    const contacts = (): SinkRequest[] => sink.requests.filter((r) => r.url === "/api/contacts");

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink((req) => {
        if (req.url === "/api/ordered")
          return JSON.parse(req.body).n === 0 ? { hang: true } : { status: 200 };
        return !accepting && req.body.includes("bad") ? { status: 500 } : { status: 200 };
      });
      app = await testApp(yaml(sink.url), driver, { adminToken: TOKEN });
      await app.start();
    });
    afterAll(async () => {
      await app.stop(500);
      await sink.close();
      await driver.dispose();
    });

    let published = "";
    it("makes each publish call a run whose counts follow its deliveries as they end", async () => {
      const events = ["a", "bad-1", "b", "bad-2", "c"].map((who) => ({
        type: "signup",
        customer: { id: who, email: `${who}@example.com` },
      }));
      const answer = await call("POST", "/v1/events", { events });
      expect(answer.status).toBe(202);
      published = answer.body.runId;
      const run = await finished(published);
      expect(run).toMatchObject({
        id: published,
        kind: "publish",
        counts: { total: 5, succeeded: 3, failed: 2, halted: 0, aborted: 0, skipped: 0, queued: 0 },
        webhooks: [{ webhook: "contact", counts: { total: 5, succeeded: 3, failed: 2, queued: 0 } }],
      });
      expect(run.finishedAt).toBeString();
      expect(run.perSecond).toBeGreaterThan(0);
      const listed = (await call("GET", "/v1/runs?kind=publish")).body.runs as Run[];
      expect(listed.map((r) => r.id)).toContain(published);
      const mine = (await call("GET", `/v1/deliveries?run=${published}`)).body.deliveries as Array<{
        status: string;
      }>;
      expect(mine.map((d) => d.status).sort()).toEqual([
        "failed",
        "failed",
        "succeeded",
        "succeeded",
        "succeeded",
      ]);
    });

    it("retries what a filter selects as a run of its own: same deliveries, same idempotency keys", async () => {
      const failedKeys = [
        ...new Set(
          contacts()
            .filter((r) => r.body.includes("bad"))
            .map((r) => r.headers["idempotency-key"]),
        ),
      ];
      expect(failedKeys).toHaveLength(2);
      accepting = true;
      const before = contacts().length;
      const answer = await call("POST", "/v1/deliveries/retry", { statuses: ["failed"], run: published });
      expect(answer.status).toBe(202);
      expect(answer.body.run).toMatchObject({ kind: "retry", job: { state: "running" } });
      const retry = await finished(answer.body.run.id);
      expect(retry.counts).toEqual({
        total: 2,
        succeeded: 2,
        failed: 0,
        halted: 0,
        aborted: 0,
        skipped: 0,
        queued: 0,
      });
      const again = contacts().slice(before);
      expect(again.map((r) => r.headers["idempotency-key"]).sort()).toEqual(failedKeys.sort());
      const moved = (await call("GET", `/v1/deliveries?run=${retry.id}`)).body.deliveries as Array<{
        status: string;
        runId: string;
      }>;
      expect(moved.map((d) => [d.status, d.runId])).toEqual([
        ["succeeded", retry.id],
        ["succeeded", retry.id],
      ]);
      // The run they failed in keeps its history.
      expect((await runOf(published)).counts).toMatchObject({ succeeded: 3, failed: 2 });
      expect((await call("POST", "/v1/deliveries/retry", { statuses: ["lost"] })).status).toBe(400);
    });

    it("replays a run as a new run: new deliveries with the same data and new idempotency keys", async () => {
      const answer = await call("POST", `/v1/runs/${published}/replay`);
      expect(answer.status).toBe(202);
      const replay = await finished(answer.body.run.id);
      expect(replay).toMatchObject({ kind: "replay", counts: { total: 5, succeeded: 5, queued: 0 } });
      const keys = contacts()
        .map((r) => r.headers["idempotency-key"]!)
        .filter((k) => k.endsWith(`:replay:${replay.id}`));
      expect(keys).toHaveLength(5);
      expect((await call("POST", "/v1/runs/run_nothing/replay")).status).toBe(404);
    });

    it("cancels a run: what it has queued ends halted with the reason", async () => {
      // One ordered stream: the first hangs (and times out), the four behind it wait.
      const events = [0, 1, 2, 3, 4].map((n) => ({ type: "ordered", customer: { id: "one" }, data: { n } }));
      const runId = (await call("POST", "/v1/events", { events })).body.runId as string;
      await eventually(() => sink.requests.some((r) => r.url === "/api/ordered"));
      const cancelled = await call("POST", `/v1/runs/${runId}/cancel`, { reason: "wrong list" });
      expect(cancelled.status).toBe(200);
      expect(cancelled.body.run.state).toBe("cancelled");
      const run = await eventually(async () => {
        const r = await runOf(runId);
        return r.counts.queued === 0 ? r : undefined;
      });
      expect(run.counts).toMatchObject({ total: 5, halted: 5, succeeded: 0 });
      expect(run.webhooks[0]?.halted?.reason).toBe("run cancelled: wrong list");
      const ordered = sink.requests.filter((r) => r.url === "/api/ordered");
      expect(ordered.every((r) => JSON.parse(r.body).n === 0)).toBe(true);
      expect((await call("POST", "/v1/runs/run_nothing/cancel", {})).status).toBe(404);
    });
  });
}
