import { afterAll, beforeAll, beforeEach, describe, expect, it } from "bun:test";
import { inbound } from "../../../plugins/inbound/index.ts";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { ESPUTNIK_EXAMPLE } from "../../support/esputnik-example.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

const KEY = "esp-key-4f1c2b9e";
const config = `
webhooks:
  record:
    url: https://crm.example.com/activities
    body: '{"status": <%= json(it.event.data.activityStatus) %>}'
triggers:
  - { kind: event, events: ["activity.*"], webhooks: [record] }
inbound:
  endpoints:
    esputnik:
      kind: activity-status
      auth: { kind: apiKey, header: X-Api-Key, keys: ["\${ESPUTNIK_KEY}"] }
    esputnik-query:
      kind: activity-status
      path: esputnik/query
      auth: { kind: apiKey, allowQuery: true, query: apiKey, keys: ["\${ESPUTNIK_KEY}"] }
`;

const EIGHT = JSON.parse(ESPUTNIK_EXAMPLE) as Array<Record<string, unknown>>;

for (const kind of storeKinds) {
  describe(`activity-status endpoint on ${kind.name}`, () => {
    let driver: Driver;
    let app: Awaited<ReturnType<typeof testApp>>;

    beforeAll(async () => {
      driver = await kind.open();
      app = await testApp(config, driver, { plugins: [inbound()], env: { ESPUTNIK_KEY: KEY } });
    });
    afterAll(async () => {
      await app.stop(0);
      await driver.dispose();
    });
    beforeEach(async () => {
      await driver.query("DELETE FROM hookline_activities");
      await driver.query("DELETE FROM hookline_inbound_receipts");
      await driver.query("DELETE FROM hookline_deliveries");
    });

    const post = (body: string | Uint8Array, headers: Record<string, string> = {}, path = "/in/esputnik") =>
      app.fetch(
        new Request(`http://hookline.test${path}`, {
          method: "POST",
          body: body as BodyInit,
          headers: { "content-type": "application/json", "x-api-key": KEY, ...headers },
        }),
      );
    const stored = async () =>
      Number((await driver.query<{ n: unknown }>("SELECT count(*) AS n FROM hookline_activities"))[0]!.n);

    it("stores the documentation's eight activities, each once, and turns each into its event", async () => {
      const r = await post(ESPUTNIK_EXAMPLE);
      expect(r.status).toBe(200);
      expect(await r.json()).toEqual({ success: true, result: { received: 8, stored: 8, duplicates: 0 } });
      const rows = await driver.query<{ activity: unknown }>(
        "SELECT activity::text AS activity FROM hookline_activities WHERE endpoint = 'esputnik' ORDER BY seq",
      );
      // Every field kept as sent, unknown ones included (mediaType is not validated beyond "a string").
      expect(rows.map((x) => JSON.parse(String(x.activity)))).toEqual(EIGHT);
      const deliveries = await app.store.listDeliveries({ webhook: "record" });
      expect(deliveries.map((d) => d.eventType).sort()).toEqual(
        EIGHT.map((a) => `activity.${String(a.activityStatus).toLowerCase()}`).sort(),
      );
      const clicked = deliveries.find((d) => d.eventType === "activity.clicked")!;
      expect((clicked.context.event as { data: Record<string, unknown> }).data.clickEventLink).toBe(
        "https://test.ua/promo/",
      );
      expect(clicked.customerId).toBe("1258810400");
    });

    it("answers a replay 200 and stores nothing twice, nor fires twice; an overlapping batch stores only what is new", async () => {
      expect((await post(ESPUTNIK_EXAMPLE)).status).toBe(200);
      const again = await post(ESPUTNIK_EXAMPLE);
      expect(again.status).toBe(200);
      expect(((await again.json()) as { result: { replayed: boolean } }).result.replayed).toBe(true);
      // The same activities in another body (a sender re-batching): stored once all the same.
      const overlap = [
        ...EIGHT.slice(0, 3),
        { ...EIGHT[1], activityStatus: "READ", activityDateTime: "2018-03-01T14:00:00" },
      ];
      const r = await post(JSON.stringify(overlap));
      expect(await r.json()).toEqual({ success: true, result: { received: 4, stored: 1, duplicates: 3 } });
      expect(await stored()).toBe(9);
      expect((await app.store.listDeliveries({ webhook: "record" })).length).toBe(9);
    });

    it("takes one activity as an object, and keeps unknown fields", async () => {
      const r = await post(JSON.stringify({ ...EIGHT[4], partnerField: { x: 1 } }));
      expect(r.status).toBe(200);
      const [row] = await driver.query<{ activity: unknown }>(
        "SELECT activity::text AS activity FROM hookline_activities",
      );
      expect(JSON.parse(String(row!.activity)).partnerField).toEqual({ x: 1 });
    });

    it("answers GET with 200, as senders test a URL when it is saved", async () => {
      const r = await app.fetch(new Request("http://hookline.test/in/esputnik"));
      expect(r.status).toBe(200);
      expect(await stored()).toBe(0);
    });

    const bad: Array<[string, () => Response | Promise<Response>, number, string]> = [
      ["malformed JSON", () => post('[{"activityStatus": "READ",'), 400, "HOOKLINE_INBOUND_JSON"],
      [
        "a wrong type in one field",
        () => post(JSON.stringify([EIGHT[0], { ...EIGHT[1], contactId: "295953704" }])),
        400,
        "HOOKLINE_INBOUND_INVALID",
      ],
      [
        "an unknown status",
        () => post(JSON.stringify([{ ...EIGHT[1], activityStatus: "OPENED" }])),
        400,
        "HOOKLINE_INBOUND_INVALID",
      ],
      ["an empty array", () => post("[]"), 400, "HOOKLINE_INBOUND_INVALID"],
      [
        "a 5 MB body",
        () => post(JSON.stringify([{ ...EIGHT[1], pad: "x".repeat(5 * 1024 * 1024) }])),
        413,
        "HOOKLINE_INBOUND_TOO_LARGE",
      ],
      [
        "a 5 MB body streamed without Content-Length",
        () =>
          post(
            new ReadableStream({
              start(c) {
                for (let i = 0; i < 5; i++) c.enqueue(new Uint8Array(1024 * 1024).fill(32));
                c.close();
              },
            }) as unknown as Uint8Array,
          ),
        413,
        "HOOKLINE_INBOUND_TOO_LARGE",
      ],
      [
        "a wrong API key",
        () => post(ESPUTNIK_EXAMPLE, { "x-api-key": "not-the-key" }),
        401,
        "HOOKLINE_INBOUND_API_KEY",
      ],
      [
        "a key in the query when the endpoint demands the header",
        () =>
          app.fetch(
            new Request(`http://hookline.test/in/esputnik?apiKey=${KEY}`, {
              method: "POST",
              body: ESPUTNIK_EXAMPLE,
              headers: { "content-type": "application/json" },
            }),
          ),
        401,
        "HOOKLINE_INBOUND_API_KEY_PLACEMENT",
      ],
      [
        "no API key at all",
        () => post(ESPUTNIK_EXAMPLE, { "x-api-key": "" }),
        401,
        "HOOKLINE_INBOUND_API_KEY",
      ],
      [
        "an unsupported content type",
        () => post(ESPUTNIK_EXAMPLE, { "content-type": "text/xml" }),
        415,
        "HOOKLINE_INBOUND_CONTENT_TYPE",
      ],
    ];
    for (const [what, send, status, code] of bad) {
      it(`answers ${status} to ${what}, and stores nothing`, async () => {
        const r = await send();
        expect(r.status).toBe(status);
        const body = (await r.json()) as {
          success: boolean;
          errors: Array<{ code: string; description: string }>;
        };
        expect(body.success).toBe(false);
        expect(body.errors[0]!.code).toBe(code);
        // The answer never repeats a secret.
        expect(JSON.stringify(body)).not.toContain(KEY);
        expect(await stored()).toBe(0);
        expect((await driver.query("SELECT 1 FROM hookline_inbound_receipts")).length).toBe(0);
        expect((await app.store.listDeliveries({})).length).toBe(0);
      });
    }

    it("names the field at fault in a 400", async () => {
      const r = await post(JSON.stringify([EIGHT[0], { ...EIGHT[1], contactId: "295953704" }]));
      const body = (await r.json()) as { issues: Array<{ path: string; message: string }> };
      expect(body.issues.map((i) => i.path)).toEqual(["1.contactId"]);
    });

    it("accepts the key in the query where the endpoint allows it (the less secure fallback)", async () => {
      const r = await app.fetch(
        new Request(`http://hookline.test/in/esputnik/query?apiKey=${KEY}`, {
          method: "POST",
          body: ESPUTNIK_EXAMPLE,
          headers: { "content-type": "application/json" },
        }),
      );
      expect(r.status).toBe(200);
      expect(await stored()).toBe(8);
    });

    it("leaves unknown paths under /in/ to the app's 404", async () => {
      expect((await post(ESPUTNIK_EXAMPLE, {}, "/in/nope")).status).toBe(404);
    });
  });
}
