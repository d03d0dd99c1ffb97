/**
 * The activity store's group commit, below the receivers' validation: a request whose row cannot be
 * encoded, or whose data the store refuses, fails alone; the requests sharing its batch are stored.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "bun:test";
import type { Activity } from "../../../core/model/activity.ts";
import { ActivityStore } from "../../../plugins/inbound/activity-status.ts";
import { refusedData } from "../../../plugins/inbound/group-commit.ts";
import { inbound } from "../../../plugins/inbound/index.ts";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";

const config = `
inbound:
  endpoints:
    esputnik: { kind: activity-status, auth: { kind: none } }
`;

const pending = (n: number, extra: Record<string, unknown> = {}) => ({
  endpoint: "esputnik",
  runId: `in.esputnik.gc-${n}`,
  activities: [
    {
      key: `gc-key-${n}`,
      activity: {
        contactId: n,
        activityStatus: "READ",
        activityDateTime: "2024-01-01T10:00:00",
        ...extra,
      } as Activity,
    },
  ],
});

/** Arrays nested `levels` deep, built without recursion: JSON.stringify overflows on it. */
const nested = (levels: number): unknown => {
  let v: unknown = null;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
};

for (const kind of storeKinds) {
  describe(`activity group commit on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<typeof kind.open>>;
    let app: Awaited<ReturnType<typeof testApp>>;
    let store: ActivityStore;

    beforeAll(async () => {
      driver = await kind.open();
      app = await testApp(config, driver, { plugins: [inbound()] });
      // A long linger: every write below joins one batch.
      store = new ActivityStore(app.host, { lingerMs: 50, concurrency: 1 });
    });
    afterAll(async () => {
      await app.stop(0);
      await driver.dispose();
    });
    beforeEach(async () => {
      await driver.query("DELETE FROM hookline_activities");
    });

    const storedKeys = async () =>
      (await driver.query<{ k: string }>("SELECT dedupe_key AS k FROM hookline_activities ORDER BY k")).map(
        (r) => r.k,
      );

    it("fails a request whose activity cannot be encoded (nested past the stack) alone, and stores its neighbours", async () => {
      const results = await Promise.allSettled([
        store.write(pending(1)),
        store.write(pending(2, { partner: nested(1_000_000) })),
        store.write(pending(3)),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      const error = (results[1] as PromiseRejectedResult).reason as { code?: string; message: string };
      expect(error.code).toBe("HOOKLINE_INBOUND_UNSTORABLE");
      expect(error.message).toMatch(/activity 0 cannot be encoded as JSON/);
      expect(await storedKeys()).toEqual(["gc-key-1", "gc-key-3"]);
    });

    it("fails a request whose data the store refuses (NUL, SQLSTATE 22) alone, and says it is the data's fault", async () => {
      const results = await Promise.allSettled([
        store.write(pending(4)),
        store.write(pending(5, { partner: "x\u0000" })),
        store.write(pending(6)),
      ]);
      expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
      // The receiver answers 400 on this (a retry would fail the same way), not 500.
      expect(refusedData((results[1] as PromiseRejectedResult).reason)).toMatch(/^22/);
      expect(await storedKeys()).toEqual(["gc-key-4", "gc-key-6"]);
    });

    it("does not call a store that is down a data fault", () => {
      const down = Object.assign(new Error("connection refused"), { code: "ECONNREFUSED" });
      expect(refusedData(down)).toBeUndefined();
      expect(refusedData(Object.assign(new Error("deadlock"), { code: "40P01" }))).toBeUndefined();
      expect(
        refusedData(new Error("wrapped", { cause: Object.assign(new Error("x"), { code: "22P05" }) })),
      ).toBe("22P05");
    });
  });
}
