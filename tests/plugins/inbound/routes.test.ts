/**
 * Where the app does not send (`host.sends === false`: the edge worker, where workerd cancels a request
 * waiting on another request's I/O), the receivers keep no state across requests; where it sends, the
 * endpoints the API defined are served from memory for a few seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { Hono } from "hono";
import type { DependencyContainer } from "tsyringe";
import { type HttpRoutes, Tokens } from "../../../core/plugin/index.ts";
import { inbound } from "../../../plugins/inbound/index.ts";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { ESPUTNIK_EXAMPLE } from "../../support/esputnik-example.ts";

/** The inbound plugin's routes as a host would get them: registered into a container of values. */
function inboundRoutes(): HttpRoutes {
  const values = new Map<unknown, unknown[]>();
  const container = {
    register(token: unknown, provider: { useValue: unknown }) {
      values.set(token, [...(values.get(token) ?? []), provider.useValue]);
    },
    resolveAll: (token: unknown) => values.get(token) ?? [],
  };
  inbound().register(container as unknown as DependencyContainer);
  return values.get(Tokens.HttpRoutes)![0] as HttpRoutes;
}

describe("the inbound routes' state per host", () => {
  let driver: Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;
  let app: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    app = await testApp("inbound: { endpoints: {} }\n", driver, { plugins: [inbound()] });
  });
  afterAll(async () => {
    await app.stop(0);
    await driver.dispose();
  });

  const mounted = (sends: boolean) => {
    const http = new Hono();
    inboundRoutes().mount(http, { ...app.host, sends });
    return http;
  };
  const callback = (http: { fetch: (r: Request) => Response | Promise<Response> }) =>
    http.fetch(
      new Request("http://h/in/short-lived", {
        method: "POST",
        body: ESPUTNIK_EXAMPLE,
        headers: { "content-type": "application/json" },
      }),
    );
  const admin = (method: string, body?: unknown) =>
    app.fetch(
      new Request("http://h/v1/inbound/short-lived", {
        method,
        body: body === undefined ? undefined : JSON.stringify(body),
        headers: { "content-type": "application/json" },
      }),
    );

  it("reads the endpoints per request where the app does not send, and keeps them a while where it does", async () => {
    const edge = mounted(false);
    const server = mounted(true);
    expect((await admin("PUT", { kind: "activity-status", auth: { kind: "none" } })).status).toBe(201);
    expect((await callback(edge)).status).toBe(200);
    expect((await callback(server)).status).toBe(200);
    expect((await admin("DELETE")).status).toBe(204);
    // The edge's next request sees the store as it is now; the server serves what it knew, for a few seconds.
    expect((await callback(edge)).status).toBe(404);
    expect((await callback(server)).status).toBe(200);
  });
});
