import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { nodeTransport } from "../../../adapters/node/transport.ts";
import type { Plugin } from "../../../core/contracts/plugin.ts";
import type { Delivery } from "../../../core/contracts/store.ts";
import type { AddressGuard } from "../../../core/net/address-guard.ts";
import { Tokens } from "../../../core/tokens.ts";
import { mtls } from "../../../plugins/mtls/index.ts";
import { eventually, testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink, testPki } from "../../support/http-sink.ts";
import { type Identity, selfSigned, yamlBlock } from "./certs.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

/**
 * Node's transport, trusting the test CA for one host: the server that publishes PEM files over
 * https has a certificate from the test CA, which no runtime trusts by default.
 */
const trustingTransport = (pemServer: () => string, pki: ReturnType<typeof testPki>): Plugin => ({
  name: "test-transport",
  register(c) {
    c.register(Tokens.TransportFactory, {
      useValue: (deps) => {
        const inner = nodeTransport({ guard: deps.guard as AddressGuard });
        return {
          name: "trusting-node",
          send: (r) =>
            inner.send(r.url.startsWith(pemServer()) ? { ...r, tls: { ...pki.client, ca: pki.ca } } : r),
          close: () => inner.close!(),
        };
      },
    });
  },
});

describe("mtls against a TLS server that requires client certificates", () => {
  const pki = testPki();
  let driver: Driver;
  let bank: Sink;
  let pems: Sink;
  let stranger: Identity;
  let app: Awaited<ReturnType<typeof testApp>>;

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    stranger = await selfSigned("stranger");
    bank = await startSink((r) => ({ body: JSON.stringify({ cn: r.clientCert }) }), {
      tls: { ...pki.server, ca: pki.ca, requestCert: true },
    });
    pems = await startSink(
      (r) =>
        r.url === "/client.crt"
          ? { body: pki.client.cert }
          : r.url === "/client.key"
            ? { body: pki.client.key }
            : { status: 404 },
      { tls: { ...pki.server } },
    );
    app = await testApp(
      `
engine:
  pollInterval: 20ms
  timeout: 2s
  retry: { delays: [30ms, 30ms, 30ms], jitter: 0 }
  allowNetworks: ["127.0.0.1/32"]
integrations:
  bank:
    kind: mtls
    endpointPrefix: ${bank.url}/api
    certificate: ${yamlBlock(pki.client.cert)}
    privateKey: ${yamlBlock(pki.client.key)}
    ca: { pem: "${pki.ca.replace(/\n/g, "\\n")}" }
  stranger:
    kind: mtls
    endpointPrefix: ${bank.url}/api
    certificate: ${yamlBlock(stranger.cert)}
    privateKey: ${yamlBlock(stranger.key)}
    ca: ${yamlBlock(pki.ca)}
  fetched:
    kind: mtls
    endpointPrefix: ${bank.url}/api
    certificate: { url: "${pems.url}/client.crt" }
    privateKey: { url: "${pems.url}/client.key" }
    ca: ${yamlBlock(pki.ca)}
webhooks:
  bank: { url: "${bank.url}/api/payments", integration: bank, body: '{"amount": 1}' }
  stranger: { url: "${bank.url}/api/payments", integration: stranger, body: "{}" }
  anonymous: { url: "${bank.url}/api/payments", body: "{}" }
  fetched: { url: "${bank.url}/api/payments", integration: fetched, body: "{}" }
triggers:
  - { kind: event, events: [bank], webhooks: [bank] }
  - { kind: event, events: [stranger], webhooks: [stranger] }
  - { kind: event, events: [anonymous], webhooks: [anonymous] }
  - { kind: event, events: [fetched], webhooks: [fetched] }
`,
      driver,
      { plugins: [mtls(), trustingTransport(() => pems.url, pki)] },
    );
    await app.start();
  });
  afterAll(async () => {
    await app.stop(1_000);
    await bank.close();
    await pems.close();
    await driver.dispose();
  });

  const deliver = async (type: string): Promise<Delivery> => {
    const id = (await app.publish({ type, customer: { id: "c-1" } })).events[0]!.deliveries[0]!.id;
    return eventually(async () => {
      const d = await app.store.getDelivery(id);
      return d && ["succeeded", "failed"].includes(d.status) ? d : undefined;
    }, 20_000);
  };

  it("presents the client certificate: 200, and the server sees its CN", async () => {
    const d = await deliver("bank");
    expect(d.status).toBe("succeeded");
    expect(bank.requests.at(-1)!.clientCert).toBe("hookline-test-client");
    const [attempt] = await app.store.listAttempts(d.id);
    expect(JSON.parse(attempt!.responseBody!)).toEqual({ cn: "hookline-test-client" });
  });

  // Which fault a refused handshake surfaces as depends on the TLS version: under TLS 1.3 the client
  // learns of the refusal only after its Finished, as a reset or an alert on the first read.
  const handshakeFaults = ["tls", "connection_reset", "network"];

  it("is refused by the server with a client certificate from another issuer: a transport fault, nothing received", async () => {
    const before = bank.requests.length;
    const d = await deliver("stranger");
    expect(d.status).toBe("failed");
    const attempts = await app.store.listAttempts(d.id);
    expect(handshakeFaults).toContain(attempts[0]!.errorClass!);
    expect(attempts.every((a) => a.status === undefined)).toBe(true);
    expect(bank.requests.length).toBe(before);
  });

  it("fails the handshake without the integration (no identity, no CA): a transport fault, nothing received", async () => {
    const before = bank.requests.length;
    const d = await deliver("anonymous");
    expect(d.status).toBe("failed");
    const attempts = await app.store.listAttempts(d.id);
    expect(handshakeFaults).toContain(attempts[0]!.errorClass!);
    expect(attempts.every((a) => a.status === undefined)).toBe(true);
    expect(bank.requests.length).toBe(before);
  });

  it("loads certificate and key from https URLs through the app's transport", async () => {
    const d = await deliver("fetched");
    expect(d.status).toBe("succeeded");
    expect(pems.requests.map((r) => r.url).sort()).toEqual(["/client.crt", "/client.key"]);
    expect(bank.requests.at(-1)!.clientCert).toBe("hookline-test-client");
  });

  it("keeps the private key out of logs and attempt records", async () => {
    const keyLines = pki.client.key.split("\n").filter((l) => l.length >= 16 && !l.startsWith("-----"));
    const everything = [app.logs.join("\n")];
    for (const d of await app.store.listDeliveries({ limit: 100 }))
      everything.push(JSON.stringify(d), JSON.stringify(await app.store.listAttempts(d.id)));
    for (const line of keyLines) for (const text of everything) expect(text).not.toContain(line);
  });
});
