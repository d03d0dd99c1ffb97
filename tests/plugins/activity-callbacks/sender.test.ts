import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import {
  activityCallbacks,
  enqueueActivities,
  retryDelay,
} from "../../../plugins/activity-callbacks/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import {
  type Sink,
  type SinkReply,
  type SinkRequest,
  startSink,
  unusedPort,
} from "../../support/http-sink.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
const BASE = 200;

const config = (sink: string, subscribers: string) => `
engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
integrations:
  acme-auth:
    kind: basic
    endpointPrefix: ${sink}/hooks
    username: hookline
    password: callback-pw-31c9
subscribers:
${subscribers}
`;

const activity = (n: number, status = "DELIVERED") => ({
  contactId: 1000 + n,
  email: `c${n}@example.com`,
  activityStatus: status,
  mediaType: "email",
  messageInstanceId: 5000 + n,
  activityDateTime: "2024-03-01T12:00:00",
});

/** A sink that timestamps requests and answers by `decide`. */
async function timedSink(decide: (r: SinkRequest, postIndex: number) => SinkReply) {
  const at: number[] = [];
  let posts = 0;
  const sink = await startSink((r) => {
    at.push(Date.now());
    return r.method === "POST" ? decide(r, posts++) : { status: 200 };
  });
  return { sink, at };
}

const posts = (sink: Sink) => sink.requests.filter((r) => r.method === "POST");

describe("retryDelay", () => {
  it("doubles from the base and caps (1, 2, 4, 8 … minutes, then once an hour)", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => retryDelay(n, 60_000, 3_600_000) / 60_000)).toEqual([
      1, 2, 4, 8, 16, 32, 60, 60, 60,
    ]);
  });
});

