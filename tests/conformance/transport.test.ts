import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { TransportError } from "../../core/contracts/transport.ts";
import { AddressGuard } from "../../core/net/address-guard.ts";
import { eta } from "../../plugins/eta/index.ts";
import { mtls } from "../../plugins/mtls/index.ts";
import { transportBehaviour } from "../core/transport/behaviour.ts";
import { type ConformanceApp, conformanceApp, eventually } from "./support/app.ts";
import { type MtlsServer, mtlsServer, strangerIdentity } from "./support/mtls-server.ts";
import { RUNTIME, transportMaker } from "./support/runtime.ts";

const make = await transportMaker();

// What every transport owes the engine (answers, redirects, faults, caps, the SSRF guard).
transportBehaviour(RUNTIME, make);

describe(`mTLS outbound (${RUNTIME})`, () => {
  let server: MtlsServer;
  const transport = make(new AddressGuard({ allowNetworks: ["127.0.0.1/32"] }));
  const request = { method: "GET" as const, headers: {}, timeoutMs: 5_000, maxResponseBytes: 65_536 };

  beforeAll(async () => {
    server = await mtlsServer();
  });
  afterAll(async () => {
    await transport.close?.();
    await server.close();
  });

  it("presents the client certificate the server requires, trusting the server's CA", async () => {
    const r = await transport.send({
      ...request,
      url: `${server.url}/mtls`,
      tls: { ...server.pki.client, ca: server.pki.ca },
    });
    expect(r).toMatchObject({ status: 200, body: "hello hookline-test-client" });
  });

  it("is refused by that server with a certificate its CA never signed: a transport fault, no answer", async () => {
    const error = await transport
      .send({ ...request, url: `${server.url}/mtls`, tls: { ...strangerIdentity(), ca: server.pki.ca } })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(TransportError);
    expect(["tls", "connection_reset", "network"]).toContain((error as TransportError).faultClass);
  });

  describe("through the engine", () => {
    let app: ConformanceApp;
    beforeAll(async () => {
      const indent = (pem: string) =>
        pem
          .trim()
          .split("\n")
          .map((l) => `      ${l}`)
          .join("\n");
      app = await conformanceApp(
        `
engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"], retry: { delays: [50ms], jitter: 0 } }
integrations:
  bank:
    kind: mtls
    endpointPrefix: ${server.url}/api
    certificate: |
${indent(server.pki.client.cert)}
    privateKey: |
${indent(server.pki.client.key)}
    ca: |
${indent(server.pki.ca)}
webhooks:
  transfer:
    url: ${server.url}/api/transfers
    integration: bank
    body: '{"id": <%= json(it.customer.id) %>}'
triggers:
  - { kind: event, events: [transfer], webhooks: [transfer] }
`,
        [eta(), mtls()],
      );
      await app.start();
    });
    afterAll(async () => {
      await app.dispose();
    });

    it("delivers through an mTLS integration, the answer naming the client certificate", async () => {
      const published = await app.publish({ type: "transfer", customer: { id: "t1" } });
      const id = published.events[0]!.deliveries[0]!.id;
      const d = await eventually(async () => {
        const x = await app.store.getDelivery(id);
        return x && x.status !== "pending" && x.status !== "in_flight" ? x : undefined;
      });
      expect(d?.status).toBe("succeeded");
      const [attempt] = await app.store.listAttempts(id);
      expect(attempt?.responseBody).toBe("hello hookline-test-client");
    });
  });
});
