import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { eta } from "../../plugins/eta/index.ts";
import { inbound } from "../../plugins/inbound/index.ts";
import { type ConformanceApp, conformanceApp } from "./support/app.ts";
import {
  INBOUND_CONFIG,
  INBOUND_ENV,
  type InboundDriver,
  inboundCases,
  runCase,
} from "./support/inbound-cases.ts";
import { RUNTIME } from "./support/runtime.ts";

// The inbound receivers in process, through the app's fetch: the same cases the edge worker answers
// over HTTP in workerd (tests/runtimes/edge.workerd.ts).
describe(`inbound receivers on PGlite (${RUNTIME})`, () => {
  let app: ConformanceApp;
  let driver: InboundDriver;

  beforeAll(async () => {
    app = await conformanceApp(INBOUND_CONFIG, [eta(), inbound()], INBOUND_ENV);
    driver = {
      send: async (r) =>
        app.http.fetch(
          new Request(`http://hookline.test${r.path}`, {
            method: r.method,
            headers: r.headers,
            body: r.body,
          }),
          // The server's per-request environment: the peer address the IP allowlist reads.
          { remoteAddress: r.client ?? "127.0.0.1" },
        ),
      count: async (table) =>
        Number((await app.driver.query<{ n: unknown }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n),
    };
  });
  afterAll(async () => {
    await app.dispose();
  });

  for (const c of inboundCases()) {
    it(c.name, async () => {
      await runCase(driver, c, expect);
    });
  }
});
