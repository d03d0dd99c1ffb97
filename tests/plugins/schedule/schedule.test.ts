import { afterAll, afterEach, beforeAll, describe, expect, it } from "bun:test";
import { schedule } from "../../../plugins/schedule/index.ts";
import { ScheduleOptions } from "../../../plugins/schedule/trigger.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A clock the test moves by hand. */
const clockAt = (iso: string) => {
  let t = Date.parse(iso);
  return {
    now: () => t,
    set: (to: string) => {
      t = Date.parse(to);
    },
  };
};

const yaml = (
  sinkUrl: string,
  trigger: string,
) => `engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
webhooks:
  digest: { url: "${sinkUrl}/digest", body: '{"tick": <%= json(it.event.data.tick) %>, "late": <%= it.event.data.late %>}' }
triggers: [${trigger}]
`;

describe("schedule trigger options", () => {
  it("reads a cron expression in its time zone, and names what is wrong with one", () => {
    expect(ScheduleOptions.safeParse({ cron: "0 9 * * 1-5", timezone: "Europe/Amsterdam" }).success).toBe(
      true,
    );
    const bad = ScheduleOptions.safeParse({ cron: "61 * * * *" });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.path).toEqual(["cron"]);
    expect(bad.error!.issues[0]!.message).toContain("invalid cron expression");
    const zone = ScheduleOptions.safeParse({ cron: "0 9 * * *", timezone: "Mars/Olympus" });
    expect(zone.error!.issues[0]!.path).toEqual(["timezone"]);
    expect(ScheduleOptions.safeParse({}).error!.issues[0]!.message).toContain("either cron or at");
    expect(ScheduleOptions.safeParse({ cron: "* * * * *", at: "2026-01-01T00:00:00Z" }).success).toBe(false);
  });
});

