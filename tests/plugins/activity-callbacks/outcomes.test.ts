import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { activityCallbacks } from "../../../plugins/activity-callbacks/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
type Received = Record<string, unknown> & { iid?: string; activityStatus: string };

const ADMIN = "admin-token-outcomes";

const config = (sink: string) => `
engine:
  concurrency: 1
  pollInterval: 20ms
  abortAfter: 2
  retry: { delays: [20ms], jitter: 0 }
  allowNetworks: ["127.0.0.1/32"]
webhooks:
  crm-sync: { url: "${sink}/crm", body: "{}" }
  crm-order: { url: "${sink}/order", body: "{}" }
  bulk: { url: "${sink}/denied", body: "{}" }
triggers:
  - { kind: event, events: [signup], webhooks: [crm-sync] }
  - { kind: event, events: [order], webhooks: [crm-order] }
  - { kind: event, events: [campaign], webhooks: [bulk] }
subscribers:
  outcomes: { url: "${sink}/hooks/outcomes", webhooks: [crm-sync, crm-order, bulk] }
  failures: { url: "${sink}/hooks/failures", webhooks: [crm-sync, crm-order], statuses: [UNDELIVERED] }
  plain: { url: "${sink}/hooks/plain" }
`;

/** Activities POSTed to one subscriber path, in the order they arrived. */
const receivedAt = (sink: Sink, path: string): Received[] =>
  sink.requests
    .filter((r) => r.method === "POST" && r.url === path)
    .flatMap((r) => JSON.parse(r.body) as Received[]);

