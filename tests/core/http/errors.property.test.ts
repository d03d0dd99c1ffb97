import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import fc from "fast-check";
import { activityCallbacks } from "../../../plugins/activity-callbacks/index.ts";
import { inbound } from "../../../plugins/inbound/index.ts";
import { jinja } from "../../../plugins/jinja/index.ts";
import { mustache } from "../../../plugins/mustache/index.ts";
import { velocity } from "../../../plugins/velocity/index.ts";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type ServedApp, serveApp } from "../../support/serve-app.ts";

const TOKEN = "admin-token-for-property-tests-0123456789";
// Every URL a generated body can name is a closed loopback port: nothing leaves the machine.
const DEAD = "http://127.0.0.1:9";

const yaml = `
engine: { pollInterval: 1h, allowNetworks: ["127.0.0.1/32"] }
integrations:
  crm: { kind: basic, endpointPrefix: ${DEAD}/api, username: u, password: p, test: { method: GET, path: /api/ping } }
policies:
  partner: { concurrency: 2 }
webhooks:
  contact:
    url: ${DEAD}/api/contacts
    integration: crm
    body: '{"email": <%= json(it.customer.email) %>}'
    sample: { customer: { id: s-1, email: s@example.com } }
triggers:
  - { kind: event, events: [signup], webhooks: [contact] }
`;

// Valid bodies per route, the seeds the mutations start from.
const seeds = {
  event: { type: "signup", id: "e-1", customer: { id: "c-1", email: "a@example.com" }, data: { n: 1 } },
  batch: { events: [{ type: "signup", customer: { id: "c-2" } }, { type: "other" }] },
  webhook: {
    engine: "velocity",
    method: "POST",
    url: `${DEAD}/hooks/$customer.id`,
    headers: { "X-A": "$params.a" },
    body: '{"e": $esc.json($customer.email)}',
    params: { a: "1" },
    integration: "crm",
    timeout: "2s",
  },
  jinja: { engine: "jinja", url: `${DEAD}/j`, body: "{{ customer.id | tojson }}", format: "text" },
  integration: { kind: "basic", endpointPrefix: `${DEAD}/x`, username: "u", password: "p" },
  headersIntegration: {
    kind: "headers",
    endpointPrefix: `${DEAD}/h`,
    headers: [{ name: "X-Key", value: "k" }],
    test: { method: "GET", path: "/h/ping" },
  },
  policy: { concurrency: 3, rate: 5 },
  test: { customer: { id: "t", email: "t@example.com" }, params: { a: 2 }, event: { data: { x: 1 } } },
  activities: [{ activityStatus: "DELIVERED", activityDateTime: "2024-05-01T10:00:00", contactId: 7 }],
  subscriber: { url: `${DEAD}/subscriber`, statuses: ["DELIVERED"], batchSize: 10 },
  import: {
    webhooks: { imported: { engine: "mustache", url: `${DEAD}/m`, body: "{{customer.id}}" } },
    integrations: {},
  },
  inbound: { kind: "activity-status", auth: { kind: "apiKey", keys: ["k-0123456789abcdef"] } },
} as const;
type Seed = keyof typeof seeds;

const oddString = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }), // any code point, NUL and lone surrogates included
  fc.constantFrom(
    "",
    " ",
    "\u0000",
    "a\u0000b",
    "../..",
    "%00",
    "%",
    "<%= it %>",
    "$${X}",
    "{{",
    "#if(",
    "💥",
  ),
  fc.string({ minLength: 300, maxLength: 3000 }),
);
const name = fc.oneof(
  fc.constantFrom("contact", "crm", "partner", "v", "imported", "sub", "in-1", "nope"),
  oddString,
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
);

/** Nests a value `n` levels deep. */
const nest = (n: number, leaf: unknown) => {
  let v = leaf;
  for (let i = 0; i < n; i++) v = i % 2 ? [v] : { a: v };
  return v;
};

/** One random change to a JSON value: a key gone, a type changed, a NUL, deep nesting, a huge string. */
const mutation = fc.oneof(
  fc.constant((_: unknown) => null as unknown),
  fc.jsonValue().map((v) => () => v),
  oddString.map((s) => () => s),
  fc.integer({ min: 0, max: 300 }).map((n) => (v: unknown) => nest(n, v)),
  fc.constant((v: unknown) => [v]),
  fc.constant((v: unknown) => (typeof v === "string" ? `${v}\u0000` : v)),
  fc.constant((v: unknown) => (typeof v === "number" ? -v * 1e300 : v)),
  fc.constant((v: unknown) => (typeof v === "string" ? Number(v) || v.length : String(v))),
);

