/**
 * Property-based tests of the inbound receivers (issue 11): thousands of generated and mutated
 * bodies — activity-status JSON, profile updates as JSON and as forms — sent over real HTTP, a few
 * at a time so that they share group commits. Whatever comes, with the store up:
 * - the answer is one the receiving-endpoint contract documents (200, 400, 413, 415), never a 5xx;
 * - every refusal is `{ success: false, errors: [{ code, description }], issues?: [{ path, message }] }`;
 * - nothing is stored for a refused body: the rows added equal what the 200 answers say they stored;
 * - the process lives on (a valid request is still stored at the end).
 * fast-check prints the seed and the shrunk counterexample when a property fails; replay one with
 * `{ seed, path }` in the failing `fc.assert`'s options. HOOKLINE_PROPERTY_RUNS scales the runs.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import fc from "fast-check";
import { ActivityStatus } from "../../../core/model/activity.ts";
import { inbound } from "../../../plugins/inbound/index.ts";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { ESPUTNIK_EXAMPLE } from "../../support/esputnik-example.ts";
import { type ServedApp, serveApp } from "../../support/serve-app.ts";

const KEY = "prop-key-8c41d7";
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
      bodyLimit: 256kb
      maxItems: 5
    crm:
      kind: profile-update
      auth: { kind: apiKey, keys: ["${KEY}"] }
      bodyLimit: 256kb
      identifier: { property: email, from: $.email }
      createProfiles: true
      mappings:
        - { from: $.name, to: name }
        - { from: $.source, to: firstSource, mode: set-if-empty }
        - { from: "$.interests[*]", to: interests, mode: add-to-list }
        - { from: $.points, to: points, mode: sum }
        - { from: "$..tag", to: tags, mode: add-to-list }
      timeline:
        - { type: order, date: $.order.date, fields: { total: $.order.total, sku: "$.order.items[*].sku" } }
        - { type: visit, fields: { page: $.page, seenAt: current date } }
    crm-form:
      kind: profile-update
      path: crm/form
      auth: { kind: apiKey, keys: ["${KEY}"] }
      bodyLimit: 256kb
      identifier: { property: email, from: email }
      createProfiles: true
      mappings:
        - { from: name, to: name }
        - { from: points, to: points, mode: sum }
        - { from: tag, to: interests, mode: add-to-list }
        - { from: $.city, to: city }
      timeline:
        - { type: visit, date: at, fields: { page: page } }
`;

/** Runs per property; the whole file stays well under a minute on two busy cores. */
const RUNS = Number(process.env.HOOKLINE_PROPERTY_RUNS ?? 1);
/**
 * fast-check's options for a property: `n` runs scaled by HOOKLINE_PROPERTY_RUNS, or the failure
 * fast-check printed, replayed (HOOKLINE_PROPERTY_SEED and HOOKLINE_PROPERTY_PATH; pick the property
 * with `bun test -t`).
 */
const runs = (n: number) =>
  process.env.HOOKLINE_PROPERTY_SEED
    ? {
        seed: Number(process.env.HOOKLINE_PROPERTY_SEED),
        path: process.env.HOOKLINE_PROPERTY_PATH,
        endOnFailure: true,
      }
    : { numRuns: Math.max(1, Math.round(n * RUNS)) };

// ---------------------------------------------------------------------------------------------
// Generators

/** Strings a sender might send, weighted toward what breaks stores: NUL, lone surrogates, escapes. */
const awkward = fc.constantFrom(
  "\u0000",
  "\ud800",
  "\udfff",
  "\ude00\ud83d",
  "😀",
  "é",
  "\u2028",
  "%00",
  "\\",
  '"',
  "",
  "1e400",
  "-0",
  " 42 ",
);
const text = fc.oneof(
  { weight: 16, arbitrary: fc.string({ maxLength: 10 }) },
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 6 }) },
  { weight: 4, arbitrary: fc.array(awkward, { minLength: 1, maxLength: 3 }).map((a) => a.join("")) },
  { weight: 1, arbitrary: fc.integer({ min: 65_530, max: 65_540 }).map((n) => "x".repeat(n)) },
);
const number = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.constantFrom(1e308, -1e308, 2 ** 53, 2 ** 53 + 2, 8.64e15, -8.64e15, 0.1),
);

