import { afterAll, describe, expect, it } from "bun:test";
import { activityCallbacks, enqueueActivities } from "../../../plugins/activity-callbacks/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";
import { type ServedApp, serveApp } from "../../support/serve-app.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
type App = Awaited<ReturnType<typeof testApp>>;

const ADMIN = "admin-token-shared-7f2a";

const config = (sink: string) => `
engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
integrations:
  acme-auth:
    kind: basic
    endpointPrefix: ${sink}/hooks
    username: hookline
    password: shared-store-pw-55e1
`;

const activity = (n: number) => ({
  contactId: 2000 + n,
  activityStatus: "DELIVERED",
  mediaType: "email",
  activityDateTime: "2024-03-01T12:00:00",
});

const call = (base: string, method: string, path: string, body?: unknown) =>
  fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

const posts = (sink: Sink) => sink.requests.filter((r) => r.method === "POST");

/** The delivery of an activity to subscriber `acme`, by the activity's contactId. */
const deliveryOf = async (driver: Driver, contactId: number) =>
  (
    await driver.query<{ status: string; reason: string | null }>(
      `SELECT s.status, s.reason FROM hookline_deliveries c JOIN hookline_delivery_state s ON s.id = c.id
        WHERE c.webhook = 'subscriber.acme' AND (c.context->'event'->'data'->>'contactId')::int = $1`,
      [contactId],
    )
  )[0];

for (const kind of storeKinds) {
  describe(`subscribers shared through the store on ${kind.name}`, () => {
    const cleanup: Array<() => Promise<void>> = [];
    afterAll(async () => {
      for (const c of cleanup.reverse()) await c();
    });

    /**
     * Two apps on one store, as two processes would be: `admin` serves the admin API and sends
     * nothing; `sender` runs the delivery workers. Each checks the subscribers table every
     * `pollInterval`, longer than the test takes to act, so nothing passes by a lucky poll.
     */
    async function twoApps(pollInterval: number, refuse: () => boolean) {
      const sink = await startSink((r) => ({ status: r.method === "POST" && refuse() ? 503 : 200 }));
      const driver = await kind.open();
      const plugins = () => [activityCallbacks({ pollInterval, retry: { base: 50, cap: 100 } })];
      const admin = await testApp(config(sink.url), driver, { plugins: plugins(), adminToken: ADMIN });
      const sender = await testApp(config(sink.url), driver, { plugins: plugins(), adminToken: ADMIN });
      await admin.start({ workers: false });
      await sender.start();
      const apis: ServedApp[] = [await serveApp(admin), await serveApp(sender)];
      cleanup.push(async () => {
        for (const api of apis) await api.close();
        await sender.stop(1_000);
        await admin.stop(1_000);
        await sink.close();
        await driver.dispose();
      });
      const put = await call(apis[0]!.url, "PUT", "/v1/subscribers/acme", {
        url: `${sink.url}/hooks/acme`,
        integration: "acme-auth",
        batchSize: 2,
        retry: { base: "50ms", cap: "100ms" },
      });
      expect(put.status).toBe(201);
      expect(sink.requests.map((r) => r.method)).toEqual(["GET"]);
      return { sink, driver, admin, sender: sender as App, adminApi: apis[0]!, senderApi: apis[1]! };
    }

    it("a subscriber saved through one app's admin API is sent to by another app's workers, and deleting it there stops them", async () => {
      let refuse = false;
      const { sink, driver, sender, adminApi, senderApi } = await twoApps(300, () => refuse);

      // Posted to the other app at once: it must not drop activities for a subscriber saved a moment ago.
      const first = await call(senderApi.url, "POST", "/v1/activities", [activity(1), activity(2)]);
      expect(first.status).toBe(202);
      expect(await first.json()).toEqual({ received: 2, queued: 2 });
      await eventually(() => posts(sink).length >= 1, 10_000, "the subscriber's first batch");
      expect(JSON.parse(posts(sink)[0]!.body).map((a: { contactId: number }) => a.contactId)).toEqual([
        2001, 2002,
      ]);
      expect(posts(sink)[0]!.headers.authorization).toBe(`Basic ${btoa("hookline:shared-store-pw-55e1")}`);
      await eventually(
        async () => (await deliveryOf(driver, 2002))?.status === "succeeded",
        15_000,
        "the batch recorded",
      );
      // Logged once the result is recorded, which is after the sink has answered.
      await eventually(
        () => sender.logs.some((l) => /"delivery\.succeeded".*"batch":"/.test(l)),
        5_000,
        "the batch's success logged",
      );

      // A batch the subscriber keeps refusing: retried by the sender until the admin app deletes it.
      refuse = true;
      const second = await call(senderApi.url, "POST", "/v1/activities", [activity(3)]);
      expect(await second.json()).toEqual({ received: 1, queued: 1 });
      await eventually(() => posts(sink).length >= 3, 10_000, "the refused batch retried");

      expect((await call(adminApi.url, "DELETE", "/v1/subscribers/acme")).status).toBe(204);
      // The sender drops the webhook at its next poll; the retried delivery then ends, unsent.
      await eventually(
        async () => (await deliveryOf(driver, 2003))?.status === "failed",
        15_000,
        "the refused delivery ended",
      );
      expect((await deliveryOf(driver, 2003))?.reason).toContain("no longer configured");
      // New activities reach the deleted subscriber no more, and nothing more is sent to it.
      const third = await call(senderApi.url, "POST", "/v1/activities", [activity(4)]);
      expect(await third.json()).toEqual({ received: 1, queued: 0 });
      const sent = posts(sink).length;
      await new Promise((r) => setTimeout(r, 800));
      expect(posts(sink).length).toBe(sent);
      expect((await call(senderApi.url, "GET", "/v1/subscribers/acme")).status).toBe(404);
    });

    // The sender's workers claim the delivery before their own poll has seen the subscriber: they
    // reload the catalogue (the plugin's reloader) and send it rather than fail it as unknown.
    it("an activity posted to the admin app just after it saved a subscriber is sent by a worker of another app", async () => {
      const { sink, driver, admin } = await twoApps(60_000, () => false);
      expect(await enqueueActivities(admin, [activity(5)])).toEqual({ received: 1, queued: 1 });
      const ended = await eventually(
        async () => {
          const d = await deliveryOf(driver, 2005);
          return d && d.status !== "pending" && d.status !== "in_flight" ? d : undefined;
        },
        15_000,
        "the delivery ended",
      );
      expect(ended).toEqual({ status: "succeeded", reason: null });
      expect(posts(sink).length).toBe(1);
    });
  });
}
