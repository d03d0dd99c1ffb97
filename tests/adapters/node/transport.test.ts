import { describe, expect, it } from "bun:test";
import { nodeTransport, resolveAll } from "../../../adapters/node/transport.ts";
import { TransportError } from "../../../core/contracts/transport.ts";
import { AddressGuard } from "../../../core/net/address-guard.ts";
import { transportBehaviour } from "../../core/transport/behaviour.ts";
import { startSink, testPki } from "../../support/http-sink.ts";

transportBehaviour("node", (guard) => nodeTransport({ guard }));

const loopback = new AddressGuard({ allowNetworks: ["127.0.0.1/32"] });
const base = { method: "GET" as const, headers: {}, timeoutMs: 3000, maxResponseBytes: 65_536 };

describe("node transport", () => {
  it("reuses keep-alive connections", async () => {
    const sink = await startSink();
    const transport = nodeTransport({ guard: loopback });
    try {
      for (let i = 0; i < 6; i++) await transport.send({ ...base, url: `${sink.url}/${i}` });
      expect(sink.requests).toHaveLength(6);
      // Undici may open a second socket before the first is back in the pool; never one per request.
      expect(sink.connections).toBeLessThanOrEqual(2);
    } finally {
      await transport.close?.();
      await sink.close();
    }
  });

  it("times out at its own deadline while it waits for a connection", async () => {
    const sink = await startSink(() => ({ hang: true }));
    const transport = nodeTransport({ guard: loopback, connections: 1 });
    try {
      // The one connection is held by a request that hangs for 5 s; the second waits in the pool.
      const holder = new AbortController();
      const first = transport
        .send({ ...base, url: `${sink.url}/first`, timeoutMs: 5000, signal: holder.signal })
        .catch((e: unknown) => e);
      await new Promise((r) => setTimeout(r, 50));
      const started = performance.now();
      const error = await transport
        .send({ ...base, url: `${sink.url}/second`, timeoutMs: 200 })
        .catch((e: unknown) => e);
      expect((error as TransportError).faultClass).toBe("timeout");
      expect(performance.now() - started).toBeLessThan(2000);
      expect(sink.requests.map((r) => r.url)).toEqual(["/first"]);
      holder.abort();
      await first;
    } finally {
      await transport.close?.();
      await sink.close();
    }
  });

  it("presents the request's TLS client identity, trusting its CA, on that identity's agent", async () => {
    const pki = testPki();
    const sink = await startSink((r) => ({ body: `hello ${r.clientCert}` }), {
      tls: { ...pki.server, ca: pki.ca, requestCert: true },
    });
    const transport = nodeTransport({ guard: loopback });
    try {
      const response = await transport.send({
        ...base,
        url: `${sink.url}/`,
        tls: { ...pki.client, ca: pki.ca },
      });
      expect(response).toMatchObject({ status: 200, body: "hello hookline-test-client" });
    } finally {
      await transport.close?.();
      await sink.close();
    }
  });

  it("classifies a server certificate from an unknown CA as tls", async () => {
    const sink = await startSink(undefined, { tls: testPki().server });
    const transport = nodeTransport({ guard: loopback });
    try {
      const error = await transport.send({ ...base, url: `${sink.url}/` }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransportError);
      expect((error as TransportError).faultClass).toBe("tls");
      expect(sink.requests).toHaveLength(0);
    } finally {
      await transport.close?.();
      await sink.close();
    }
  });

  it("resolves a name to all its addresses", async () => {
    expect(await resolveAll("localhost")).toContain("127.0.0.1");
    await expect(resolveAll("nonexistent.invalid")).rejects.toMatchObject({
      code: expect.stringMatching(/^(ENOTFOUND|EAI_AGAIN)$/),
    });
  });
});