for (const kind of storeKinds) {
  describe(`activity callbacks out on ${kind.name}`, () => {
    let driver: Driver;
    const stops: Array<() => Promise<void>> = [];
    beforeAll(async () => {
      driver = await kind.open();
    });
    afterAll(async () => {
      for (const s of stops.reverse()) await s();
      await driver.dispose();
    });

    it("retries a failing head batch after growing delays, holds later batches back, then delivers all in order", async () => {
      const { sink, at } = await timedSink((_r, i) =>
        i < 3 ? { status: 503 } : { status: 200, body: "ok" },
      );
      const app = await testApp(
        config(
          sink.url,
          `  acme: { url: "${sink.url}/hooks/esputnik", integration: acme-auth, batchSize: 4 }`,
        ),
        driver,
        { plugins: [activityCallbacks({ pollInterval: 20, retry: { base: BASE, cap: 10_000 } })] },
      );
      stops.push(async () => {
        await app.stop(1_000);
        await sink.close();
      });
      // Queued before the workers start: config subscribers are webhooks already.
      const first = Array.from({ length: 6 }, (_, n) => activity(n));
      expect(await enqueueActivities(app, first)).toEqual({ received: 6, queued: 6 });
      await app.start();
      await eventually(() => posts(sink).length >= 2, 10_000, "the first retry");
      // Queued while the head is failing: it waits behind the head.
      const later = Array.from({ length: 5 }, (_, n) => activity(6 + n, n % 2 ? "READ" : "CLICKED"));
      const r = await app.fetch(
        new Request("http://h/v1/activities", {
          method: "POST",
          body: JSON.stringify({ activities: later }),
        }),
      );
      expect(r.status).toBe(202);
      await eventually(() => posts(sink).length >= 6, 20_000, "every batch");
      await new Promise((res) => setTimeout(res, 300));

      const sent = posts(sink);
      const bodies = sent.map((p) => JSON.parse(p.body) as Array<{ contactId: number }>);
      // The head: the same batch, the same idempotency key, four times; three refusals then 200
      // (the exponential policy retries it; later deliveries of the ordered stream wait behind it).
      expect(bodies.slice(0, 4).map((b) => b.map((a) => a.contactId))).toEqual(
        Array(4).fill([1000, 1001, 1002, 1003]),
      );
      expect(new Set(sent.slice(0, 4).map((p) => p.headers["idempotency-key"])).size).toBe(1);
      // After it, every activity exactly once and in order, in batches of at most four.
      const delivered = bodies
        .slice(3)
        .flat()
        .map((a) => a.contactId);
      expect(delivered).toEqual(Array.from({ length: 11 }, (_, n) => 1000 + n));
      expect(bodies.every((b) => b.length <= 4)).toBe(true);
      expect(sent.length).toBe(6);
      expect(
        sent.every((p) => p.headers.authorization === `Basic ${btoa("hookline:callback-pw-31c9")}`),
      ).toBe(true);
      expect(sent[0]!.headers["content-type"]).toBe("application/json");
      // Delays between the head's attempts: base, 2·base, 4·base (never earlier; generous upper bound).
      const times = sink.requests
        .map((req, i) => ({ req, at: at[i]! }))
        .filter((x) => x.req.method === "POST")
        .map((x) => x.at);
      for (let k = 1; k <= 3; k++) {
        const gap = times[k]! - times[k - 1]!;
        expect(gap).toBeGreaterThanOrEqual(BASE * 2 ** (k - 1) - 5);
        expect(gap).toBeLessThan(BASE * 2 ** (k - 1) + 3_000);
      }
      const state = (await (await app.fetch(new Request("http://h/v1/subscribers/acme"))).json()) as Record<
        string,
        unknown
      >;
      expect(state).toMatchObject({ queued: 0, deliveredBatches: 3, head: null, source: "config" });
      // One attempt per request in the core's delivery log (a batch's request is recorded on its first item).
      const attempts = await driver.query<{ status: number }>(
        `SELECT a.status FROM hookline_attempts a JOIN hookline_deliveries d ON d.id = a.delivery_id
          WHERE d.webhook = 'subscriber.acme' AND a.request->'batch'->>'recordedOn' = a.delivery_id::text
          ORDER BY a.started_at`,
      );
      expect(attempts.map((a) => a.status)).toEqual([503, 503, 503, 200, 200, 200]);
      // A secret is never in what the admin API shows.
      expect(JSON.stringify(state)).not.toContain("callback-pw-31c9");
      await app.stop(1_000);
    });

    it("checks a subscriber saved through the API with a GET: a non-200 answer or a fault rejects it", async () => {
      const sink = await startSink((r) =>
        r.url.startsWith("/hooks/missing") ? { status: 404 } : { status: 200 },
      );
      const app = await testApp(
        config(sink.url, `  from-file: { url: "${sink.url}/hooks/file", statuses: [SPAM] }`),
        driver,
        {
          plugins: [activityCallbacks({ pollInterval: 20, retry: { base: 50, cap: 1_000 } })],
          adminToken: "admin-token-0099",
        },
      );
      await app.start();
      stops.push(async () => {
        await app.stop(1_000);
        await sink.close();
      });
      const put = (name: string, body: unknown) =>
        app.fetch(
          new Request(`http://h/v1/subscribers/${name}`, {
            method: "PUT",
            body: JSON.stringify(body),
            headers: { authorization: "Bearer admin-token-0099" },
          }),
        );

      const missing = await put("missing", { url: `${sink.url}/hooks/missing`, integration: "acme-auth" });
      expect(missing.status).toBe(422);
      expect(await missing.json()).toMatchObject({
        check: { status: 404 },
        error: expect.stringContaining("answered 404"),
      });
      const refused = await put("refused", { url: `http://127.0.0.1:${await unusedPort()}/x` });
      expect(refused.status).toBe(422);
      expect(((await refused.json()) as { error: string }).error).toContain("connection_refused");
      expect(
        (
          await app.fetch(
            new Request("http://h/v1/subscribers/missing", {
              headers: { authorization: "Bearer admin-token-0099" },
            }),
          )
        ).status,
      ).toBe(404);

      expect((await put("outside", { url: `${sink.url}/elsewhere`, integration: "acme-auth" })).status).toBe(
        400,
      );
      expect((await put("nope", { url: `${sink.url}/hooks/x`, integration: "no-such" })).status).toBe(400);
      expect((await put("bad", { url: "ftp://x", batchSize: 0 })).status).toBe(400);
      expect((await put("from-file", { url: `${sink.url}/hooks/x` })).status).toBe(409);

      const gets = sink.requests.length;
      const ok = await put("clicks", {
        url: `${sink.url}/hooks/clicks`,
        integration: "acme-auth",
        statuses: ["CLICKED"],
      });
      expect(ok.status).toBe(201);
      const check = sink.requests[gets]!;
      expect(check.method).toBe("GET");
      expect(check.url).toBe("/hooks/clicks");
      expect(check.headers.authorization).toStartWith("Basic ");
      expect(
        (
          await put("clicks", {
            url: `${sink.url}/hooks/clicks`,
            integration: "acme-auth",
            statuses: ["CLICKED"],
          })
        ).status,
      ).toBe(200);

      // Only the statuses a subscriber wants reach it.
      await enqueueActivities(app, [activity(1, "READ"), activity(2, "CLICKED"), activity(3, "SPAM")]);
      await eventually(() => posts(sink).length >= 2, 10_000, "clicks and spam delivered");
      const byPath = (p: string) =>
        posts(sink)
          .filter((r) => r.url === p)
          .flatMap((r) => JSON.parse(r.body) as Array<{ activityStatus: string }>);
      expect(byPath("/hooks/clicks").map((a) => a.activityStatus)).toEqual(["CLICKED"]);
      expect(byPath("/hooks/file").map((a) => a.activityStatus)).toEqual(["SPAM"]);

      const invalid = await app.fetch(
        new Request("http://h/v1/activities", {
          method: "POST",
          body: JSON.stringify([{ activityStatus: "OPENED", activityDateTime: "2024-01-01T00:00:00" }]),
          headers: { authorization: "Bearer admin-token-0099" },
        }),
      );
      expect(invalid.status).toBe(400);
      expect(((await invalid.json()) as { issues: Array<{ path: string }> }).issues[0]!.path).toBe(
        "0.activityStatus",
      );
      const del = await app.fetch(
        new Request("http://h/v1/subscribers/clicks", {
          method: "DELETE",
          headers: { authorization: "Bearer admin-token-0099" },
        }),
      );
      expect(del.status).toBe(204);
      await app.stop(1_000);
    });

    it("keeps each subscriber's order when two app instances share the store and both send", async () => {
      const answers: Array<{ status: number; body: string }> = [];
      const sink = await startSink(async (r) => {
        if (r.method !== "POST") return { status: 200 };
        const status = answers.length % 3 === 1 ? 500 : 200;
        answers.push({ status, body: r.body });
        return { status, delayMs: (answers.length * 7) % 15 };
      });
      const yaml = config(
        sink.url,
        `  ordered: { url: "${sink.url}/hooks/ordered", batchSize: 3, retry: { base: 30ms, cap: 200ms } }`,
      );
      const apps = [
        await testApp(yaml, driver, { plugins: [activityCallbacks({ pollInterval: 10 })] }),
        await testApp(yaml, driver, { plugins: [activityCallbacks({ pollInterval: 10 })] }),
      ];
      for (const a of apps) await a.start();
      stops.push(async () => {
        for (const a of apps) await a.stop(1_000);
        await sink.close();
      });
      const total = 90;
      for (let i = 0; i < total; i += 3) {
        await enqueueActivities(apps[(i / 3) % 2]!, [
          activity(100 + i),
          activity(101 + i),
          activity(102 + i),
        ]);
        if (i % 9 === 0) await new Promise((res) => setTimeout(res, 15));
      }
      await eventually(
        async () => {
          const [row] = await driver.query<{ n: unknown }>(
            "SELECT count(*) AS n FROM hookline_delivery_state WHERE webhook = 'subscriber.ordered' AND status = 'succeeded'",
          );
          return Number(row!.n) === total;
        },
        30_000,
        "every activity delivered",
      );
      expect(answers.some((a) => a.status === 500)).toBe(true);
      // On the server both instances sent: the order held under contention, not by one sender alone.
      // After each refusal the head waits and whichever sender polls first takes it, a coin flip each
      // time; ~30 refusals make a sender that never wins vanishingly rare. (Two apps on one in-process
      // PGlite share its single connection, and one may win every claim.)
      if (kind.name === "postgres")
        // Logged just after the result is recorded: a moment after the count above may see it.
        for (const a of apps)
          await eventually(
            () => a.logs.some((l) => /"delivery\.succeeded".*"batch":"/.test(l)),
            5_000,
            "each sender's success logged",
          );
      // The POSTs answered 200, in arrival order: every activity once, in the order it was queued.
      const delivered = answers
        .filter((a) => a.status === 200)
        .flatMap((a) => (JSON.parse(a.body) as Array<{ contactId: number }>).map((x) => x.contactId));
      expect(delivered).toEqual(Array.from({ length: total }, (_, i) => 1100 + i));
    });
  });
}
