import { afterAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SqlDriver } from "../../../core/contracts/store.ts";
import { inbound } from "../../../plugins/inbound/index.ts";
import { pgliteDriver } from "../../../plugins/pglite/index.ts";
import { postgresDriver } from "../../../plugins/postgres/index.ts";
import { testApp } from "../../support/app.ts";
import { freshDatabase, storeKinds } from "../../support/db.ts";
import { type OutageDriver, outageDriver } from "../../support/outage.ts";
import { serveApp } from "../../support/serve-app.ts";

const config = `
webhooks:
  record: { url: "https://crm.example.com/a", body: "{}" }
triggers:
  - { kind: event, events: ["activity.*"], webhooks: [record] }
inbound:
  endpoints:
    esputnik: { kind: activity-status, auth: { kind: basic, users: [{ username: esputnik, password: load-test-pw }] } }
`;
const AUTH = `Basic ${btoa("esputnik:load-test-pw")}`;

/** A callback of two activities, unique to `n`. */
const callback = (n: number) =>
  JSON.stringify([
    {
      contactId: n,
      email: `c${n}@example.com`,
      activityStatus: "DELIVERED",
      mediaType: "email",
      messageInstanceId: n,
      activityDateTime: "2024-01-01T10:00:00",
    },
    {
      contactId: n,
      email: `c${n}@example.com`,
      activityStatus: "READ",
      mediaType: "email",
      messageInstanceId: n,
      activityDateTime: "2024-01-01T10:05:00",
    },
  ]);

const count = async (db: SqlDriver, sql: string) => Number((await db.query<{ n: unknown }>(sql))[0]!.n);

/** A store that can be stopped and started again, with its data kept, per store kind. */
async function reopenable(kind: string): Promise<{ db: OutageDriver; dispose(): Promise<void> }> {
  if (kind === "postgres") {
    const fresh = await freshDatabase();
    const db = await outageDriver(async () => postgresDriver({ url: fresh.url, max: 5 }));
    const dispose = async () => {
      await db.close();
      await fresh.drop();
    };
    return { db, dispose };
  }
  const dir = mkdtempSync(join(tmpdir(), "hookline-outage-"));
  const db = await outageDriver(() => pgliteDriver({ dataDir: dir }));
  const dispose = async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { db, dispose };
}

for (const kind of storeKinds) {
  describe(`inbound under load on ${kind.name}`, () => {
    const cleanup: Array<() => Promise<void>> = [];
    afterAll(async () => {
      for (const c of cleanup.reverse()) await c();
    });

    it("stores 200 concurrent requests exactly once each, and their 200 replays store nothing", async () => {
      const driver = await kind.open();
      const app = await testApp(config, driver, { plugins: [inbound()] });
      const served = await serveApp(app);
      cleanup.push(async () => {
        await served.close();
        await app.stop(0);
        await driver.dispose();
      });
      const send = (n: number) =>
        fetch(`${served.url}/in/esputnik`, {
          method: "POST",
          body: callback(n),
          headers: { "content-type": "application/json", authorization: AUTH },
        }).then(async (r) => ({
          status: r.status,
          body: (await r.json()) as { result: Record<string, unknown> },
        }));
      const first = await Promise.all(Array.from({ length: 200 }, (_, n) => send(n)));
      expect(first.filter((r) => r.status !== 200)).toEqual([]);
      expect(first.every((r) => r.body.result.stored === 2)).toBe(true);
      expect(await count(driver, "SELECT count(*) AS n FROM hookline_activities")).toBe(400);
      expect(
        await count(driver, "SELECT count(DISTINCT (activity->>'contactId')) AS n FROM hookline_activities"),
      ).toBe(200);
      expect(await count(driver, "SELECT count(*) AS n FROM hookline_deliveries")).toBe(400);

      const replays = await Promise.all(Array.from({ length: 200 }, (_, n) => send(n)));
      expect(replays.every((r) => r.status === 200 && r.body.result.replayed === true)).toBe(true);
      expect(await count(driver, "SELECT count(*) AS n FROM hookline_activities")).toBe(400);
      expect(await count(driver, "SELECT count(*) AS n FROM hookline_deliveries")).toBe(400);
    });

    it("answers 500 while the store is stopped; after it returns, everything answered 200 is there", async () => {
      const { db, dispose } = await reopenable(kind.name);
      const app = await testApp(config, db, { plugins: [inbound()] });
      const served = await serveApp(app);
      cleanup.push(async () => {
        await served.close();
        await app.stop(0);
        await dispose();
      });
      const statuses = new Map<number, number>();
      const send = async (n: number) => {
        try {
          const r = await fetch(`${served.url}/in/esputnik`, {
            method: "POST",
            body: callback(n),
            headers: { "content-type": "application/json", authorization: AUTH },
          });
          await r.arrayBuffer();
          statuses.set(n, r.status);
        } catch {
          statuses.set(n, -1);
        }
      };
      // 240 callbacks, 20 in flight; the store stops after the 60th answer and returns after the 140th.
      let next = 0;
      let answered = 0;
      let stopped: Promise<void> | undefined;
      let started: Promise<void> | undefined;
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          while (next < 240) {
            await send(next++);
            answered++;
            if (answered === 60) stopped = db.stop();
            if (answered === 140)
              started = (async () => {
                await stopped;
                await db.start();
              })();
          }
        }),
      );
      await started;
      const ok = [...statuses].filter(([, s]) => s === 200).map(([n]) => n);
      const failed = [...statuses].filter(([, s]) => s !== 200);
      expect(failed.length).toBeGreaterThan(0);
      expect(new Set(failed.map(([, s]) => s))).toEqual(new Set([500]));
      const storedIds = new Set(
        (
          await db.query<{ id: unknown }>(
            "SELECT DISTINCT (activity->>'contactId')::int AS id FROM hookline_activities",
          )
        ).map((r) => Number(r.id)),
      );
      for (const n of ok) expect(storedIds.has(n)).toBe(true);

      // The senders retry what got 500: afterwards every callback is stored, and fired, exactly once.
      for (const [n] of failed) await send(n);
      expect([...statuses.values()].every((s) => s === 200)).toBe(true);
      expect(await count(db, "SELECT count(*) AS n FROM hookline_activities")).toBe(480);
      expect(await count(db, "SELECT count(*) AS n FROM hookline_deliveries")).toBe(480);

      // With the store away, a path it cannot look up answers 500 (retry later), not 404 (stop).
      await db.stop();
      const unknown = await fetch(`${served.url}/in/defined-through-the-api`, { method: "POST", body: "[]" });
      expect(unknown.status).toBe(500);
      await db.start();
    });
  });
}
