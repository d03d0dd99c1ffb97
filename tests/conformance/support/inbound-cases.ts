import { Webhook } from "standardwebhooks";
import { ESPUTNIK_EXAMPLE } from "../../support/esputnik-example.ts";

/**
 * The inbound cases, written once and driven two ways: in process through the app's `fetch` on every
 * runtime (tests/conformance/inbound.test.ts), and over HTTP against the edge worker in workerd
 * (tests/runtimes/edge.workerd.ts). They run in order: replays refer to what came before.
 */
export const INBOUND_ENV = {
  ESPUTNIK_KEY: "esp-key-7d1e0c55",
  CRM_PASSWORD: "crm-pw-31b9",
  SIGNING_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
};

/** The config both drivers load (the edge build embeds it). */
export const INBOUND_CONFIG = `
webhooks:
  unsubscribe-in-crm:
    url: https://crm.example.com/api/v1/unsubscribes
    body: '{"email": <%= json(it.event.data.email) %>}'
triggers:
  - { kind: event, events: [activity.unsubscribed], webhooks: [unsubscribe-in-crm] }
inbound:
  endpoints:
    esputnik:
      kind: activity-status
      auth: { kind: apiKey, header: X-Api-Key, keys: ["\${ESPUTNIK_KEY}"] }
    small:
      kind: activity-status
      auth: { kind: none }
      bodyLimit: 1kb
    partner:
      kind: activity-status
      auth: { kind: none }
      ipAllowlist: ["203.0.113.0/24"]
    signed:
      kind: activity-status
      auth: { kind: standardWebhooks, secrets: ["\${SIGNING_SECRET}"] }
    crm:
      kind: profile-update
      auth: { kind: basic, users: [{ username: crm, password: "\${CRM_PASSWORD}" }] }
      identifier: { property: email, from: $.email }
      createProfiles: true
      mappings:
        - { from: $.name, to: name }
        - { from: $.tier, to: tier }
`;

/** A request a case sends; `client` is the caller's address (socket, or CF-Connecting-IP on the edge). */
export interface CaseRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  client?: string;
}

export interface InboundCase {
  name: string;
  request(): CaseRequest | Promise<CaseRequest>;
  status: number;
  /** Matched as a subset of the JSON answer. */
  body?: unknown;
  /** The code of the first error in a refusal. */
  code?: string;
  /** Activities stored by this request (the table's count after minus before). */
  stored?: number;
  /** Deliveries written by this request (fired by its activities). */
  deliveries?: number;
}

const json = { "content-type": "application/json" };
const key = { ...json, "x-api-key": INBOUND_ENV.ESPUTNIK_KEY };
const basic = (password: string) => ({ ...json, authorization: `Basic ${btoa(`crm:${password}`)}` });
const activity = (n: number, status = "READ") =>
  JSON.stringify([
    {
      contactId: 9000 + n,
      email: `c${n}@example.com`,
      activityStatus: status,
      activityDateTime: "2026-01-01T10:00:00",
      iid: `case-${n}`,
    },
  ]);
/** One activity with `field` set to `value` (JSON.stringify writes NUL and lone surrogates as \u escapes). */
const withField = (n: number, field: string, value: unknown) =>
  JSON.stringify([{ ...(JSON.parse(activity(n)) as object[])[0], [field]: value }]);
const signed = (id: string, body: string) => {
  const at = new Date();
  return {
    ...json,
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": new Webhook(INBOUND_ENV.SIGNING_SECRET).sign(id, at, body),
  };
};

/**
 * The cases, freshly built (signatures carry the current time).
 *
 * @example for (const c of inboundCases()) it(c.name, () => runCase(driver, c, expect));
 */
