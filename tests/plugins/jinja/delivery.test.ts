import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { jinja } from "../../../plugins/jinja/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

// The renderer does not touch the store: one store kind (PGlite, always there) is enough here.
const store = storeKinds[0]!;

const config = (sinkUrl: string) => `
engine:
  concurrency: 2
  pollInterval: 20ms
  lease: 5s
  timeout: 2s
  allowNetworks: ["127.0.0.1/32"]
webhooks:
  promo:
    engine: jinja
    url: ${sinkUrl}/hooks/{{ customer.id }}
    headers: { X-Campaign: "{{ params.campaign | upper }}" }
    params: { campaign: spring }
    body: |
      {
        "email": {{ customer.email | tojson }},
        "name": {{ customer.name | tojson }},
        "campaign": {{ params.campaign | tojson }},
        "skus": [{% for i in event.data.items %}{{ i.sku | tojson }}{% if not loop.last %}, {% endif %}{% endfor %}],
        "count": {{ event.data.count | int }}
      }
triggers:
  - { kind: event, events: [signup], webhooks: [promo] }
`;

describe("jinja end to end", () => {
  let driver: Awaited<ReturnType<typeof store.open>>;
  let sink: Sink;
  let app: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    driver = await store.open();
    sink = await startSink(() => ({ status: 200, body: '{"ok":true}' }));
    app = await testApp(config(sink.url), driver, { plugins: [jinja()] });
    await app.start();
  });
  afterAll(async () => {
    await app.stop(1_000);
    await sink.close();
    await driver.dispose();
  });

  it("delivers the JSON body a jinja webhook renders", async () => {
    const published = await app.publish({
      type: "signup",
      customer: { id: "c-17", email: "ada@example.com", name: 'Ada "the first" <Lovelace>' },
      data: { items: [{ sku: "A-1" }, { sku: "B-2" }], count: "2.0" },
    });
    const id = published.events[0]!.deliveries[0]!.id;
    const done = await eventually(async () => {
      const d = await app.store.getDelivery(id);
      return d && ["succeeded", "failed", "halted"].includes(d.status) ? d : undefined;
    });
    // A render fault would show here with its reason rather than as a timeout.
    expect(`${done?.status} ${done?.reason ?? ""}`.trim()).toBe("succeeded");
    const [req] = sink.requests;
    expect(req!.url).toBe("/hooks/c-17");
    expect(req!.headers["x-campaign"]).toBe("SPRING");
    expect(req!.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(req!.body)).toEqual({
      email: "ada@example.com",
      name: 'Ada "the first" <Lovelace>',
      campaign: "spring",
      skus: ["A-1", "B-2"],
      count: 2,
    });
  });
});