/** Applies mutations at random paths of a copy of `seed`. */
function mutate(seed: unknown, picks: Array<{ at: number; change: (v: unknown) => unknown; drop: boolean }>) {
  const root = structuredClone(seed) as unknown;
  let out = root;
  for (const { at, change, drop } of picks) {
    const slots: Array<{ parent: Record<string, unknown> | unknown[] | undefined; key: string | number }> =
      [];
    const walk = (
      v: unknown,
      parent: Record<string, unknown> | unknown[] | undefined,
      key: string | number,
    ) => {
      slots.push({ parent, key });
      if (slots.length > 200 || typeof v !== "object" || v === null) return;
      for (const [k, child] of Object.entries(v))
        walk(child, v as Record<string, unknown>, Array.isArray(v) ? Number(k) : k);
    };
    walk(out, undefined, "");
    const slot = slots[at % slots.length]!;
    if (!slot.parent) out = change(out);
    else if (drop && !Array.isArray(slot.parent))
      delete (slot.parent as Record<string, unknown>)[slot.key as string];
    else
      (slot.parent as Record<string, unknown>)[slot.key as string] = change(
        (slot.parent as Record<string, unknown>)[slot.key as string],
      );
  }
  return out;
}

const mutatedBody = (seed: Seed) =>
  fc
    .array(fc.record({ at: fc.nat(), change: mutation, drop: fc.boolean() }), { maxLength: 4 })
    .map((picks) => JSON.stringify(mutate(seeds[seed], picks)) ?? "null");

/** Text that is almost JSON: cut short, a character changed, or not JSON at all. */
const brokenJson = (seed: Seed) =>
  fc.oneof(
    fc.nat().map((n) => {
      const t = JSON.stringify(seeds[seed]);
      return t.slice(0, n % t.length);
    }),
    fc.tuple(fc.nat(), fc.constantFrom("{", "}", '"', ",", ":", "\\", "\u0000", "]")).map(([n, ch]) => {
      const t = JSON.stringify(seeds[seed]);
      const i = n % t.length;
      return t.slice(0, i) + ch + t.slice(i + 1);
    }),
    fc.string(),
    fc.constantFrom("[".repeat(10_000), '{"a":'.repeat(5_000), "NaN", "undefined", "'single'", "\ufeff{}"),
  );

const body = (seed: Seed) =>
  fc.oneof(
    { weight: 5, arbitrary: mutatedBody(seed) },
    { weight: 2, arbitrary: brokenJson(seed) },
    { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v) ?? "null") },
    { weight: 1, arbitrary: fc.constant(undefined) },
  );

const contentType = fc.constantFrom(
  "application/json",
  "application/json",
  "application/json; charset=utf-8",
  "text/plain;charset=UTF-8",
  undefined,
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "application/json; charset=\u00ff",
  ";;;",
);

const timestamp = fc
  .date({ min: new Date("0001-01-01"), max: new Date("9999-12-31"), noInvalidDate: true })
  .map((d) => d.toISOString());
const query = fc
  .dictionary(
    fc.constantFrom("webhook", "status", "since", "until", "limit", "before", "x", "limit"),
    fc.oneof(
      oddString,
      timestamp,
      fc.integer().map(String),
      fc.constantFrom("1e3", "0x10", "1.5", "-1", "1001", "succeeded", "pending", crypto.randomUUID()),
    ),
    { maxKeys: 4 },
  )
  .map((q) => {
    const s = new URLSearchParams();
    for (const [k, v] of Object.entries(q)) s.append(k, v);
    return s.toString();
  });

const seg = (n: string) => encodeURIComponent(n.replace(/[\uD800-\uDFFF]/g, "\uFFFD"));

interface Req {
  method: string;
  path: string;
  body?: string;
  type?: string;
}
const req = (
  method: string,
  path: fc.Arbitrary<string>,
  b?: fc.Arbitrary<string | undefined>,
): fc.Arbitrary<Req> =>
  fc.record({ method: fc.constant(method), path, body: b ?? fc.constant(undefined), type: contentType });
const named = (f: (n: string) => string) => name.map((n) => f(seg(n)));