export function inboundCases(): InboundCase[] {
  return [
    {
      name: "answers the sender's GET test request 200",
      request: () => ({ method: "GET", path: "/in/esputnik", headers: {} }),
      status: 200,
      body: { success: true },
      stored: 0,
    },
    {
      name: "stores eSputnik's eight documented activities, each once, and fires what they trigger",
      request: () => ({ method: "POST", path: "/in/esputnik", headers: key, body: ESPUTNIK_EXAMPLE }),
      status: 200,
      body: { success: true, result: { received: 8, stored: 8, duplicates: 0 } },
      stored: 8,
      deliveries: 1,
    },
    {
      name: "answers a replay 200 and stores nothing twice",
      request: () => ({ method: "POST", path: "/in/esputnik", headers: key, body: ESPUTNIK_EXAMPLE }),
      status: 200,
      body: { success: true, result: { received: 8, stored: 0, duplicates: 8, replayed: true } },
      stored: 0,
      deliveries: 0,
    },
    {
      name: "stores a request named by Idempotency-Key once",
      request: () => ({
        method: "POST",
        path: "/in/esputnik",
        headers: { ...key, "idempotency-key": "req-1" },
        body: activity(1),
      }),
      status: 200,
      body: { success: true, result: { received: 1, stored: 1 } },
      stored: 1,
    },
    {
      name: "answers a replay of that Idempotency-Key 200, as a replay",
      request: () => ({
        method: "POST",
        path: "/in/esputnik",
        headers: { ...key, "idempotency-key": "req-1" },
        body: activity(1),
      }),
      status: 200,
      body: { success: true, result: { replayed: true } },
      stored: 0,
    },
    {
      name: "refuses a wrong API key with 401",
      request: () => ({
        method: "POST",
        path: "/in/esputnik",
        headers: { ...json, "x-api-key": "wrong" },
        body: activity(2),
      }),
      status: 401,
      code: "HOOKLINE_INBOUND_API_KEY",
      stored: 0,
    },
    {
      name: "refuses malformed JSON with 400",
      request: () => ({
        method: "POST",
        path: "/in/esputnik",
        headers: key,
        body: '[{"activityStatus": "READ",',
      }),
      status: 400,
      code: "HOOKLINE_INBOUND_JSON",
      stored: 0,
    },
    {
      name: "refuses an unknown activity status with 400 and the issue",
      request: () => ({ method: "POST", path: "/in/esputnik", headers: key, body: activity(3, "OPENED") }),
      status: 400,
      code: "HOOKLINE_INBOUND_INVALID",
      body: { success: false, issues: [{ path: "0.activityStatus" }] },
      stored: 0,
    },
    {
      name: "refuses a content type other than JSON with 415",
      request: () => ({
        method: "POST",
        path: "/in/esputnik",
        headers: { ...key, "content-type": "text/plain" },
        body: activity(4),
      }),
      status: 415,
      code: "HOOKLINE_INBOUND_CONTENT_TYPE",
      stored: 0,
    },
    {
      name: "refuses a body over the endpoint's limit with 413",
      request: () => ({
        method: "POST",
        path: "/in/small",
        headers: json,
        body: JSON.stringify([{ pad: "x".repeat(2048) }]),
      }),
      status: 413,
      code: "HOOKLINE_INBOUND_TOO_LARGE",
      stored: 0,
    },
    {
      name: "refuses DELETE with 405",
      request: () => ({ method: "DELETE", path: "/in/esputnik", headers: key }),
      status: 405,
      code: "HOOKLINE_INBOUND_METHOD",
    },
    {
      name: "refuses a caller outside the IP allowlist with 403",
      request: () => ({
        method: "POST",
        path: "/in/partner",
        headers: json,
        body: activity(5),
        client: "198.51.100.7",
      }),
      status: 403,
      code: "HOOKLINE_INBOUND_IP",
      stored: 0,
    },
    {
      name: "takes a caller inside the IP allowlist",
      request: () => ({
        method: "POST",
        path: "/in/partner",
        headers: json,
        body: activity(6),
        client: "203.0.113.9",
      }),
      status: 200,
      stored: 1,
    },
    {
      name: "takes a Standard Webhooks signed request",
      request: () => {
        const body = activity(7);
        return { method: "POST", path: "/in/signed", headers: signed("msg_case_7", body), body };
      },
      status: 200,
      stored: 1,
    },
    {
      name: "refuses a signed request whose body was changed with 401",
      request: () => ({
        method: "POST",
        path: "/in/signed",
        headers: signed("msg_case_8", activity(8)),
        body: activity(80),
      }),
      status: 401,
      code: "HOOKLINE_INBOUND_SIGNATURE",
      stored: 0,
    },
    {
      name: "updates a profile with Basic auth, creating it",
      request: () => ({
        method: "POST",
        path: "/in/crm",
        headers: basic(INBOUND_ENV.CRM_PASSWORD),
        body: JSON.stringify({ email: "ada@example.com", name: "Ada", tier: "gold" }),
      }),
      status: 200,
      body: { success: true, result: { created: true } },
    },
    {
      name: "refuses a profile update with a wrong password with 401",
      request: () => ({
        method: "POST",
        path: "/in/crm",
        headers: basic("wrong"),
        body: JSON.stringify({ email: "eve@example.com" }),
      }),
      status: 401,
      code: "HOOKLINE_INBOUND_BASIC",
    },
    // Issue 11: a value the store cannot keep is the sender's fault, answered 400 naming it, never 500.
    {
      name: "refuses U+0000 in an activity's field with 400 naming the field, storing nothing",
      request: () => ({
        method: "POST",
        path: "/in/esputnik",
        headers: key,
        body: withField(9, "email", "a\u0000b@example.com"),
      }),
      status: 400,
      code: "HOOKLINE_INBOUND_INVALID",
      body: { success: false, issues: [{ path: "0.email" }] },
      stored: 0,
    },
    {
      name: "refuses a lone surrogate in an unknown field with 400 naming the field, storing nothing",
      request: () => ({
        method: "POST",
        path: "/in/esputnik",
        headers: key,
        body: withField(10, "partner", ["\udc00"]),
      }),
      status: 400,
      code: "HOOKLINE_INBOUND_INVALID",
      body: { success: false, issues: [{ path: "0.partner.0" }] },
      stored: 0,
    },
    {
      name: "refuses an unknown field nested 10,000 levels deep with 400 naming the field, storing nothing",
      request: () => ({
        method: "POST",
        path: "/in/esputnik",
        headers: key,
        body: withField(11, "partner", "").replace(
          '"partner":""',
          `"partner":${"[".repeat(10_000)}${"]".repeat(10_000)}`,
        ),
      }),
      status: 400,
      code: "HOOKLINE_INBOUND_INVALID",
      body: { success: false, issues: [{ path: "0.partner" }] },
      stored: 0,
    },
    {
      name: "refuses U+0000 in a profile update's field with 400 naming the field",
      request: () => ({
        method: "POST",
        path: "/in/crm",
        headers: basic(INBOUND_ENV.CRM_PASSWORD),
        body: JSON.stringify({ email: "nul@example.com", name: "N\u0000ul" }),
      }),
      status: 400,
      code: "HOOKLINE_INBOUND_INVALID",
      body: { success: false, issues: [{ path: "name" }] },
    },
    {
      name: "answers 404 under /in/ where no endpoint is",
      request: () => ({ method: "POST", path: "/in/nowhere", headers: json, body: "[]" }),
      status: 404,
    },
  ];
}