/** Arrays or objects nested `levels` deep, built without recursion. */
const nest = (levels: number, inObjects: boolean): unknown => {
  let v: unknown = null;
  for (let i = 0; i < levels; i++) v = inObjects ? { a: v } : [v];
  return v;
};
const deep = fc.tuple(fc.integer({ min: 60, max: 2_000 }), fc.boolean()).map(([n, o]) => nest(n, o));

const json: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", maxDepth: 4 },
    text,
    number,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(text, tie("value"), { maxKeys: 3 }),
  ),
})).value;
/** Any value: mostly ordinary JSON, sometimes nested past the limit. */
const anyValue = fc.oneof({ weight: 12, arbitrary: json }, { weight: 1, arbitrary: deep });

const STATUSES = ActivityStatus.options;
const dateTime = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.constantFrom("2024-01-01T10:00:00", "2019-09-26 14:45:18", "2018-05-15T04:05:53.5Z"),
  },
  { weight: 4, arbitrary: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()) },
  { weight: 1, arbitrary: text },
);
const maybe = <T>(a: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: a }, fc.constant(null));

/**
 * An activity: the documented fields with values of their documented types (strings still hold
 * NUL, lone surrogates and 65,536 characters), an unknown field holding anything; then, now and
 * then, one field (documented or not) given a value of any type: a wrong type, a deep nest.
 */
const activityArb = fc
  .record(
    {
      iid: maybe(fc.oneof(fc.uuid(), text)),
      contactId: maybe(fc.integer({ min: 0 })),
      email: maybe(fc.oneof(fc.emailAddress(), text)),
      sms: maybe(text),
      activityStatus: fc.constantFrom(...STATUSES),
      activityDateTime: dateTime,
      messageInstanceId: maybe(fc.integer()),
      statusDescription: maybe(text),
      clickEventLink: maybe(fc.oneof(fc.webUrl(), text)),
      hardBounce: maybe(fc.boolean()),
      statusData: maybe(
        fc.record({ subscription: fc.record({ subscriptions: fc.array(text, { maxLength: 3 }) }) }),
      ),
      partner: anyValue,
    },
    { requiredKeys: ["activityStatus", "activityDateTime"] },
  )
  .chain((a) =>
    fc
      .option(fc.tuple(fc.oneof(fc.constantFrom(...Object.keys(a)), text), anyValue), { freq: 5 })
      .map((swap) => (swap ? { ...a, [swap[0]]: swap[1] } : a)),
  );

const EXAMPLE = JSON.parse(ESPUTNIK_EXAMPLE) as unknown[];
const activityBody = fc.oneof(
  { weight: 8, arbitrary: fc.array(activityArb, { minLength: 1, maxLength: 3 }) },
  { weight: 2, arbitrary: activityArb },
  { weight: 1, arbitrary: fc.subarray(EXAMPLE, { minLength: 1 }) },
  { weight: 1, arbitrary: fc.array(activityArb, { minLength: 6, maxLength: 7 }) }, // over maxItems
  { weight: 1, arbitrary: anyValue },
);

