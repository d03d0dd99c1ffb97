import { afterAll, afterEach, beforeAll, describe, expect, it } from "bun:test";
import { type Transport, TransportError, type TransportRequest } from "../../core/contracts/transport.ts";
import { AddressGuard } from "../../core/net/address-guard.ts";
import { eta } from "../../plugins/eta/index.ts";
import { mtls } from "../../plugins/mtls/index.ts";
import { transportBehaviour } from "../core/transport/behaviour.ts";
import { type Sink, startSink } from "../support/http-sink.ts";
import { type ConformanceApp, conformanceApp, eventually } from "./support/app.ts";
import { type MtlsServer, mtlsServer, strangerIdentity } from "./support/mtls-server.ts";
import {
  CHECKED_ADDRESS,
  namePki,
  type RebindTargets,
  rebindingResolver,
  rebindTargets,
} from "./support/pinning.ts";
import { RUNTIME, transportMaker } from "./support/runtime.ts";

const make = await transportMaker();

// What every transport owes the engine (answers, redirects, faults, caps, the SSRF guard).
transportBehaviour(RUNTIME, make);

describe(`the SSRF guard against DNS rebinding (${RUNTIME})`, () => {
  // 127.0.0.2 plays a public address, which the guard admits; 127.0.0.1 and ::1 the internal
  // network it refuses. `localhost` plays the attacker's name: the system resolver, which a runtime's
  // fetch would ask again, answers loopback for it.
  const guard = new AddressGuard({ allowNetworks: [`${CHECKED_ADDRESS}/32`] });
  const pki = namePki();
  const opened: { close(): Promise<void> }[] = [];
  const transport = (resolve: (host: string) => Promise<string[]>): Transport => {
    const t = make(guard, { resolve });
    opened.push({ close: async () => void (await t.close?.()) });
    return t;
  };
  const sink = async (...args: Parameters<typeof startSink>): Promise<Sink> => {
    const s = await startSink(...args);
    opened.push(s);
    return s;
  };
  const request = (url: string, extra: Partial<TransportRequest> = {}): TransportRequest => ({
    method: "POST",
    url,
    headers: { "content-type": "text/plain" },
    body: "payload",
    timeoutMs: 5_000,
    maxResponseBytes: 65_536,
    ...extra,
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((o) => o.close()));
  });

  it("connects to the address the guard checked when the name answers loopback on the next lookup", async () => {
    const targets: RebindTargets = await rebindTargets(
      () => ({ body: "checked" }),
      () => ({ body: "internal" }),
    );
    opened.push(targets);
    const resolve = rebindingResolver(CHECKED_ADDRESS, "127.0.0.1");
    const sent = await transport(resolve)
      .send(request(`http://localhost:${targets.port}/hook`))
      .catch((e: unknown) => e);
    expect(targets.loopback.map((s) => s.connections)).toEqual(targets.loopback.map(() => 0));
    expect(sent).toMatchObject({ status: 200, body: "checked" });
    expect(targets.checked.requests).toHaveLength(1);
    expect(targets.checked.requests[0]).toMatchObject({ method: "POST", url: "/hook", body: "payload" });
    expect(targets.checked.requests[0]?.headers.host).toBe(`localhost:${targets.port}`);
    // One lookup, the one the guard judged: nothing resolved the name again.
    expect(resolve.calls).toBe(1);
  });

  it("keeps the host name for Host, SNI and the certificate check while connecting to the checked address", async () => {
    const s = await sink((r) => ({ body: `hello ${r.clientCert}` }), {
      host: CHECKED_ADDRESS,
      tls: { ...pki.forName, ca: pki.ca, requestCert: true },
    });
    const sent = await transport(async () => [CHECKED_ADDRESS]).send(
      request(`https://localhost:${s.port}/hook`, { tls: { ...pki.client, ca: pki.ca } }),
    );
    expect(sent).toMatchObject({ status: 200, body: "hello pinning-client" });
    expect(s.requests[0]?.headers.host).toBe(`localhost:${s.port}`);
    expect(s.requests[0]?.serverName).toBe("localhost");
  });

  it("refuses a server certificate that names the checked address but not the host name", async () => {
    const s = await sink(() => ({ body: "should not be read" }), {
      host: CHECKED_ADDRESS,
      tls: { ...pki.forAddress, ca: pki.ca, requestCert: true },
    });
    const error = await transport(async () => [CHECKED_ADDRESS])
      .send(request(`https://localhost:${s.port}/hook`, { tls: { ...pki.client, ca: pki.ca } }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).faultClass).toBe("tls");
    expect(s.requests).toHaveLength(0);
  });
});

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
