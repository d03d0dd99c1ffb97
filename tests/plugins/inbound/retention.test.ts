import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { inbound, sweepInbound } from "../../../plugins/inbound/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { ESPUTNIK_EXAMPLE } from "../../support/esputnik-example.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

const DAY = 86_400_000;
const config = `
inbound:
  endpoints:
    esputnik: { kind: activity-status, auth: { kind: none } }
`;

for (const kind of storeKinds) {
  describe(`inbound retention on ${kind.name}`, () => {
    let driver: Driver;
    let app: Awaited<ReturnType<typeof testApp>>;

    beforeAll(async () => {
      driver = await kind.open();
      app = await testApp(config, driver, { plugins: [inbound()] });
    });
    afterAll(async () => {
      await app.stop(0);
      await driver.dispose();
    });

    const receive = async (key: string, body: string) => {
      const r = await app.fetch(
        new Request("http://h/in/esputnik", {
          method: "POST",
          headers: { "content-type": "application/json", "idempotency-key": key },
          body,
        }),
      );
      expect(r.status).toBe(200);
    };
    const count = async (table: string) =>
      Number((await driver.query<{ n: unknown }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);
    const backdate = (table: string, days: number, where: string) =>
      driver.query(`UPDATE ${table} SET received_at = now() - $1 * interval '1 day' WHERE ${where}`, [days]);

    it("deletes activities and receipts older than their retention in chunks; newer ones stay", async () => {
      await receive("req-old", ESPUTNIK_EXAMPLE);
      const recent = JSON.stringify(
        (JSON.parse(ESPUTNIK_EXAMPLE) as object[]).map((a) => ({
          ...a,
          activityDateTime: "2024-01-01T00:00:00",
        })),
      );
      await receive("req-new", recent);
      expect(await count("hookline_activities")).toBe(16);
      await backdate("hookline_activities", 31, "activity->>'activityDateTime' <> '2024-01-01T00:00:00'");
      // 29 days: inside the activities' retention, outside the receipts'.
      await backdate("hookline_activities", 29, "activity->>'activityDateTime' = '2024-01-01T00:00:00'");
      await backdate("hookline_inbound_receipts", 8, "request_key LIKE '%req-old%'");

      // A chunk of 3 rows: the sweep goes on statement after statement until none is left.
      const gone = await sweepInbound(driver, { receipts: 7 * DAY, activities: 30 * DAY }, 3);
      expect(gone).toEqual({ receipts: 1, activities: 8 });
      const left = await driver.query<{ d: string }>(
        "SELECT DISTINCT activity->>'activityDateTime' AS d FROM hookline_activities",
      );
      expect(left.map((r) => r.d)).toEqual(["2024-01-01T00:00:00"]);
      expect(await count("hookline_activities")).toBe(8);
      expect(await count("hookline_inbound_receipts")).toBe(1);

      // 0 keeps everything.
      expect(await sweepInbound(driver, { receipts: 0, activities: 0 })).toEqual({
        receipts: 0,
        activities: 0,
      });
      expect(await count("hookline_activities")).toBe(8);
    });

    it("sweeps with the plugin's retention when the app starts (then hourly)", async () => {
      await backdate("hookline_activities", 3, "true");
      const sweeping = await testApp(config, driver, { plugins: [inbound({ activityRetention: 2 * DAY })] });
      try {
        await sweeping.start({ workers: false });
        await eventually(async () => (await count("hookline_activities")) === 0, 10_000, "the sweep");
        // Logged once the sweep has committed, a moment after the count above may see it.
        await eventually(
          () => sweeping.logs.some((l) => l.includes('"inbound.swept"')),
          5_000,
          "the sweep logged",
        );
      } finally {
        await sweeping.stop(0);
      }
    });
  });
}