/** Edits on the text of a body: what a broken or hostile sender does to it. */
const edit = fc.record({
  at: fc.nat(),
  op: fc.constantFrom("insert", "delete", "replace", "truncate", "wrap"),
  piece: fc.constantFrom(
    "{",
    "}",
    "[",
    "]",
    '"',
    ",",
    ":",
    "\\",
    "\\u0000",
    "\\ud800",
    "\\udc00",
    "\u0000",
    "é",
    "null",
    "1e999",
    " ",
  ),
});
const applyEdits = (s: string, edits: Array<{ at: number; op: string; piece: string }>) => {
  let out = s;
  for (const { at, op, piece } of edits) {
    const i = out.length === 0 ? 0 : at % (out.length + 1);
    if (op === "insert") out = out.slice(0, i) + piece + out.slice(i);
    else if (op === "delete") out = out.slice(0, i) + out.slice(i + 1);
    else if (op === "replace") out = out.slice(0, i) + piece + out.slice(i + piece.length);
    else if (op === "truncate") out = out.slice(0, i);
    else out = `[${"[".repeat(at % 5000)}${out}${"]".repeat(at % 5000)}]`;
  }
  return out;
};
/** Byte-level edits: invalid UTF-8 (a lone continuation byte, an overlong NUL, an encoded surrogate). */
const byteEdit = fc.record({
  at: fc.nat(),
  bytes: fc.constantFrom([0xff], [0x80], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xef, 0xbb, 0xbf], [0x00]),
});
const encoder = new TextEncoder();

/** A body as bytes: the generated value as JSON, sometimes with its text or its bytes edited. */
const bodyBytes = (values: fc.Arbitrary<unknown>) =>
  fc
    .record({
      value: values,
      edits: fc.oneof(
        { weight: 6, arbitrary: fc.constant([]) },
        fc.array(edit, { minLength: 1, maxLength: 3 }),
      ),
      bytes: fc.oneof(
        { weight: 10, arbitrary: fc.constant([]) },
        fc.array(byteEdit, { minLength: 1, maxLength: 2 }),
      ),
    })
    .map(({ value, edits, bytes }) => {
      let b = encoder.encode(applyEdits(JSON.stringify(value) ?? "", edits));
      for (const { at, bytes: x } of bytes) {
        const i = at % (b.length + 1);
        b = new Uint8Array([...b.subarray(0, i), ...x, ...b.subarray(i)]);
      }
      // Counterexamples print as the text sent (invalid UTF-8 shown as U+FFFD), not as a byte list.
      return Object.assign(b, {
        [fc.toStringMethod]: () => `utf8(${JSON.stringify(new TextDecoder().decode(b))})`,
      });
    });

/** Percent-encodes the UTF-8 of a string (a lone surrogate becomes U+FFFD, as browsers send it). */
const percent = (s: string) =>
  Array.from(encoder.encode(s), (b) =>
    /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b))
      ? String.fromCharCode(b)
      : `%${b.toString(16).padStart(2, "0")}`,
  ).join("");
/** Text short enough for a URL (servers answer 431 to a request line past ~16 KB, before any app). */
const shortText = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 10 }) },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 6 }) },
  { weight: 1, arbitrary: fc.array(awkward, { maxLength: 3 }).map((a) => a.join("")) },
);
/** A piece of a query or form: encoded text, or a raw escape a sender might send (%00, bad UTF-8, a bare %). */
const formPiece = fc.oneof(
  { weight: 6, arbitrary: shortText.map(percent) },
  {
    weight: 2,
    arbitrary: fc.constantFrom("%00", "%ED%A0%80", "%FF", "%", "%E2%82", "%C0%80", "+", "%2B", "=", "&"),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);

const profileJsonBody = bodyBytes(
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record(
        {
          email: fc.oneof({ weight: 8, arbitrary: fc.emailAddress() }, text, number, json),
          name: fc.oneof({ weight: 3, arbitrary: text }, json),
          source: json,
          interests: fc.oneof(fc.array(json, { maxLength: 3 }), json),
          points: fc.oneof(number, text, fc.constantFrom("1.5", "1e308", "-2", "abc"), json),
          order: fc.record(
            {
              date: fc.oneof(dateTime, number, json),
              total: json,
              items: fc.array(fc.record({ sku: json }), { maxLength: 2 }),
            },
            { requiredKeys: [] },
          ),
          page: text,
          nested: fc.dictionary(text, fc.record({ tag: json }), { maxKeys: 2 }),
          other: anyValue,
        },
        { requiredKeys: [] },
      ),
    },
    { weight: 1, arbitrary: anyValue },
  ),
);

