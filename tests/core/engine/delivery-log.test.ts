/**
 * What a person watching `hookline serve` sees: the JSON-lines logger at its default level (`info`)
 * shows each delivery that succeeded, without anyone reading the sink.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { nodeTransportPlugin } from "../../../adapters/node/runtime.ts";
import { createHookline, type Hookline } from "../../../core/app.ts";
import { jsonLogger } from "../../../core/logger.ts";
import { eta } from "../../../plugins/eta/index.ts";
import { eventually, useDriver } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink } from "../../support/http-sink.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

const kind = storeKinds[0]!;

describe(`the delivery log (${kind.name})`, () => {
  let driver: Driver;
  let sink: Sink;
  let app: Hookline;
  const lines: string[] = [];
  beforeAll(async () => {
    driver = await kind.open();
    sink = await startSink((req) => (req.url.includes("batch") ? { status: 202 } : { status: 201 }));
    app = await createHookline({
      config: {
        text: `
engine: { allowNetworks: ["127.0.0.1/32"], pollInterval: 20ms }
webhooks:
  crm-contact: { url: "${sink.url}/contacts", body: '{"id": <%= json(it.customer.id) %>}' }
  crm-batch:
    url: "${sink.url}/batch"
    body: '[<%= it.items.join(",") %>]'
    batch: { size: 10, linger: 50ms, item: '<%= json(it.customer.id) %>' }
triggers:
  - { kind: event, events: [signup], webhooks: [crm-contact] }
  - { kind: event, events: [bulk], webhooks: [crm-batch] }
`,
        file: "test.yaml",
      },
      plugins: [eta(), nodeTransportPlugin(), useDriver(driver)],
      // The logger `hookline serve` uses, at its default level.
      logger: (redactor) => jsonLogger({ write: (l) => lines.push(l), redactor, level: "info" }),
    });
    await app.start();
  });
  afterAll(async () => {
    await app.stop(0);
    await sink.close();
    await driver.dispose();
  });

  const logged = (message: string) =>
    lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.message === message);

  it("logs a successful delivery at info with its webhook, delivery id, run, status and duration", async () => {
    const published = await app.publish({ type: "signup", customer: { id: "c1" } });
    const id = published.events[0]!.deliveries[0]!.id;
    const [line] = await eventually(
      () => {
        const found = logged("delivery.succeeded").filter((l) => l.delivery === id);
        return found.length > 0 ? found : undefined;
      },
      15_000,
      "the delivery's log line",
    );
    expect(line).toMatchObject({
      level: "info",
      webhook: "crm-contact",
      delivery: id,
      run: published.runId,
      status: "succeeded",
      httpStatus: 201,
      attempt: 1,
    });
    expect(typeof line!.durationMs).toBe("number");
    expect(line!.durationMs as number).toBeGreaterThanOrEqual(0);
  });

  it("logs each delivery of a batch request that succeeded at info, naming the batch", async () => {
    const published = await app.publish(["b1", "b2", "b3"].map((id) => ({ type: "bulk", customer: { id } })));
    const ids = published.events.map((e) => e.deliveries[0]!.id);
    const [line] = await eventually(
      () => {
        const found = logged("delivery.succeeded").filter((l) => ids.includes(l.delivery as string));
        return found.length === 3 ? found : undefined;
      },
      15_000,
      "the batch's log lines",
    );
    expect(line).toMatchObject({ level: "info", webhook: "crm-batch", httpStatus: 202, batchSize: 3 });
    expect(typeof line!.batch).toBe("string");
    expect(typeof line!.durationMs).toBe("number");
  });
});
