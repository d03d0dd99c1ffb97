import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { Webhook } from "standardwebhooks";
import type { Delivery } from "../../../core/contracts/store.ts";
import { bearer } from "../../../plugins/bearer/index.ts";
import { StandardWebhookSigner, signature } from "../../../plugins/signature/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, type SinkRequest, startSink } from "../../support/http-sink.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

const secret = () => `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64")}`;
const OLD = secret();
const NEW = secret();
const ONLY = secret();

const headersOf = (r: SinkRequest) => ({
  "webhook-id": r.headers["webhook-id"]!,
  "webhook-timestamp": r.headers["webhook-timestamp"]!,
  "webhook-signature": r.headers["webhook-signature"]!,
});

describe("signature: Standard Webhooks signing, checked with the standardwebhooks package", () => {
  let driver: Driver;
  let sink: Sink;
  let app: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    // The first request to /flaky is refused, so that the retry's signature can be compared.
    sink = await startSink((r) =>
      r.url.startsWith("/hooks/flaky") &&
      sink.requests.filter((x) => x.url.startsWith("/hooks/flaky")).length === 1
        ? { status: 503 }
        : { status: 200 },
    );
    app = await testApp(
      `
engine:
  pollInterval: 20ms
  retry: { delays: [1100ms], jitter: 0 }
  allowNetworks: ["127.0.0.1/32"]
integrations:
  one: { kind: signature, endpointPrefix: "${sink.url}/hooks", secrets: ["\${ONLY}"] }
  rotating: { kind: signature, endpointPrefix: "${sink.url}/hooks", secrets: ["\${OLD}", "\${NEW}"] }
  partner: { kind: bearer, endpointPrefix: "${sink.url}/hooks/both", token: partner-token-123 }
webhooks:
  one: { url: "${sink.url}/hooks/one", integration: one, body: '{"name": <%= json(it.customer.name) %>}' }
  rotating: { url: "${sink.url}/hooks/rotating", integration: rotating, body: '{"n": 2}' }
  flaky: { url: "${sink.url}/hooks/flaky", integration: one, body: '{"n": 3}' }
  get: { method: GET, url: "${sink.url}/hooks/get", integration: one }
  both: { url: "${sink.url}/hooks/both", integration: [partner, one], body: '{"n": 4}' }
triggers:
  - { kind: event, events: [one], webhooks: [one] }
  - { kind: event, events: [rotating], webhooks: [rotating] }
  - { kind: event, events: [flaky], webhooks: [flaky] }
  - { kind: event, events: [get], webhooks: [get] }
  - { kind: event, events: [both], webhooks: [both] }
`,
      driver,
      { plugins: [signature(), bearer()], env: { OLD, NEW, ONLY } },
    );
    await app.start();
  });
  afterAll(async () => {
    await app.stop(1_000);
    await sink.close();
    await driver.dispose();
  });

  const deliver = async (type: string): Promise<Delivery> => {
    const id = (await app.publish({ type, customer: { id: "c-1", name: 'Zoë "Ω" O\'Brien' } })).events[0]!
      .deliveries[0]!.id;
    return eventually(async () => {
      const d = await app.store.getDelivery(id);
      return d && ["succeeded", "failed"].includes(d.status) ? d : undefined;
    });
  };
  const last = (path: string) => sink.requests.filter((r) => r.url === path).at(-1)!;

  it("signs with one secret: the standardwebhooks package verifies, with the delivery's key as webhook-id", async () => {
    const d = await deliver("one");
    expect(d.status).toBe("succeeded");
    const r = last("/hooks/one");
    expect(new Webhook(ONLY).verify(r.body, headersOf(r))).toEqual({ name: 'Zoë "Ω" O\'Brien' });
    expect(r.headers["webhook-id"]).toBe(d.idempotencyKey);
    expect(Math.abs(Number(r.headers["webhook-timestamp"]) - Date.now() / 1000)).toBeLessThan(5);
    expect(r.headers["webhook-signature"]!.split(" ")).toHaveLength(1);
  });

  it("signs with every active secret during a rotation: each verifies on its own", async () => {
    await deliver("rotating");
    const r = last("/hooks/rotating");
    expect(r.headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(new Webhook(OLD).verify(r.body, headersOf(r))).toEqual({ n: 2 });
    expect(new Webhook(NEW).verify(r.body, headersOf(r))).toEqual({ n: 2 });
  });

  it("fails verification for another secret or a changed body", async () => {
    const r = last("/hooks/rotating");
    expect(() => new Webhook(ONLY).verify(r.body, headersOf(r))).toThrow();
    expect(() => new Webhook(OLD).verify('{"n": 20}', headersOf(r))).toThrow();
  });

  it("keeps the webhook-id across retries and signs each attempt afresh", async () => {
    const d = await deliver("flaky");
    expect(d.status).toBe("succeeded");
    const [first, second] = sink.requests.filter((r) => r.url === "/hooks/flaky");
    expect(first!.headers["webhook-id"]).toBe(second!.headers["webhook-id"]!);
    expect(second!.headers["webhook-timestamp"]).not.toBe(first!.headers["webhook-timestamp"]!);
    expect(new Webhook(ONLY).verify(second!.body, headersOf(second!))).toEqual({ n: 3 });
  });

  it("signs a request without a body over an empty payload", async () => {
    await deliver("get");
    const r = last("/hooks/get");
    expect(r.body).toBe("");
    expect(() => new Webhook(ONLY).verify("", headersOf(r))).not.toThrow();
  });

  it("combines with another integration on the same webhook: its credentials, then the signature", async () => {
    expect((await deliver("both")).status).toBe("succeeded");
    const r = last("/hooks/both");
    expect(r.headers.authorization).toBe("Bearer partner-token-123");
    expect(new Webhook(ONLY).verify(r.body, headersOf(r))).toEqual({ n: 4 });
  });

  it("verifies what the standardwebhooks package signs, within the tolerance only", async () => {
    const signer = new StandardWebhookSigner([OLD, NEW]);
    const at = new Date();
    const headers = {
      "webhook-id": "msg_1",
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(NEW).sign("msg_1", at, "payload"),
    };
    expect(await signer.verify("payload", headers)).toBe(true);
    expect(await signer.verify("payload!", headers)).toBe(false);
    expect(await signer.verify("payload", headers, { now: Math.floor(at.getTime() / 1000) + 301 })).toBe(
      false,
    );
    expect(await new StandardWebhookSigner([ONLY]).verify("payload", headers)).toBe(false);
  });

  it("refuses a secret that is not whsec_<base64> when the config loads, without showing it", async () => {
    const error = await testApp(
      `
integrations:
  bad: { kind: signature, endpointPrefix: "https://x.example.com", secrets: ["\${BAD}"] }
`,
      driver,
      { plugins: [signature()], env: { BAD: "sk_live_0123456789abcdef" } },
    ).catch((e: unknown) => e as Error);
    expect(error.message).toContain("integrations.bad.secrets.0");
    expect(error.message).toContain("whsec_<base64>");
    expect(error.message).not.toContain("sk_live_0123456789abcdef");
  });
});