const identifierQuery = fc.oneof(
  { weight: 3, arbitrary: fc.constant("") },
  { weight: 2, arbitrary: fc.emailAddress().map((e) => `?email=${percent(e)}`) },
  {
    weight: 2,
    arbitrary: fc.array(formPiece, { minLength: 1, maxLength: 3 }).map((p) => `?email=${p.join("")}`),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1000, max: 3000 }).map((n) => `?email=${"a".repeat(n)}%F0%9F%98%80`),
  },
);

const formField = fc.oneof(
  fc.constantFrom("email", "name", "points", "tag", "city", "at", "page"),
  fc.array(formPiece, { maxLength: 2 }).map((p) => p.join("")),
);
const formValue = fc.oneof(
  { weight: 3, arbitrary: fc.array(formPiece, { maxLength: 3 }).map((p) => p.join("")) },
  { weight: 1, arbitrary: fc.emailAddress().map(percent) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("1.5", "1e308", "2024-01-01", "-000001-01-01", "275760-09-13", "0"),
  },
  { weight: 1, arbitrary: fc.integer({ min: 65_530, max: 65_540 }).map((n) => "x".repeat(n)) },
);
/** A form, usually naming the customer (`email`, the endpoint's identifier field) first. */
const formBody = fc
  .tuple(
    fc.option(fc.emailAddress().map(percent), { freq: 4 }),
    fc.array(fc.tuple(formField, formValue), { maxLength: 6 }),
  )
  .map(([email, pairs]) => {
    const form = [...(email ? [`email=${email}`] : []), ...pairs.map(([k, v]) => `${k}=${v}`)].join("&");
    return Object.assign(encoder.encode(form), {
      [fc.toStringMethod]: () => `form(${JSON.stringify(form)})`,
    });
  });

const contentType = (usual: string) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.constant(usual) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        undefined,
        "application/json; charset=utf-8",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/vnd.api+json",
      ),
    },
  );

// ---------------------------------------------------------------------------------------------
// Checks

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

const CODE = /^HOOKLINE_[A-Z0-9_]+$/;