for (const kind of storeKinds) {
  describe(`delivery outcomes as activity-status callbacks on ${kind.name}`, () => {
    let driver: Driver;
    let sink: Sink;
    let app: Awaited<ReturnType<typeof testApp>>;
    let crmCalls = 0;

    beforeAll(async () => {
      driver = await kind.open();
      sink = await startSink((r) => {
        if (r.url === "/crm") return { status: crmCalls++ === 0 ? 503 : 200 };
        if (r.url === "/order") return { status: 422, body: '{"error":"no such order"}' };
        if (r.url === "/denied") return { status: 401, delayMs: 10 };
        return { status: 200 };
      });
      app = await testApp(config(sink.url), driver, {
        plugins: [activityCallbacks({ pollInterval: 20, retry: { base: 50, cap: 1_000 } })],
        adminToken: ADMIN,
      });
      await app.start();
    });
    afterAll(async () => {
      await app.stop(1_000);
      await sink.close();
      await driver.dispose();
    });

    const settled = (id: string, status: string) =>
      eventually(async () => (await app.store.getDelivery(id))?.status === status, 15_000, `${id} ${status}`);

    it("sends a subscriber DELIVERED and UNDELIVERED activities for the webhooks it names, in order, in eSputnik's format", async () => {
      const first = await app.publish({
        type: "signup",
        customer: { id: 42, email: "ada@example.com", phone: "+420600000042" },
      });
      const d1 = first.events[0]!.deliveries[0]!.id;
      await settled(d1, "succeeded");
      const second = await app.publish({
        type: "order",
        id: "order-7",
        customer: { id: "c-7", email: "bob@example.com" },
      });
      const d2 = second.events[0]!.deliveries[0]!.id;
      await settled(d2, "failed");
      const third = await app.publish({ type: "signup", customer: { id: "0043x" } });
      const d3 = third.events[0]!.deliveries[0]!.id;
      await settled(d3, "succeeded");

      const got = await eventually(
        () => {
          const a = receivedAt(sink, "/hooks/outcomes");
          return a.length >= 3 ? a : undefined;
        },
        15_000,
        "three outcome activities",
      );
      // The first delivery was refused with 503 once and retried: the retry is no activity, its success is one.
      expect(got.map((a) => [a.iid, a.activityStatus])).toEqual([
        [d1, "DELIVERED"],
        [d2, "UNDELIVERED"],
        [d3, "DELIVERED"],
      ]);
      const iso = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      expect(got[0]).toEqual({
        activityStatus: "DELIVERED",
        activityDateTime: iso,
        iid: d1,
        contactId: 42,
        externalCustomerId: "42",
        email: "ada@example.com",
        sms: "+420600000042",
        sourceEventKey: first.events[0]!.id,
        sourceEventTypeKey: "signup",
        mediaType: "WEBHOOK",
        messageTag: "crm-sync",
        statusDescription: "HTTP 200",
      });
      // A customer id that is not an integer is no contactId (eSputnik's is an int), only the external id.
      expect(got[1]).toEqual({
        activityStatus: "UNDELIVERED",
        activityDateTime: iso,
        iid: d2,
        externalCustomerId: "c-7",
        email: "bob@example.com",
        sourceEventKey: "order-7",
        sourceEventTypeKey: "order",
        mediaType: "WEBHOOK",
        messageTag: "crm-order",
        statusDescription: "HTTP 422",
      });
      expect(got[2]).not.toHaveProperty("contactId");
      expect(got[2]).toMatchObject({ externalCustomerId: "0043x", statusDescription: "HTTP 200" });

      // The statuses filter applies: this subscriber wants UNDELIVERED only.
      await eventually(() => receivedAt(sink, "/hooks/failures").length >= 1, 10_000, "the failure");
      // A subscriber naming no webhooks gets none of them; activities from the API still reach everyone.
      const api = await app.fetch(
        new Request("http://h/v1/activities", {
          method: "POST",
          headers: { authorization: `Bearer ${ADMIN}` },
          body: JSON.stringify([
            { activityStatus: "READ", activityDateTime: "2024-05-01T10:00:00", contactId: 9 },
          ]),
        }),
      );
      expect(await api.json()).toEqual({ received: 1, queued: 2 });
      await eventually(() => receivedAt(sink, "/hooks/plain").length >= 1, 10_000, "the API activity");
      await eventually(() => receivedAt(sink, "/hooks/outcomes").length >= 4, 10_000, "the API activity");
      await new Promise((r) => setTimeout(r, 200));
      expect(receivedAt(sink, "/hooks/plain").map((a) => a.activityStatus)).toEqual(["READ"]);
      expect(receivedAt(sink, "/hooks/failures").map((a) => [a.iid, a.activityStatus])).toEqual([
        [d2, "UNDELIVERED"],
      ]);
      expect(receivedAt(sink, "/hooks/outcomes").length).toBe(4);
    });

    it("sends UNDELIVERED for each delivery of a run aborted after engine.abortAfter failures, with the reason", async () => {
      const before = receivedAt(sink, "/hooks/outcomes").length;
      const run = await app.publish(
        Array.from({ length: 20 }, (_, n) => ({ type: "campaign", data: { n } })),
      );
      const ids = run.events.map((e) => e.deliveries[0]!.id);
      const ended = await eventually(
        async () => {
          const ds = await Promise.all(ids.map((id) => app.store.getDelivery(id)));
          return ds.every((d) => d && ["failed", "aborted"].includes(d.status))
            ? ds.map((d) => d!)
            : undefined;
        },
        15_000,
        "the run to end",
      );
      expect(ended.some((d) => d.status === "aborted")).toBe(true);
      const got = await eventually(
        () => {
          const a = receivedAt(sink, "/hooks/outcomes").slice(before);
          return a.length >= 20 ? a : undefined;
        },
        15_000,
        "20 UNDELIVERED activities",
      );
      expect(got.map((a) => a.iid).sort()).toEqual([...ids].sort());
      expect(got.every((a) => a.activityStatus === "UNDELIVERED" && a.messageTag === "bulk")).toBe(true);
      const why = new Map(got.map((a) => [a.iid, a.statusDescription]));
      for (const d of ended) {
        if (d.status === "aborted") expect(why.get(d.id)).toMatch(/^aborted after 2 unrecoverable outcomes/);
        else expect(why.get(d.id)).toBe("HTTP 401");
      }
      // Not a subscriber of `bulk`: nothing.
      expect(receivedAt(sink, "/hooks/failures").length).toBe(1);
    });

    it("shows a subscriber's webhooks, and refuses one naming a webhook that does not exist", async () => {
      const put = (name: string, body: unknown) =>
        app.fetch(
          new Request(`http://h/v1/subscribers/${name}`, {
            method: "PUT",
            headers: { authorization: `Bearer ${ADMIN}` },
            body: JSON.stringify(body),
          }),
        );
      const bad = await put("typo", { url: `${sink.url}/hooks/typo`, webhooks: ["crm-sync", "crm-sinc"] });
      expect(bad.status).toBe(400);
      expect(((await bad.json()) as { error: string }).error).toBe(
        'unknown webhook "crm-sinc" in webhooks; expected one of: crm-sync, crm-order, bulk',
      );
      const ok = await put("api-outcomes", { url: `${sink.url}/hooks/api`, webhooks: ["crm-order"] });
      expect(ok.status).toBe(201);
      const shown = (await (
        await app.fetch(
          new Request("http://h/v1/subscribers/api-outcomes", {
            headers: { authorization: `Bearer ${ADMIN}` },
          }),
        )
      ).json()) as Record<string, unknown>;
      expect(shown).toMatchObject({ webhooks: ["crm-order"], statuses: "all", source: "api" });
      const plain = (await (
        await app.fetch(
          new Request("http://h/v1/subscribers/plain", { headers: { authorization: `Bearer ${ADMIN}` } }),
        )
      ).json()) as Record<string, unknown>;
      expect(plain.webhooks).toEqual([]);

      // An API subscriber gets the outcomes recorded after it was saved.
      const order = await app.publish({ type: "order", customer: { id: 5 } });
      const id = order.events[0]!.deliveries[0]!.id;
      await eventually(
        () => receivedAt(sink, "/hooks/api").length >= 1,
        15_000,
        "the API subscriber's outcome",
      );
      expect(receivedAt(sink, "/hooks/api")).toMatchObject([
        { iid: id, activityStatus: "UNDELIVERED", contactId: 5 },
      ]);
    });

    it("refuses at start a config-file subscriber naming a webhook that does not exist", async () => {
      const other = await kind.open();
      const broken = await testApp(
        `
webhooks:
  crm-sync: { url: "https://crm.example.com/a", body: "{}" }
subscribers:
  acme: { url: "https://acme.example.com/hooks", webhooks: [crm-sync, nope] }
`,
        other,
        { plugins: [activityCallbacks()] },
      );
      try {
        await expect(broken.start()).rejects.toThrow(
          'subscribers.acme: unknown webhook "nope" in webhooks; expected one of: crm-sync',
        );
      } finally {
        await broken.stop(0);
        await other.dispose();
      }
    });
  });
}

describe("outcome activities wake the sender", () => {
  it("delivers an outcome's activity at once, though the sender polls only every minute", async () => {
    const driver = await storeKinds[0]!.open();
    const sink = await startSink(() => ({ status: 200 }));
    const app = await testApp(
      `
engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
webhooks:
  crm-sync: { url: "${sink.url}/crm", body: "{}" }
triggers:
  - { kind: event, events: [signup], webhooks: [crm-sync] }
subscribers:
  outcomes: { url: "${sink.url}/hooks/outcomes", webhooks: [crm-sync] }
`,
      driver,
      { plugins: [activityCallbacks({ pollInterval: 60_000 })] },
    );
    try {
      await app.start();
      // Let the sender finish its first round and go to sleep for its minute.
      await new Promise((r) => setTimeout(r, 300));
      await app.publish({ type: "signup", customer: { id: 5, email: "eve@example.com" } });
      const got = await eventually(
        () => receivedAt(sink, "/hooks/outcomes")[0],
        10_000,
        "the DELIVERED activity",
      );
      expect(got).toMatchObject({ activityStatus: "DELIVERED", contactId: 5, messageTag: "crm-sync" });
    } finally {
      await app.stop(1_000);
      await sink.close();
      await driver.dispose();
    }
  });
});
