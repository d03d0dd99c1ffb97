import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { inbound } from "../../../../plugins/inbound/index.ts";
import { eventually, testApp } from "../../../support/app.ts";
import { storeKinds } from "../../../support/db.ts";
import { type Sink, startSink } from "../../../support/http-sink.ts";
import { writeProfiles } from "../../../support/segments.ts";

const PROFILES = 10_000;
const ids = Array.from({ length: PROFILES }, (_, i) => `p${String(i).padStart(5, "0")}`);

type Answer = { status: number; body: any };
/** An answer's body as text, quotes unescaped: what its messages say. */
const text = (body: unknown) => JSON.stringify(body).replaceAll('\\"', '"');

for (const kind of storeKinds) {
  describe(`segment sends (POST /v1/segments/:name/send) on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<typeof kind.open>>;
    let app: Awaited<ReturnType<typeof testApp>>;
    let sink: Sink;

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink();
      app = await testApp(
        `
engine:
  concurrency: 32
  pollInterval: 20ms
  allowNetworks: ["127.0.0.1/32"]
segments:
  everyone: { filter: { property: n, exists: true } }
  evens: { filter: { property: even, equals: true } }
webhooks:
  one:
    url: ${sink.url}/one
    body: '{"id": <%= json(it.customer.id) %>, "n": <%= it.customer.n %>, "send": <%= json(it.event.data.send) %>, "list": <%= json(it.params.list) %>}'
    params: { list: main }
  many:
    url: ${sink.url}/many
    batch: { size: 500, linger: 50ms, item: '<%= json(it.customer.id) %>' }
    body: '[<%= it.items.join(",") %>]'
`,
        driver,
        { plugins: [inbound()] },
      );
      await app.start();
      await writeProfiles(
        driver,
        ids.map((id, n) => ({ id, properties: { n, even: n % 2 === 0 } })),
      );
    });
    afterAll(async () => {
      await app.stop(1_000);
      await sink.close();
      await driver.dispose();
    });

    const call = async (method: string, path: string, body?: unknown): Promise<Answer> => {
      const r = await app.fetch(
        new Request(`http://h${path}`, {
          method,
          ...(body === undefined
            ? {}
            : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
        }),
      );
      return { status: r.status, body: await r.json() };
    };
    const finished = (runId: string) =>
      eventually(
        async () => {
          const { body } = await call("GET", `/v1/runs/${runId}`);
          return body.run?.state === "finished" ? body.run : undefined;
        },
        120_000,
        `run ${runId} to finish`,
      );
    const written = async (runId: string) =>
      (
        await driver.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM hookline_deliveries WHERE run_id = $1",
          [runId],
        )
      )[0]!.n;

    it("delivers each of 10,000 members exactly once, as one run whose progress counts them", async () => {
      const started = await call("POST", "/v1/segments/everyone/send", {
        webhook: "one",
        sendId: "spring",
        params: { list: "spring-list" },
      });
      expect(started).toEqual({
        status: 202,
        body: { runId: "send_spring", sendId: "spring", created: true },
      });
      const run = await finished("send_spring");
      expect(run).toMatchObject({
        kind: "segment",
        counts: { total: PROFILES, succeeded: PROFILES, failed: 0, queued: 0 },
        webhooks: [{ webhook: "one", counts: { total: PROFILES, succeeded: PROFILES } }],
        job: { state: "done", send: { sendId: "spring", segment: "everyone", webhooks: ["one"] } },
      });
      const bodies = sink.requests.filter((r) => r.url === "/one").map((r) => JSON.parse(r.body));
      expect(bodies).toHaveLength(PROFILES);
      expect(new Set(bodies.map((b) => b.id)).size).toBe(PROFILES);
      expect(bodies.map((b) => b.id).sort()).toEqual(ids);
      // Templates see the profile as the customer, the send, and the send's params over the webhook's.
      const b42 = bodies.find((b) => b.id === "p00042");
      expect(b42).toEqual({ id: "p00042", n: 42, send: "spring", list: "spring-list" });
      // Each request carries its member's idempotency key: the send, the member, the webhook.
      const r42 = sink.requests.find((r) => r.url === "/one" && r.body.includes('"p00042"'))!;
      expect(r42.headers["idempotency-key"]).toBe("spring:p00042:one");
    }, 180_000);

    it("posting the same sendId again writes nothing new", async () => {
      const before = await written("send_spring");
      expect(before).toBe(PROFILES);
      const again = await call("POST", "/v1/segments/everyone/send", { webhook: "one", sendId: "spring" });
      expect(again).toEqual({
        status: 202,
        body: { runId: "send_spring", sendId: "spring", created: false },
      });
      const [n] = await driver.query<{ n: number }>("SELECT count(*)::int AS n FROM hookline_deliveries");
      expect(n!.n).toBe(PROFILES);
      expect((await call("GET", "/v1/runs/send_spring")).body.run.counts.total).toBe(PROFILES);
    });

    it("a batch webhook gets each of 10,000 members in exactly one batch request", async () => {
      const requestsBefore = sink.requests.length;
      const started = await call("POST", "/v1/segments/everyone/send", { webhook: "many" });
      expect(started.status).toBe(202);
      expect(started.body.created).toBe(true);
      const run = await finished(started.body.runId);
      expect(run.counts).toMatchObject({ total: PROFILES, succeeded: PROFILES, queued: 0 });
      const batches = sink.requests
        .slice(requestsBefore)
        .filter((r) => r.url === "/many")
        .map((r) => JSON.parse(r.body) as string[]);
      expect(batches.every((b) => b.length >= 1 && b.length <= 500)).toBe(true);
      const members = batches.flat();
      expect(members).toHaveLength(PROFILES);
      expect(members.sort()).toEqual(ids);
      // Batched, not one by one: at least 20 requests of 500 (more if a claim found fewer due).
      expect(batches.length).toBeLessThan(PROFILES / 10);
    }, 180_000);

    it("sends to a segment's members only, and the run's counts agree with the deliveries", async () => {
      const { body } = await call("POST", "/v1/segments/evens/send", { webhook: "one", sendId: "evens" });
      const run = await finished(body.runId);
      const byStatus = await driver.query<{ status: string; n: number }>(
        "SELECT status, count(*)::int AS n FROM hookline_delivery_state WHERE run_id = 'send_evens' GROUP BY status",
      );
      expect(byStatus).toEqual([{ status: "succeeded", n: PROFILES / 2 }]);
      expect(run.counts).toMatchObject({ total: PROFILES / 2, succeeded: PROFILES / 2, queued: 0 });
      const customers = await driver.query<{ customer_id: string }>(
        "SELECT customer_id FROM hookline_deliveries WHERE run_id = 'send_evens'",
      );
      expect(customers.every((c) => Number(c.customer_id.slice(1)) % 2 === 0)).toBe(true);
    }, 180_000);

    it("refuses an unknown segment or webhook, and a send id that is not one, naming it", async () => {
      const noSegment = await call("POST", "/v1/segments/nobody/send", { webhook: "one" });
      expect(noSegment.status).toBe(404);
      expect(text(noSegment.body)).toContain('no segment "nobody"');
      const noWebhook = await call("POST", "/v1/segments/everyone/send", { webhook: "nope" });
      expect(noWebhook.status).toBe(404);
      expect(text(noWebhook.body)).toContain('no webhook "nope"');
      const badId = await call("POST", "/v1/segments/everyone/send", { webhook: "one", sendId: "a b" });
      expect(badId.status).toBe(400);
      expect(JSON.stringify(badId.body)).toContain("sendId");
    });
  });
}