/** Every admin route (core and the plugins composed here), with generated and mutated input. */
const request: fc.Arbitrary<Req> = fc.oneof(
  req("POST", fc.constant("/v1/events"), fc.oneof(body("event"), body("batch"))),
  req(
    "GET",
    query.map((q) => `/v1/deliveries?${q}`),
  ),
  req(
    "GET",
    named((n) => `/v1/deliveries/${n}`),
  ),
  req(
    "POST",
    named((n) => `/v1/deliveries/${n}/retry`),
    body("test"),
  ),
  req("GET", fc.constant("/v1/webhooks")),
  req(
    "GET",
    named((n) => `/v1/webhooks/${n}`),
  ),
  req(
    "PUT",
    named((n) => `/v1/webhooks/${n}`),
    fc.oneof(body("webhook"), body("jinja")),
  ),
  req(
    "DELETE",
    named((n) => `/v1/webhooks/${n}`),
  ),
  req(
    "POST",
    named((n) => `/v1/webhooks/${n}/resume`),
  ),
  req(
    "POST",
    named((n) => `/v1/webhooks/${n}/test`),
    body("test"),
  ),
  req(
    "GET",
    named((n) => `/v1/integrations/${n}`),
  ),
  req(
    "PUT",
    named((n) => `/v1/integrations/${n}`),
    fc.oneof(body("integration"), body("headersIntegration")),
  ),
  req(
    "DELETE",
    named((n) => `/v1/integrations/${n}`),
  ),
  req(
    "POST",
    named((n) => `/v1/integrations/${n}/test`),
  ),
  req(
    "POST",
    named((n) => `/v1/integrations/${n}/authorize`),
  ),
  req("GET", fc.constant("/v1/export")),
  req("POST", fc.constant("/v1/import"), body("import")),
  req("GET", fc.constant("/v1/policies")),
  req(
    "PUT",
    named((n) => `/v1/policies/${n}`),
    body("policy"),
  ),
  req(
    "DELETE",
    named((n) => `/v1/policies/${n}`),
  ),
  req("POST", fc.constant("/v1/activities"), body("activities")),
  req("GET", fc.constant("/v1/subscribers")),
  req(
    "GET",
    named((n) => `/v1/subscribers/${n}`),
  ),
  req(
    "PUT",
    named((n) => `/v1/subscribers/${n}`),
    body("subscriber"),
  ),
  req(
    "DELETE",
    named((n) => `/v1/subscribers/${n}`),
  ),
  req(
    "PUT",
    named((n) => `/v1/inbound/${n}`),
    body("inbound"),
  ),
  req(
    "GET",
    named((n) => `/v1/inbound/${n}`),
  ),
  req(
    "GET",
    named((n) => `/v1/profiles/${n}`),
  ),
  req(
    "GET",
    fc.tuple(name, query).map(([n, q]) => `/oauth/callback/${seg(n)}?${q}`),
  ),
  req("GET", fc.constant("/healthz")),
  req(
    "PATCH",
    fc.constantFrom("/v1/events", "/v1/webhooks/contact", "/v1/nowhere"),
    fc.jsonValue().map((v) => JSON.stringify(v)),
  ),
);

const kind = storeKinds[storeKinds.length - 1]!;

describe(`admin API under generated requests (${kind.name})`, () => {
  let driver: Awaited<ReturnType<typeof kind.open>>;
  let app: Awaited<ReturnType<typeof testApp>>;
  let served: ServedApp;

  beforeAll(async () => {
    driver = await kind.open();
    app = await testApp(yaml, driver, {
      adminToken: TOKEN,
      env: { HOOKLINE_SECRET_KEY: btoa("s".repeat(32)) },
      plugins: [velocity(), jinja(), mustache(), inbound(), activityCallbacks()],
    });
    // Not started: no worker sends what the events API queues; the routes and the store are live.
    served = await serveApp(app);
  });
  afterAll(async () => {
    await served.close();
    await app.stop(0);
    await driver.dispose();
  });

  it("never answers 5xx while the store is up, and answers every refusal as { error, requestId } with X-Request-Id", async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const res = await fetch(`${served.url}${r.path}`, {
          method: r.method,
          headers: { authorization: `Bearer ${TOKEN}`, ...(r.type ? { "content-type": r.type } : {}) },
          body: r.body,
        });
        const text = await res.text();
        const id = res.headers.get("x-request-id");
        const where = `${r.method} ${r.path.slice(0, 200)} → ${res.status} ${text.slice(0, 300)}`;
        expect(id, where).toBeTruthy();
        expect(res.status < 500, where).toBe(true);
        if (res.status >= 400) {
          const json = JSON.parse(text) as { error?: unknown; requestId?: unknown };
          expect(typeof json.error, where).toBe("string");
          expect(json.requestId, where).toBe(id!);
        }
      }),
      { numRuns: Number(process.env.HOOKLINE_PROPERTY_RUNS ?? 600), seed: seedFromEnv() },
    );
  }, 120_000);
});

function seedFromEnv(): number | undefined {
  const s = process.env.HOOKLINE_PROPERTY_SEED;
  return s ? Number(s) : undefined;
}
