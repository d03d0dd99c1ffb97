import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Sink, startSink, testPki, unusedPort } from "../support/http-sink.ts";
import { type CliRuntime, startCli, untilHealthy } from "./support.ts";

// `hookline serve` from source on each runtime: the runtime's server, file reading, environment,
// signals and transport, with the embedded store in a fresh folder.
const config = (sink: string) => `
engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
integrations:
  crm: { kind: basic, endpointPrefix: ${sink}/api, username: hookline, password: "\${CRM_PASSWORD}" }
webhooks:
  welcome:
    url: ${sink}/api/contacts/<%= it.customer.id %>
    integration: crm
    body: '{"email": <%= json(it.customer.email) %>}'
triggers:
  - { kind: event, events: [signup], webhooks: [welcome] }
`;

const dir = mkdtempSync(join(tmpdir(), "hookline-serve-"));
let sink: Sink;

beforeAll(async () => {
  sink = await startSink();
  writeFileSync(join(dir, "hookline.yaml"), config(sink.url));
});
afterAll(async () => {
  await sink.close();
  rmSync(dir, { recursive: true, force: true });
});

for (const runtime of ["node", "bun", "deno"] as CliRuntime[]) {
  describe(`hookline serve on ${runtime}`, () => {
    it("starts, takes an event, delivers it with credentials, and shuts down cleanly on SIGTERM", async () => {
      const port = await unusedPort();
      const p = await startCli(
        runtime,
        ["serve", "--config", join(dir, "hookline.yaml"), "--port", String(port)],
        {
          HOOKLINE_DATA_DIR: join(dir, `data-${runtime}`),
          CRM_PASSWORD: "pw-1",
        },
      );
      try {
        await untilHealthy(`http://127.0.0.1:${port}/healthz`, p);
        const r = await fetch(`http://127.0.0.1:${port}/v1/events`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            type: "signup",
            customer: { id: `c-${runtime}`, email: `${runtime}@example.com` },
          }),
        });
        expect(r.status).toBe(202);
        const deadline = Date.now() + 15_000;
        while (!sink.requests.some((q) => q.url === `/api/contacts/c-${runtime}`) && Date.now() < deadline)
          await new Promise((res) => setTimeout(res, 25));
        const got = sink.requests.find((q) => q.url === `/api/contacts/c-${runtime}`);
        expect(got?.headers.authorization).toBe(`Basic ${btoa("hookline:pw-1")}`);
        expect(JSON.parse(got!.body)).toEqual({ email: `${runtime}@example.com` });
      } finally {
        p.child.kill("SIGTERM");
      }
      expect(await p.exited).toBe(0);
      expect(p.output()).toContain('"message":"server.stopping"');
    }, 120_000);

    it("fails with the file's name when the config cannot be read", async () => {
      const p = await startCli(runtime, ["serve", "--config", join(dir, "missing.yaml")], {});
      expect(await p.exited).toBe(1);
      expect(p.output()).toContain(`cannot read config file ${join(dir, "missing.yaml")}`);
    }, 60_000);
  });
}

describe("deno without Deno.createHttpClient", () => {
  it("delivers through an mTLS integration all the same: the transport presents certificates through node:tls", async () => {
    const pki = testPki();
    const bank = await startSink((r) => ({ body: `hello ${r.clientCert}` }), {
      tls: { ...pki.server, ca: pki.ca, requestCert: true },
    });
    const indent = (pem: string) =>
      pem
        .trim()
        .split("\n")
        .map((l) => `      ${l}`)
        .join("\n");
    writeFileSync(
      join(dir, "mtls.yaml"),
      `
engine: { pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
integrations:
  bank:
    kind: mtls
    endpointPrefix: ${bank.url}/api
    certificate: |
${indent(pki.client.cert)}
    privateKey: |
${indent(pki.client.key)}
    ca: |
${indent(pki.ca)}
webhooks:
  transfer:
    url: ${bank.url}/api/transfers
    integration: bank
    body: '{"id": <%= json(it.customer.id) %>}'
triggers:
  - { kind: event, events: [transfer], webhooks: [transfer] }
`,
    );
    // A Deno without the API, as an embedder may give (Deno Deploy): removed before hookline loads.
    writeFileSync(
      join(dir, "no-http-client.ts"),
      "delete (Deno as { createHttpClient?: unknown }).createHttpClient;\n",
    );
    const port = await unusedPort();
    const p = await startCli(
      "deno",
      ["serve", "--config", join(dir, "mtls.yaml"), "--port", String(port)],
      { HOOKLINE_DATA_DIR: join(dir, "data-deno-mtls") },
      ["--preload", join(dir, "no-http-client.ts")],
    );
    try {
      await untilHealthy(`http://127.0.0.1:${port}/healthz`, p);
      const r = await fetch(`http://127.0.0.1:${port}/v1/events`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ type: "transfer", customer: { id: "t-deno" } }),
      });
      expect(r.status).toBe(202);
      const deadline = Date.now() + 15_000;
      while (bank.requests.length === 0 && Date.now() < deadline)
        await new Promise((res) => setTimeout(res, 25));
      expect(bank.requests[0]).toMatchObject({
        url: "/api/transfers",
        body: '{"id": "t-deno"}',
        clientCert: "hookline-test-client",
      });
    } finally {
      p.child.kill("SIGTERM");
      await bank.close();
    }
    expect(await p.exited).toBe(0);
  }, 120_000);
});
