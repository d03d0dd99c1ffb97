import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { inbound } from "../../../plugins/inbound/index.ts";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { ESPUTNIK_EXAMPLE } from "../../support/esputnik-example.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
type Page = { activities: Array<Record<string, unknown>>; next?: string };
const ADMIN = "admin-token-7a1c9e44";
const API_KEY = "query-key-3f9a61bd";

const config = `
inbound:
  endpoints:
    esp: { kind: activity-status, path: esp, auth: { kind: apiKey, keys: ["${API_KEY}"] } }
    quiet: { kind: activity-status, path: quiet, auth: { kind: none } }
`;

/** `n` activities of one contact and status, numbered from `from` (their messageInstanceId). */
const batch = (from: number, n: number, fields: Record<string, unknown>) =>
  Array.from({ length: n }, (_, i) => ({
    messageInstanceId: from + i,
    activityStatus: "DELIVERED",
    mediaType: "email",
    activityDateTime: "2025-06-01T10:00:00",
    ...fields,
  }));

for (const kind of storeKinds) {
  describe(`GET /v1/inbound/:name/activities on ${kind.name}`, () => {
    let driver: Driver;
    let app: Awaited<ReturnType<typeof testApp>>;
    let viewer: string;
    /** Between the first posts and the last: a window's edge. */
    let between: string;

    const call = (method: string, path: string, body?: unknown, token = ADMIN) =>
      app.fetch(
        new Request(`http://h${path}`, {
          method,
          body: body === undefined ? undefined : JSON.stringify(body),
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        }),
      );
    const post = async (body: unknown) => {
      const r = await app.fetch(
        new Request("http://h/in/esp", {
          method: "POST",
          body: typeof body === "string" ? body : JSON.stringify(body),
          headers: { "content-type": "application/json", "x-api-key": API_KEY },
        }),
      );
      expect(r.status).toBe(200);
    };
    const page = async (query: string, token = viewer) => {
      const r = await call("GET", `/v1/inbound/esp/activities?${query}`, undefined, token);
      expect(r.status).toBe(200);
      return (await r.json()) as Page;
    };
    const ids = (p: Page) => p.activities.map((a) => a.messageInstanceId);

    beforeAll(async () => {
      driver = await kind.open();
      app = await testApp(config, driver, { plugins: [inbound()], adminToken: ADMIN });
      const created = await call("POST", "/v1/tokens", { name: "reader", role: "viewer" });
      viewer = ((await created.json()) as { secret: string }).secret;
      await post(ESPUTNIK_EXAMPLE);
      await post(batch(1000, 30, { email: "ann@example.com", contactId: 1 }));
      await post(batch(2000, 5, { email: "Ann@example.com", contactId: 2, activityStatus: "READ" }));
      await Bun.sleep(20);
      between = new Date().toISOString();
      await Bun.sleep(20);
      await post(
        batch(3000, 4, {
          sms: "380671234567",
          mediaType: "sms",
          contactId: 3,
          activityStatus: "UNDELIVERED",
        }),
      );
    });
    afterAll(async () => {
      await app.stop(0);
      await driver.dispose();
    });

    it("answers the activities as stored, newest first, with their receivedAt and no secret", async () => {
      const p = await page("limit=4");
      expect(ids(p)).toEqual([3003, 3002, 3001, 3000]);
      expect(p.activities[0]).toMatchObject({
        sms: "380671234567",
        activityStatus: "UNDELIVERED",
        mediaType: "sms",
        contactId: 3,
        activityDateTime: "2025-06-01T10:00:00",
      });
      expect(Number.isNaN(Date.parse(String(p.activities[0]!.receivedAt)))).toBe(false);
      expect(JSON.stringify(p)).not.toContain(API_KEY);
    });

    it("pages through every activity once, by the cursor in next", async () => {
      // Whole activities: some of the example's have no messageInstanceId.
      const seen: string[] = [];
      let after = "";
      for (let i = 0; i < 10; i++) {
        const p = await page(`limit=7${after}`);
        seen.push(...p.activities.map((a) => JSON.stringify({ ...a, receivedAt: 0 })));
        if (!p.next) break;
        expect(p.activities).toHaveLength(7);
        after = `&after=${p.next}`;
      }
      // 8 of the example + 30 + 5 + 4, newest first: the last batch posted comes first.
      expect(seen).toHaveLength(47);
      expect(new Set(seen).size).toBe(47);
      const ordered = seen.map((a) => JSON.parse(a).messageInstanceId);
      expect(ordered.slice(0, 9)).toEqual([3003, 3002, 3001, 3000, 2004, 2003, 2002, 2001, 2000]);
    });

    it("filters by status, one or several", async () => {
      const read = await page("status=READ");
      expect(read.activities.every((a) => a.activityStatus === "READ")).toBe(true);
      // The example has one READ; the second batch five.
      expect(read.activities).toHaveLength(6);
      expect(ids(read).slice(0, 5)).toEqual([2004, 2003, 2002, 2001, 2000]);
      const two = await page("status=READ&status=UNDELIVERED");
      const comma = await page("status=READ,UNDELIVERED");
      expect(ids(comma)).toEqual(ids(two));
      // The example has two UNDELIVERED (email and sms); the last batch four.
      expect(two.activities).toHaveLength(12);
      expect(new Set(two.activities.map((a) => a.activityStatus))).toEqual(new Set(["READ", "UNDELIVERED"]));
    });

    it("filters by email and by phone, exactly as stored", async () => {
      const ann = await page("email=ann@example.com&limit=1000");
      expect(ann.activities).toHaveLength(30);
      expect(ann.activities.every((a) => a.email === "ann@example.com")).toBe(true);
      expect((await page("email=Ann@example.com")).activities).toHaveLength(5);
      expect((await page("email=nobody@example.com")).activities).toEqual([]);
      const both = await page("email=test@gmail.com&status=CLICKED");
      expect(both.activities.map((a) => a.activityStatus)).toEqual(["CLICKED"]);
      expect(ids(await page("phone=380671234567&limit=2"))).toEqual([3003, 3002]);
      // The example's sms activity, and the last batch's four.
      expect((await page("phone=380671234567")).activities).toHaveLength(5);
      expect((await page("phone=%2B380671234567")).activities).toEqual([]);
      // A filtered page's cursor stays in the filter.
      const first = await page("email=ann@example.com&limit=20");
      const second = await page(`email=ann@example.com&limit=20&after=${first.next}`);
      expect(second.next).toBeUndefined();
      expect(second.activities).toHaveLength(10);
      expect(new Set([...ids(first), ...ids(second)]).size).toBe(30);
    });

    it("reads the time window: since inclusive, until exclusive, the last 24 hours by default", async () => {
      expect(ids(await page(`since=${between}`))).toEqual([3003, 3002, 3001, 3000]);
      expect((await page(`until=${between}&limit=1000`)).activities).toHaveLength(43);
      const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
      expect((await page(`until=${hourAgo}`)).activities).toEqual([]);
      const old = new Date(Date.now() - 20 * 86_400_000).toISOString();
      expect((await page(`since=${old}&limit=1000`)).activities).toHaveLength(47);
    });

    it("refuses a window over 31 days, an empty one, and values it cannot read", async () => {
      const wide = await call(
        "GET",
        "/v1/inbound/esp/activities?since=2025-01-01T00:00:00Z&until=2025-02-01T00:00:01Z",
      );
      expect(wide.status).toBe(400);
      const body = (await wide.json()) as { code: string; issues: Array<{ path: string; message: string }> };
      expect(body.code).toBe("HOOKLINE_HTTP_PARAM");
      expect(body.issues[0]!.message).toContain("at most 31 days");
      const old = new Date(Date.now() - 32 * 86_400_000).toISOString();
      expect((await call("GET", `/v1/inbound/esp/activities?since=${old}`)).status).toBe(400);
      expect(
        (
          await call(
            "GET",
            "/v1/inbound/esp/activities?since=2025-01-01T00:00:00Z&until=2025-01-31T00:00:00Z",
          )
        ).status,
      ).toBe(200);
      for (const q of [
        "since=2025-01-02T00:00:00Z&until=2025-01-01T00:00:00Z",
        "since=yesterday",
        "status=OPENED",
        "limit=0",
        "limit=1001",
        "after=not-a-cursor",
        "contact=1",
      ])
        expect((await call("GET", `/v1/inbound/esp/activities?${q}`)).status).toBe(400);
    });

    it("answers 404 for an unknown endpoint, and nothing of another endpoint's", async () => {
      const r = await call("GET", "/v1/inbound/nope/activities");
      expect(r.status).toBe(404);
      expect(((await r.json()) as { code: string }).code).toBe("HOOKLINE_HTTP_NOT_FOUND");
      expect((await call("GET", "/v1/inbound/quiet/activities", undefined, viewer)).status).toBe(200);
      expect(((await (await call("GET", "/v1/inbound/quiet/activities")).json()) as Page).activities).toEqual(
        [],
      );
    });
  });
}