/** What a driver gives the cases: a way to send, and the store's counts. */
export interface InboundDriver {
  send(request: CaseRequest): Promise<Response>;
  count(table: "hookline_activities" | "hookline_deliveries"): Promise<number>;
}

/**
 * Runs one case: sends it, checks status, code, answer and the stored counts. Throws with what
 * differed (the caller's `expect` reports it).
 *
 * @example await runCase(driver, c, expect)
 */
export async function runCase(
  driver: InboundDriver,
  c: InboundCase,
  expect: (v: unknown) => { toBe(x: unknown): void; toMatchObject(x: unknown): void },
): Promise<void> {
  const before = {
    a: await driver.count("hookline_activities"),
    d: await driver.count("hookline_deliveries"),
  };
  const response = await driver.send(await c.request());
  const text = await response.text();
  expect({ status: response.status, text }).toMatchObject({ status: c.status });
  if (c.code || c.body) {
    const answer = JSON.parse(text) as { errors?: Array<{ code: string }> };
    if (c.code) expect(answer.errors?.[0]?.code).toBe(c.code);
    if (c.body) expect(answer).toMatchObject(c.body);
  }
  if (c.stored !== undefined) expect((await driver.count("hookline_activities")) - before.a).toBe(c.stored);
  if (c.deliveries !== undefined)
    expect((await driver.count("hookline_deliveries")) - before.d).toBe(c.deliveries);
}
