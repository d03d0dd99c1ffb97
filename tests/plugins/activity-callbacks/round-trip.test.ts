import { afterAll, describe, expect, it } from "bun:test";
import { activityCallbacks, enqueueActivities } from "../../../plugins/activity-callbacks/index.ts";
import { inbound } from "../../../plugins/inbound/index.ts";
import { signature } from "../../../plugins/signature/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { ESPUTNIK_EXAMPLE } from "../../support/esputnik-example.ts";
import { serveApp } from "../../support/serve-app.ts";

const SECRET = `whsec_${btoa("round-trip-signing-key-0123456789")}`;

for (const kind of storeKinds) {
  describe(`hookline to hookline on ${kind.name}`, () => {
    const cleanup: Array<() => Promise<void>> = [];
    afterAll(async () => {
      for (const c of cleanup.reverse()) await c();
    });

    it("a receiver verifies, stores once and fires what a sender signs and sends in batches", async () => {
      const receiverDb = await kind.open();
      let refuse = 1;
      const receiver = await testApp(
        `
webhooks:
  noted: { url: "https://crm.example.com/a", body: "{}" }
triggers:
  - { kind: event, events: ["activity.*"], webhooks: [noted] }
inbound:
  endpoints:
    from-platform: { kind: activity-status, auth: { kind: standardWebhooks, secrets: ["${SECRET}"] } }
`,
        receiverDb,
        { plugins: [inbound()] },
      );
      // The receiver answers its first callback with 503 after storing it, as a flaky proxy would.
      const served = await serveApp({
        http: {
          fetch: async (req: Request, env?: unknown) => {
            const r = await receiver.http.fetch(req, env);
            return req.method === "POST" && refuse-- > 0 ? new Response("busy", { status: 503 }) : r;
          },
        },
      });
      const senderDb = await kind.open();
      const sender = await testApp(
        `
engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
integrations:
  signing: { kind: signature, endpointPrefix: "${served.url}/in", secrets: ["${SECRET}"] }
subscribers:
  receiver: { url: "${served.url}/in/from-platform", integration: signing, batchSize: 3, retry: { base: 50ms, cap: 1s } }
`,
        senderDb,
        { plugins: [signature(), activityCallbacks({ pollInterval: 20 })] },
      );
      cleanup.push(async () => {
        await sender.stop(1_000);
        await served.close();
        await receiver.stop(0);
        await senderDb.dispose();
        await receiverDb.dispose();
      });
      await sender.start();
      const eight = JSON.parse(ESPUTNIK_EXAMPLE) as Array<Record<string, unknown>>;
      expect((await enqueueActivities(sender, eight)).queued).toBe(8);

      await eventually(
        async () =>
          Number(
            (
              await senderDb.query<{ n: unknown }>(
                "SELECT count(*) AS n FROM hookline_delivery_state WHERE webhook = 'subscriber.receiver' AND status = 'succeeded'",
              )
            )[0]!.n,
          ) === 8,
        20_000,
        "every activity delivered",
      );
      const stored = await receiverDb.query<{ activity: string }>(
        "SELECT activity::text AS activity FROM hookline_activities ORDER BY seq",
      );
      // Every activity once, in the sender's order, though the first batch went twice (same webhook-id).
      expect(stored.map((r) => JSON.parse(r.activity))).toEqual(eight);
      expect((await receiver.store.listDeliveries({ webhook: "noted" })).length).toBe(8);
      const attempts = await senderDb.query<{ status: number }>(
        `SELECT a.status FROM hookline_attempts a JOIN hookline_deliveries d ON d.id = a.delivery_id
          WHERE d.webhook = 'subscriber.receiver' AND a.request->'batch'->>'recordedOn' = a.delivery_id::text
          ORDER BY a.started_at`,
      );
      expect(attempts.map((a) => a.status)).toEqual([503, 200, 200, 200]);
    });
  });
}