for (const kind of storeKinds) {
  describe(`schedule triggers on ${kind.name}`, () => {
    let sink: Sink;
    let driver: Awaited<ReturnType<typeof kind.open>>;
    const apps: Array<{ stop(ms?: number): Promise<void> }> = [];

    beforeAll(async () => {
      sink = await startSink(() => ({ status: 200 }));
    });
    afterAll(async () => {
      await sink.close();
    });
    afterEach(async () => {
      for (const a of apps.splice(0)) await a.stop(500);
      await driver?.dispose();
      sink.requests.length = 0;
    });

    const start = async (trigger: string, now: () => number, d = driver) => {
      const app = await testApp(yaml(sink.url, trigger), d, {
        plugins: [schedule({ now, checkEvery: 20 })],
      });
      await app.start();
      apps.push(app);
      return app;
    };
    const ticks = () => sink.requests.map((r) => JSON.parse(r.body).tick as string).sort();

    it("fires each tick of a cron expression in its time zone once, across two processes sharing the store", async () => {
      driver = await kind.open();
      // 09:00 in New York is 14:00 UTC in December.
      const clock = clockAt("2026-12-07T13:58:30Z");
      const trigger = `{ kind: schedule, name: digest, cron: "0,1 9 * * *", timezone: America/New_York, webhooks: [digest] }`;
      const a = await start(trigger, clock.now);
      const b = await start(trigger, clock.now);
      await sleep(200);
      expect(sink.requests).toHaveLength(0);
      clock.set("2026-12-07T14:00:00.500Z");
      await eventually(() => sink.requests.length === 1, 10_000, "the 14:00 tick");
      clock.set("2026-12-07T14:01:00.200Z");
      await eventually(() => sink.requests.length === 2, 10_000, "the 14:01 tick");
      // Both processes looked many times in between: still one delivery per tick.
      await sleep(300);
      expect(ticks()).toEqual(["2026-12-07T14:00:00.000Z", "2026-12-07T14:01:00.000Z"]);
      expect(JSON.parse(sink.requests[0]!.body).late).toBe(false);
      // One process fired each tick (the claim), not both with the second writing nothing. The line
      // is logged once the schedule is moved on, after the tick's delivery the sink may have seen.
      const fired = () => [...a.logs, ...b.logs].filter((l) => l.includes("schedule.fired"));
      await eventually(() => fired().length >= 2, 10_000, "both ticks' fired lines");
      expect(fired()).toHaveLength(2);
      // A tick is a bulk run of its own: claimed after events' deliveries.
      const marks = await driver.query<{ bulk: boolean }>("SELECT bulk FROM hookline_delivery_state");
      expect(marks.map((m) => m.bulk)).toEqual([true, true]);
      const runs = await a.store.listRuns({ limit: 10 });
      expect(runs.map((r) => r.id).sort()).toEqual([
        "schedule.digest.2026-12-07T14:00:00.000Z",
        "schedule.digest.2026-12-07T14:01:00.000Z",
      ]);
    });

    it("fires a tick missed while no process ran once on start (catchUp: once), not once per missed tick", async () => {
      driver = await kind.open();
      const clock = clockAt("2026-12-07T10:00:30Z");
      const trigger = `{ kind: schedule, name: hourly, cron: "5 * * * *", webhooks: [digest] }`;
      const first = await start(trigger, clock.now);
      await sleep(100);
      await first.stop(500);
      apps.length = 0;
      // Everything was down from 10:00 to 13:30: the 10:05, 11:05, 12:05 and 13:05 ticks were missed.
      clock.set("2026-12-07T13:30:00Z");
      await start(trigger, clock.now);
      await eventually(() => sink.requests.length === 1, 10_000, "the missed tick");
      await sleep(300);
      expect(sink.requests).toHaveLength(1);
      expect(JSON.parse(sink.requests[0]!.body)).toEqual({ tick: "2026-12-07T10:05:00.000Z", late: true });
      // Then on at the next tick after now.
      clock.set("2026-12-07T14:05:00.100Z");
      await eventually(() => sink.requests.length === 2, 10_000, "the 14:05 tick");
      expect(ticks()[1]).toBe("2026-12-07T14:05:00.000Z");
    });

    it("skips a missed tick with catchUp: skip, and fires the next on time", async () => {
      driver = await kind.open();
      const clock = clockAt("2026-12-07T10:00:30Z");
      const trigger = `{ kind: schedule, name: hourly-skip, cron: "5 * * * *", catchUp: skip, webhooks: [digest] }`;
      const first = await start(trigger, clock.now);
      await sleep(100);
      await first.stop(500);
      apps.length = 0;
      clock.set("2026-12-07T13:30:00Z");
      const app = await start(trigger, clock.now);
      await eventually(
        async () => app.logs.some((l) => l.includes("schedule.skipped")),
        10_000,
        "the skip logged",
      );
      await sleep(200);
      expect(sink.requests).toHaveLength(0);
      clock.set("2026-12-07T14:05:01Z");
      await eventually(() => sink.requests.length === 1, 10_000, "the 14:05 tick");
      expect(JSON.parse(sink.requests[0]!.body)).toEqual({ tick: "2026-12-07T14:05:00.000Z", late: false });
    });

    it("fires a one-off `at` once and never again, also after a restart", async () => {
      driver = await kind.open();
      const clock = clockAt("2026-12-07T09:59:00Z");
      const trigger = `{ kind: schedule, name: launch, at: "2026-12-07T10:00:00Z", webhooks: [digest] }`;
      const app = await start(trigger, clock.now);
      clock.set("2026-12-07T10:00:00.010Z");
      await eventually(() => sink.requests.length === 1, 10_000, "the one-off");
      await app.stop(500);
      apps.length = 0;
      clock.set("2026-12-07T11:00:00Z");
      await start(trigger, clock.now);
      await sleep(400);
      expect(sink.requests).toHaveLength(1);
    });

    it("fires again a tick whose process died while firing it, once its lease ran out, without a second delivery", async () => {
      driver = await kind.open();
      const clock = clockAt("2026-12-07T10:04:00Z");
      const trigger = `{ kind: schedule, name: crashy, cron: "5 * * * *", webhooks: [digest] }`;
      const app = await start(trigger, clock.now);
      await sleep(100);
      await app.stop(500);
      apps.length = 0;
      // A process claimed the 10:05 tick and died before it moved the schedule on.
      await driver.query(
        `UPDATE hookline_schedules SET firing_at = next_at, owner = 'dead', lease_until = '2026-12-07T10:05:30Z' WHERE key = 'crashy'`,
      );
      clock.set("2026-12-07T10:05:10Z");
      await start(trigger, clock.now);
      await sleep(300);
      expect(sink.requests).toHaveLength(0); // still its lease
      clock.set("2026-12-07T10:05:31Z");
      await eventually(() => sink.requests.length === 1, 10_000, "the tick taken over");
      await sleep(200);
      expect(ticks()).toEqual(["2026-12-07T10:05:00.000Z"]);
      // The schedule is moved on after the tick's delivery is written, which the sink may see first.
      const row = await eventually(
        async () => {
          const [r] = await driver.query<{ next_at: Date; last_outcome: string }>(
            "SELECT next_at, last_outcome FROM hookline_schedules WHERE key = 'crashy'",
          );
          return r?.last_outcome === "fired" ? r : undefined;
        },
        10_000,
        "the tick recorded as fired",
      );
      expect(row.last_outcome).toBe("fired");
      expect(new Date(row.next_at).toISOString()).toBe("2026-12-07T11:05:00.000Z");
    });
  });
}
