/**
 * What the activity receiver's cheaper per-callback path (issue 13) must keep: activity keys
 * byte-identical to the ones already stored, events published without a second parse exactly as a
 * parse would have accepted them, and any event not built from validated input still parsed.
 */
import { describe, expect, it } from "bun:test";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { acceptEvent, validatedEvent } from "../../../core/engine/outbox.ts";
import { canonicalJson } from "../../../core/mapping/index.ts";
import { Activity, ActivityStatus, activityKey } from "../../../core/model/activity.ts";
import { EventInput } from "../../../core/model/event.ts";
import { activityEvent, parseActivities } from "../../../plugins/inbound/activity.ts";
import { endpointName } from "../../../plugins/inbound/config.ts";

describe("activity keys", () => {
  // Keys of rows stored before the key was computed with one shared encoder: a changed key would
  // store every activity already received a second time.
  const known: Array<[Record<string, unknown>, string]> = [
    [
      {
        iid: "abc-123-0",
        contactId: 295953704,
        email: "test@rambler.ru",
        activityStatus: "DELIVERED",
        activityDateTime: "2018-03-01T13:31:52",
      },
      "0c01d540a8d15de68e5bd89829d8bc3f",
    ],
    [
      { messageInstanceId: 1344540, activityStatus: "DELIVERED", activityDateTime: "2018-03-01T13:31:52" },
      "09c623f1eb4082d374124e6ca80c0416",
    ],
    [
      {
        messageInstanceId: 7,
        contactId: 3,
        activityStatus: "SUBSCRIPTION_CHANGED",
        activityDateTime: "2019-09-26 14:45:18",
        statusData: { subscription: { subscriptions: ["news", "promo"] } },
      },
      "eb1018a6fa97726f2c5260a54ae6da88",
    ],
    [
      {
        email: "ä@example.com",
        activityStatus: "CLICKED",
        activityDateTime: "2024-01-01T10:00:00",
        clickEventLink: "https://x.example/ü?a=1",
        note: "😀",
      },
      "98df2f00ef4c6d9dda4583a44f148116",
    ],
  ];

  it("stays the key already stored for a known activity", () => {
    for (const [activity, key] of known) expect(activityKey(Activity.parse(activity))).toBe(key);
  });

  it("is the same key however many activities were keyed before", () => {
    const a = Activity.parse(known[0]![0]);
    const keys = new Set(Array.from({ length: 1_000 }, () => activityKey(a)));
    expect([...keys]).toEqual([known[0]![1]]);
  });
});

/** Activities of the documented fields (with awkward but storable strings) and an unknown field. */
const text = fc.string({ unit: "grapheme", maxLength: 12 });
const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 4 },
    text,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(text, tie("value"), { maxKeys: 3 }),
  ),
})).value;
const maybe = <T>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: a }, fc.constant(null));
const activityArb = fc.record(
  {
    iid: maybe(text),
    contactId: maybe(fc.integer({ min: 0 })),
    email: maybe(text),
    sms: maybe(text),
    activityStatus: fc.constantFrom(...ActivityStatus.options),
    activityDateTime: fc
      .date({ min: new Date("2000-01-01"), max: new Date("2099-12-31"), noInvalidDate: true })
      .map((d) => d.toISOString()),
    messageInstanceId: maybe(fc.integer()),
    clickEventLink: maybe(text),
    statusData: maybe(
      fc.record({ subscription: fc.record({ subscriptions: fc.array(text, { maxLength: 3 }) }) }),
    ),
    partner: json,
  },
  { requiredKeys: ["activityStatus", "activityDateTime"] },
);
/** Endpoint names as the config and the admin API take them, up to the longest. */
const nameArb = fc
  .stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/)
  .filter((n) => endpointName.safeParse(n).success);

/** The key as it was first defined: canonical JSON of the identity, SHA-256 (node:crypto), 32 hex digits. */
function referenceKey(a: Activity): string {
  const ref = a.messageInstanceId ?? a.iid;
  const identity =
    ref === undefined || ref === null
      ? canonicalJson(a)
      : canonicalJson([
          ref,
          a.contactId ?? null,
          a.activityStatus,
          a.activityDateTime,
          a.clickEventLink ?? null,
          a.statusData ?? null,
        ]);
  return createHash("sha256").update(identity, "utf8").digest("hex").slice(0, 32);
}

describe("activity keys of generated activities", () => {
  it("are the keys of the original definition, with or without statusData, iid or messageInstanceId", () => {
    let checked = 0;
    fc.assert(
      fc.property(activityArb, (body) => {
        const parsed = Activity.safeParse(body);
        if (!parsed.success) return;
        checked++;
        expect(activityKey(parsed.data)).toBe(referenceKey(parsed.data));
      }),
      { numRuns: 500 },
    );
    expect(checked).toBeGreaterThan(300);
  });
});

describe("events of validated activities", () => {
  it("are valid events, accepted unparsed exactly as a parse accepts them", () => {
    const now = new Date("2026-01-01T00:00:00Z");
    let checked = 0;
    fc.assert(
      fc.property(fc.array(activityArb, { minLength: 1, maxLength: 3 }), nameArb, (body, endpoint) => {
        const parsed = parseActivities(body, 1000);
        if (!parsed.success) return;
        for (const activity of parsed.data) {
          checked++;
          const key = activityKey(activity);
          const runId = `in.${endpoint}.${crypto.randomUUID()}`;
          const event = activityEvent(endpoint, key, activity, runId);
          expect(EventInput.safeParse(event).success).toBe(true);
          expect(acceptEvent(validatedEvent(activityEvent(endpoint, key, activity, runId)), now)).toEqual(
            acceptEvent(event, now),
          );
        }
      }),
      { numRuns: 300 },
    );
    expect(checked).toBeGreaterThan(300);
  });

  it("holds for the longest endpoint name and a deeply nested activity", () => {
    let partner: unknown = "x";
    for (let i = 0; i < 62; i++) partner = { a: partner };
    const parsed = parseActivities(
      [{ activityStatus: "READ", activityDateTime: "2024-01-01T10:00:00", contactId: 1, partner }],
      1000,
    );
    expect(parsed.success).toBe(true);
    const activity = parsed.data![0]!;
    const event = activityEvent("e".repeat(100), activityKey(activity), activity, `in.${"e".repeat(100)}.x`);
    expect(EventInput.safeParse(event).success).toBe(true);
  });
});

describe("events not marked as validated", () => {
  it("are still parsed and refused when invalid", () => {
    expect(() => acceptEvent({ type: "" })).toThrow();
    expect(() => acceptEvent({ type: "x", id: "not an id" })).toThrow();
    expect(() => acceptEvent({ type: "x", data: { v: "a\u0000b" } })).toThrow();
    // An event like a validated one, but not marked: a wrong value is found.
    expect(() => acceptEvent({ type: "activity.read", data: { v: "\ud800" } } as EventInput)).toThrow();
  });

  it("are copied by the parse, so a later change does not reach the accepted event", () => {
    const input = { type: "x", data: { v: 1 } };
    const accepted = acceptEvent(input);
    input.data.v = 2;
    expect(accepted.data).toEqual({ v: 1 });
  });
});
