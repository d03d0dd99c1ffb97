import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { Delivery } from "../../core/contracts/store.ts";
import { basic } from "../../plugins/basic/index.ts";
import { eta } from "../../plugins/eta/index.ts";
import { type Sink, startSink } from "../support/http-sink.ts";
import { type ConformanceApp, conformanceApp, eventually } from "./support/app.ts";
import { RUNTIME } from "./support/runtime.ts";

// The core engine on the embedded store (PGlite), sending through this runtime's transport.
const config = (sink: string) => `
engine:
  concurrency: 1
  pollInterval: 20ms
  lease: 5s
  timeout: 2s
  retry: { delays: [40ms, 40ms, 40ms], jitter: 0 }
  allowNetworks: ["127.0.0.1/32"]
integrations:
  crm:
    kind: basic
    endpointPrefix: ${sink}/api/v1
    username: hookline
    password: \${CRM_PASSWORD}
webhooks:
  contact:
    url: ${sink}/api/v1/contacts/<%= it.customer.id %>
    integration: crm
    body: '{"email": <%= json(it.customer.email) %>, "plan": <%= json(it.event.data.plan ?? "free") %>}'
  outside:
    url: ${sink}/api/v2/contacts/<%= it.customer.id %>
    integration: crm
    body: '{}'
triggers:
  - { kind: event, events: [signup], webhooks: [contact] }
  - { kind: event, events: [moved], webhooks: [outside] }
`;

describe(`core engine on PGlite (${RUNTIME})`, () => {
  let sink: Sink;
  let app: ConformanceApp;
  // How the sink answers, by customer id: the n-th request for that id (from 0).
  const plans = new Map<string, (n: number) => number>();

  beforeAll(async () => {
    sink = await startSink((req) => {
      const id = /contacts\/([^/?]+)/.exec(req.url)?.[1] ?? "";
      const n = sink.requests.filter((r) => r.url.endsWith(`/contacts/${id}`)).length - 1;
      return { status: plans.get(id)?.(n) ?? 200, body: '{"ok":true}' };
    });
    app = await conformanceApp(config(sink.url), [eta(), basic()], { CRM_PASSWORD: "s3cret-pw" });
    await app.start();
  });
  afterAll(async () => {
    await app.dispose();
    await sink.close();
  });

  const settled = (id: string) =>
    eventually(
      async () => {
        const d = await app.store.getDelivery(id);
        return d && ["succeeded", "failed", "halted"].includes(d.status) ? d : undefined;
      },
      15_000,
      `delivery ${id} to settle`,
    ) as Promise<Delivery>;

  it("renders, authorises and sends a delivery once, and records it as succeeded", async () => {
    const published = await app.publish({
      type: "signup",
      id: "evt-1",
      customer: { id: "c1", email: "ada@example.com" },
      data: { plan: "pro" },
    });
    const id = published.events[0]!.deliveries[0]!.id;
    const d = await settled(id);
    expect(d.status).toBe("succeeded");
    const got = sink.requests.filter((r) => r.url === "/api/v1/contacts/c1");
    expect(got).toHaveLength(1);
    expect(got[0]!.method).toBe("POST");
    expect(JSON.parse(got[0]!.body)).toEqual({ email: "ada@example.com", plan: "pro" });
    expect(got[0]!.headers.authorization).toBe(`Basic ${btoa("hookline:s3cret-pw")}`);
    expect(got[0]!.headers["idempotency-key"]).toBe(d.idempotencyKey);
    const attempts = await app.store.listAttempts(id);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]!.status).toBe(200);
    // The password is redacted from what is recorded.
    expect(JSON.stringify(attempts)).not.toContain("s3cret-pw");
  });

  it("creates nothing new when the same event id is published again", async () => {
    const again = await app.publish({
      type: "signup",
      id: "evt-1",
      customer: { id: "c1", email: "ada@example.com" },
    });
    expect(again.events[0]!.deliveries).toHaveLength(0);
  });

  it("retries a 503 by the retry contract and succeeds on the next attempt", async () => {
    plans.set("c503", (n) => (n === 0 ? 503 : 200));
    const published = await app.publish({ type: "signup", customer: { id: "c503", email: "b@example.com" } });
    const d = await settled(published.events[0]!.deliveries[0]!.id);
    expect(d.status).toBe("succeeded");
    expect(d.attempts).toBe(2);
    const attempts = await app.store.listAttempts(d.id);
    expect(attempts.map((a) => a.status)).toEqual([503, 200]);
    expect(attempts.map((a) => a.outcome)).toEqual(["retry", "succeeded"]);
  });

  it("halts the webhook for the rest of the run on 410", async () => {
    plans.set("h1", () => 410);
    const published = await app.publish([
      { type: "signup", customer: { id: "h1", email: "h1@example.com" } },
      { type: "signup", customer: { id: "h2", email: "h2@example.com" } },
      { type: "signup", customer: { id: "h3", email: "h3@example.com" } },
    ]);
    const all = await Promise.all(published.events.map((e) => settled(e.deliveries[0]!.id)));
    expect(all.every((d) => d.status === "halted")).toBe(true);
    // With one request in flight at a time the first answer halts the run before the others go out.
    expect(sink.requests.filter((r) => /contacts\/h[23]$/.test(r.url))).toHaveLength(0);
  });

  it("sends no credentials outside the integration's endpoint prefix: the delivery fails, nothing is sent", async () => {
    const before = sink.requests.length;
    const published = await app.publish({ type: "moved", customer: { id: "m1", email: "m@example.com" } });
    const d = await settled(published.events[0]!.deliveries[0]!.id);
    expect(d.status).toBe("failed");
    expect(d.reason).toContain("sends credentials only under");
    expect(sink.requests.length).toBe(before);
  });
});
