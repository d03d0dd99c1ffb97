/**
 * Issue 11: bad input never becomes "retry later". An eSputnik-style sender retries a 500 hourly
 * forever and holds back every later batch behind it, so a body the store cannot keep must be
 * answered 400 (naming the field) before anything is stored, and must not fail its neighbours.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "bun:test";
import { inbound } from "../../../plugins/inbound/index.ts";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type ServedApp, serveApp } from "../../support/serve-app.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

const KEY = "bad-input-key-5e2a91";
const config = `
webhooks:
  record: { url: "https://crm.example.com/a", body: "{}" }
triggers:
  - { kind: event, events: ["activity.*"], webhooks: [record] }
inbound:
  endpoints:
    esputnik:
      kind: activity-status
      auth: { kind: apiKey, keys: ["${KEY}"] }
    crm:
      kind: profile-update
      auth: { kind: apiKey, keys: ["${KEY}"] }
      identifier: { property: email }
      createProfiles: true
      mappings:
        - { from: $.name, to: name }
        - { from: $.extra, to: extra }
        - { from: $.points, to: points, mode: sum }
      timeline:
        - { type: order, date: $.order.date, fields: { total: $.order.total } }
    crm-form:
      kind: profile-update
      path: crm/form
      auth: { kind: apiKey, keys: ["${KEY}"] }
      identifier: { property: email }
      createProfiles: true
      mappings:
        - { from: name, to: name }
    by-body:
      kind: profile-update
      auth: { kind: apiKey, keys: ["${KEY}"] }
      identifier: { property: customerId, from: $.id }
      createProfiles: true
      mappings: [{ from: $.city, to: city }]
`;

/** JSON text of an object nested `levels` deep: `{"a":{"a":…null…}}`. */
const deepObject = (levels: number) => `${'{"a":'.repeat(levels)}null${"}".repeat(levels)}`;
/** JSON text of arrays nested `levels` deep: `[[[…]]]` (two bytes a level). */
const deepArray = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;

const activity = (n: number, extra: Record<string, unknown> = {}) => ({
  iid: `bad-input-${n}`,
  contactId: n,
  email: `c${n}@example.com`,
  activityStatus: "READ",
  activityDateTime: "2024-01-01T10:00:00",
  ...extra,
});

/** An activity-status body whose one activity carries `partner: <raw JSON text>`. */
const withRawField = (raw: string, identity = true) => {
  const base = JSON.stringify(identity ? activity(1) : { ...activity(1), iid: undefined });
  return `[${base.slice(0, -1)},"partner":${raw}}]`;
};

interface Answer {
  success: boolean;
  errors?: Array<{ code: string; description: string }>;
  issues?: Array<{ path: string; message: string }>;
  result?: Record<string, unknown>;
}