/** Checks an answer against the documented format; returns it parsed. */
function documented(status: number, text: string): Reply {
  // Never a 5xx while the store is up: bad input is the sender's, and a retry would fail the same way.
  if (![200, 400, 413, 415].includes(status))
    throw new Error(`answered ${status}, outside the contract: ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as Record<string, unknown>;
  expect(typeof body.success).toBe("boolean");
  if (status !== 200) expect(body.success).toBe(false);
  if (body.success === false) {
    const errors = body.errors as Array<Record<string, unknown>>;
    expect(Array.isArray(errors) && errors.length > 0).toBe(true);
    for (const e of errors) {
      expect(e.code).toMatch(CODE);
      expect(typeof e.description === "string" && e.description.length > 0).toBe(true);
    }
  }
  if (body.issues !== undefined) {
    expect(Array.isArray(body.issues)).toBe(true);
    for (const i of body.issues as Array<Record<string, unknown>>) {
      expect(typeof i.path).toBe("string");
      expect(typeof i.message).toBe("string");
    }
  }
  return { status, body };
}

for (const kind of storeKinds) {
  describe(`inbound receivers under generated and mutated bodies on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<typeof kind.open>>;
    let app: Awaited<ReturnType<typeof testApp>>;
    let served: ServedApp;
    let sent = 0;
    /** Answers per endpoint, status and code: the runs must reach the store, not only the refusals. */
    const seen = new Map<string, number>();

    beforeAll(async () => {
      driver = await kind.open();
      app = await testApp(config, driver, { plugins: [inbound()] });
      served = await serveApp(app);
    });
    afterAll(async () => {
      console.log(
        `${kind.name}: ${sent} generated requests; answers: ${[...seen].map(([k, n]) => `${k} ×${n}`).join(", ")}`,
      );
      await served.close();
      await app.stop(0);
      await driver.dispose();
    });

    const send = async (path: string, body: Uint8Array, type: string | undefined): Promise<Reply> => {
      sent++;
      const r = await fetch(`${served.url}${path}`, {
        method: "POST",
        body: body as BodyInit,
        headers: { "x-api-key": KEY, ...(type ? { "content-type": type } : {}) },
      });
      const reply = documented(r.status, await r.text());
      const code = (reply.body.errors as Array<{ code: string }> | undefined)?.[0]?.code;
      const what = `${path.split("?")[0]} ${r.status}${code ? ` ${code}` : ""}`;
      seen.set(what, (seen.get(what) ?? 0) + 1);
      return reply;
    };
    /**
     * Sends requests at once (they share group commits) and waits for every answer before judging
     * any: a run that fails early must leave nothing in flight to write into the next run's counts.
     */
    const sendAll = async (requests: Array<[string, Uint8Array, string | undefined]>): Promise<Reply[]> => {
      const settled = await Promise.allSettled(requests.map(([path, body, type]) => send(path, body, type)));
      for (const s of settled) if (s.status === "rejected") throw s.reason;
      return settled.map((s) => (s as PromiseFulfilledResult<Reply>).value);
    };
    const count = async (table: string) =>
      Number((await driver.query<{ n: unknown }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);

    it("activity-status (JSON): documented answers only, and exactly what the 200s report is stored", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(bodyBytes(activityBody), contentType("application/json")), {
            minLength: 1,
            maxLength: 3,
          }),
          async (requests) => {
            const before = await count("hookline_activities");
            const replies = await sendAll(requests.map(([b, t]) => ["/in/esputnik", b, t]));
            const reported = replies
              .filter((r) => r.status === 200)
              .reduce((n, r) => n + Number((r.body.result as { stored?: number }).stored ?? 0), 0);
            // Refused bodies stored nothing: every row added is one a 200 answer counted.
            const answers = replies.map((r) => ({ status: r.status, ...r.body }));
            expect({ stored: (await count("hookline_activities")) - before, answers }).toEqual({
              stored: reported,
              answers,
            });
          },
        ),
        runs(500),
      );
    });

    const profileProperty = (path: string, bodies: fc.Arbitrary<Uint8Array>, type: string) =>
      fc.asyncProperty(
        fc.array(fc.tuple(identifierQuery, bodies, contentType(type)), { minLength: 1, maxLength: 3 }),
        async (requests) => {
          const before = {
            receipts: await count("hookline_inbound_receipts"),
            profiles: await count("hookline_profiles"),
            timeline: await count("hookline_timeline_events"),
          };
          const replies = await sendAll(requests.map(([q, b, t]) => [`${path}${q}`, b, t]));
          const applied = replies.filter((r) => r.status === 200 && r.body.replayed === undefined);
          const results = applied.map(
            (r) => (r.body.result ?? {}) as { created?: boolean; timeline?: number },
          );
          // Each update applied wrote one receipt; refused ones wrote nothing at all.
          const answers = replies.map((r) => ({ status: r.status, ...r.body }));
          expect({
            receipts: (await count("hookline_inbound_receipts")) - before.receipts,
            profiles: (await count("hookline_profiles")) - before.profiles,
            timeline: (await count("hookline_timeline_events")) - before.timeline,
            answers,
          }).toEqual({
            answers,
            receipts: applied.length,
            profiles: results.filter((r) => r.created === true).length,
            timeline: results.reduce((n, r) => n + (r.timeline ?? 0), 0),
          });
        },
      );

    it("profile-update (JSON): documented answers only, and nothing written for a refused body", async () => {
      await fc.assert(profileProperty("/in/crm", profileJsonBody, "application/json"), runs(350));
    });

    it("profile-update (form): documented answers only, and nothing written for a refused body", async () => {
      await fc.assert(
        profileProperty("/in/crm/form", formBody, "application/x-www-form-urlencoded"),
        runs(350),
      );
    });

    it("is alive and storing after all of it", async () => {
      const r = await send(
        "/in/esputnik",
        encoder.encode(JSON.stringify(EXAMPLE.slice(0, 3))),
        "application/json",
      );
      expect(r.status).toBe(200);
      expect((await fetch(`${served.url}/healthz`)).status).toBe(200);
    });
  });
}