for (const kind of storeKinds) {
  describe(`bad input on ${kind.name}, over HTTP`, () => {
    let driver: Driver;
    let app: Awaited<ReturnType<typeof testApp>>;
    let served: ServedApp;

    beforeAll(async () => {
      driver = await kind.open();
      app = await testApp(config, driver, { plugins: [inbound()] });
      served = await serveApp(app);
    });
    afterAll(async () => {
      await served.close();
      await app.stop(0);
      await driver.dispose();
    });
    beforeEach(async () => {
      for (const t of [
        "hookline_activities",
        "hookline_inbound_receipts",
        "hookline_deliveries",
        "hookline_timeline_events",
        "hookline_profile_identifiers",
        "hookline_profiles",
      ])
        await driver.query(`DELETE FROM ${t}`);
    });

    const send = async (path: string, body: string, type = "application/json") => {
      const r = await fetch(`${served.url}${path}`, {
        method: "POST",
        body,
        headers: { "content-type": type, "x-api-key": KEY },
      });
      const text = await r.text();
      return { status: r.status, text, body: JSON.parse(text) as Answer };
    };
    const count = async (table: string) =>
      Number((await driver.query<{ n: unknown }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);
    const nothingStored = async () => {
      expect(await count("hookline_activities")).toBe(0);
      expect(await count("hookline_deliveries")).toBe(0);
      expect(await count("hookline_profiles")).toBe(0);
      expect(await count("hookline_timeline_events")).toBe(0);
    };
    /** A refusal in the documented format: 400, one error with a code, the issue at `path`. */
    const refusedAt = (
      a: { status: number; body: Answer },
      path: string,
      code = "HOOKLINE_INBOUND_INVALID",
    ) => {
      expect({ status: a.status, code: a.body.errors?.[0]?.code, success: a.body.success }).toEqual({
        status: 400,
        code,
        success: false,
      });
      expect(typeof a.body.errors?.[0]?.description).toBe("string");
      expect(a.body.issues?.[0]?.path).toBe(path);
    };

    describe("activity-status", () => {
      for (const [what, raw] of [
        ["an object nested 10,000 levels deep", deepObject(10_000)],
        ["arrays nested 300,000 levels deep (past any runtime's stack)", deepArray(300_000)],
      ] as const) {
        it(`answers 400 naming the field to an unknown field holding ${what}, and stores nothing`, async () => {
          const a = await send("/in/esputnik", withRawField(raw));
          refusedAt(a, "0.partner");
          expect(a.body.issues![0]!.message).toMatch(/deeper than 63 levels/);
          await nothingStored();
        });
      }

      it("answers 400, not 500, to an activity one level too deep to travel as an event's data, and stores one a level shallower", async () => {
        // 63 levels of partner make the activity 64 deep: storable alone, 65 deep as an event's data.
        const deep = await send("/in/esputnik", withRawField(deepObject(63)));
        refusedAt(deep, "0.partner");
        await nothingStored();
        const fits = await send("/in/esputnik", withRawField(deepObject(62)));
        expect(fits.status).toBe(200);
      });

      it("answers the documented 400, not the generic 500, to a deep body without iid or messageInstanceId (keyed by its whole content)", async () => {
        const a = await send("/in/esputnik", withRawField(deepArray(300_000), false));
        refusedAt(a, "0.partner");
        await nothingStored();
      });

      it("stores the valid requests that share a group commit with an over-deep one, and refuses only that one", async () => {
        const bodies = Array.from({ length: 12 }, (_, n) =>
          n === 5 ? withRawField(deepArray(300_000)) : JSON.stringify([activity(100 + n)]),
        );
        const answers = await Promise.all(bodies.map((b) => send("/in/esputnik", b)));
        expect(answers.map((a) => a.status)).toEqual(bodies.map((_, n) => (n === 5 ? 400 : 200)));
        expect(await count("hookline_activities")).toBe(11);
      });

      const unstorable: Array<[string, Record<string, unknown>, string]> = [
        ["NUL in a documented field", { email: "a\u0000b@example.com" }, "0.email"],
        ["NUL in an unknown field", { partner: "x\u0000" }, "0.partner"],
        // A key is named by the object that holds it (the message quotes the key).
        ["NUL in an unknown field's key", { partner: { "k\u0000": 1 } }, "0.partner"],
        [
          "a lone high surrogate in a documented field",
          { statusDescription: "bounce \ud800" },
          "0.statusDescription",
        ],
        [
          "a lone low surrogate deep in an unknown field",
          { partner: { note: ["ok", "\udc00x"] } },
          "0.partner.note.1",
        ],
        ["a reversed surrogate pair", { partner: "\udc00\ud800" }, "0.partner"],
        ["a string of 70,000 characters", { statusDescription: "x".repeat(70_000) }, "0.statusDescription"],
        ["a key of 70,000 characters", { partner: { ["k".repeat(70_000)]: 1 } }, "0.partner"],
      ];
      for (const [what, extra, path] of unstorable) {
        it(`answers 400 naming ${path} to ${what}, and stores nothing`, async () => {
          // JSON.stringify writes NUL and lone surrogates as \u escapes: the body itself is valid JSON.
          const a = await send("/in/esputnik", JSON.stringify([activity(1, extra)]));
          refusedAt(a, path);
          await nothingStored();
        });
      }

      it("keeps a well-formed surrogate pair (an emoji) and other non-ASCII text as sent", async () => {
        const a = await send(
          "/in/esputnik",
          JSON.stringify([activity(1, { statusDescription: "ok 😀 Ünïcode ✓" })]),
        );
        expect(a.status).toBe(200);
        const [row] = await driver.query<{ d: unknown }>(
          "SELECT activity->>'statusDescription' AS d FROM hookline_activities",
        );
        expect(row!.d).toBe("ok 😀 Ünïcode ✓");
      });
    });

    describe("profile-update", () => {
      it("answers 400, not 500, to a body too deep for its values to travel in the profile.changed event, and applies one a level shallower", async () => {
        // 61 levels under "extra" make the body 62 deep: its value would sit 65 deep in the event
        // (data.properties.extra); 60 levels fit.
        const deep = await send("/in/crm?email=deep%40example.com", `{"name":"D","extra":${deepObject(61)}}`);
        refusedAt(deep, "extra");
        await nothingStored();
        const fits = await send("/in/crm?email=deep%40example.com", `{"name":"D","extra":${deepObject(60)}}`);
        expect(fits.status).toBe(200);
      });
      it("answers 400 naming the field to NUL in a mapped JSON field, and stores nothing", async () => {
        refusedAt(
          await send("/in/crm?email=ada%40example.com", JSON.stringify({ name: "A\u0000da" })),
          "name",
        );
        await nothingStored();
      });

      it("answers 400 naming the field to a lone surrogate in a JSON field, mapped or not", async () => {
        refusedAt(
          await send("/in/crm?email=ada%40example.com", JSON.stringify({ name: "Ada", other: ["\ud83d"] })),
          "other.0",
        );
        await nothingStored();
      });

      it("answers 400 naming the field to a mapped value nested 300,000 levels deep", async () => {
        const body = `{"name":"Ada","extra":${deepArray(300_000)}}`;
        const a = await send("/in/crm?email=ada%40example.com", body);
        refusedAt(a, "extra");
        await nothingStored();
      });

      it("answers 400 naming the field to NUL in a form field's value or name", async () => {
        refusedAt(
          await send(
            "/in/crm/form?email=ada%40example.com",
            "name=A%00da",
            "application/x-www-form-urlencoded",
          ),
          "name",
        );
        refusedAt(
          await send(
            "/in/crm/form?email=ada%40example.com",
            "na%00me=Ada",
            "application/x-www-form-urlencoded",
          ),
          "",
        );
        await nothingStored();
      });

      it("answers 400 to an identifier in the query that holds NUL or is too long for the index", async () => {
        refusedAt(
          await send("/in/crm?email=a%00b%40example.com", "{}"),
          "?email",
          "HOOKLINE_PROFILE_IDENTIFIER",
        );
        // Random text, so that Postgres cannot compress it under the btree's 2,704-byte row limit.
        const long = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(6000))));
        refusedAt(
          await send(`/in/crm?email=${encodeURIComponent(long)}`, "{}"),
          "?email",
          "HOOKLINE_PROFILE_IDENTIFIER",
        );
        await nothingStored();
      });

      it("answers 400 naming the field to NUL in an identifier taken from the body", async () => {
        refusedAt(await send("/in/by-body", JSON.stringify({ id: "c\u00001", city: "Kyiv" })), "id");
        await nothingStored();
      });

      it("reports a timeline date outside years 1–9999 as a per-item failure (200), applying the rest", async () => {
        for (const date of [8.64e15, "-000001-01-01", "0000-06-01T00:00:00Z"]) {
          const a = await send(
            "/in/crm?email=ada%40example.com",
            JSON.stringify({ name: "Ada", order: { date, total: 5 } }),
          );
          expect({ status: a.status, success: a.body.success, code: a.body.errors?.[0]?.code }).toEqual({
            status: 200,
            success: false,
            code: "HOOKLINE_TIMELINE_DATE",
          });
        }
        expect(await count("hookline_profiles")).toBe(1);
        expect(await count("hookline_timeline_events")).toBe(0);
      });

      it("reports a sum of text as a per-item failure (200) whose description never splits an emoji", async () => {
        // The description quotes the value shortened to 60 characters: cut mid-pair, the stored answer
        // would carry a lone surrogate, which Postgres refuses.
        const a = await send("/in/crm?email=ada%40example.com", JSON.stringify({ points: "x😀".repeat(30) }));
        expect({ status: a.status, success: a.body.success, code: a.body.errors?.[0]?.code }).toEqual({
          status: 200,
          success: false,
          code: "HOOKLINE_MAPPING_NOT_A_NUMBER",
        });
        expect(a.body.errors![0]!.description).toContain("…");
      });

      it("reports a sum that would overflow to Infinity as a per-item failure, keeping the number", async () => {
        const first = await send("/in/crm?email=ada%40example.com", JSON.stringify({ points: 1.5e308 }));
        expect(first.status).toBe(200);
        const a = await send("/in/crm?email=ada%40example.com", JSON.stringify({ points: "1.5e308" }));
        expect({ status: a.status, success: a.body.success, code: a.body.errors?.[0]?.code }).toEqual({
          status: 200,
          success: false,
          code: "HOOKLINE_MAPPING_NOT_A_NUMBER",
        });
        const [row] = await driver.query<{ p: unknown }>(
          "SELECT properties->>'points' AS p FROM hookline_profiles",
        );
        expect(Number(row!.p)).toBe(1.5e308);
      });
    });
  });
}
