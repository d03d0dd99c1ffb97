import { describe, expect, it } from "bun:test";
import { resolveAll } from "../../../adapters/node/transport.ts";
import { TransportError } from "../../../core/contracts/transport.ts";
import { AddressGuard } from "../../../core/net/address-guard.ts";
import {
  type AddressPinning,
  classifyFault,
  type FetchFunction,
  fetchTransport,
  transportError,
} from "../../../core/transport/fetch-transport.ts";
import { startSink, unusedPort } from "../../support/http-sink.ts";
import { transportBehaviour } from "./behaviour.ts";

// The global fetch checks certificates against the URL's host, so with a pinned URL it can only
// speak plain HTTP by name: enough for the shared behaviour, whose https cases use IP literals.
const globalFetch: FetchFunction = (input, init) => fetch(input, init);
const pinned = (resolve: AddressPinning["resolve"], send: FetchFunction = globalFetch): AddressPinning => ({
  resolve,
  fetch: () => send,
});

transportBehaviour("fetch", (guard) => fetchTransport({ guard, pin: pinned(resolveAll) }));

const strict = new AddressGuard({ allowNetworks: [] });
const loopback = new AddressGuard({ allowNetworks: ["127.0.0.1/32"] });
const base = { method: "GET" as const, headers: {}, timeoutMs: 2000, maxResponseBytes: 1024 };

describe("fetch transport", () => {
  it("sends through the fetch it is given", async () => {
    const seen: string[] = [];
    const transport = fetchTransport({
      guard: strict,
      fetch: async (input) => {
        seen.push((input as Request).url);
        return new Response("from the custom fetch", { status: 201 });
      },
    });
    const response = await transport.send({ ...base, url: "https://api.example/x" });
    expect(response).toMatchObject({ status: 201, body: "from the custom fetch" });
    expect(seen).toEqual(["https://api.example/x"]);
  });

  it("never calls fetch for a refused address", async () => {
    let calls = 0;
    const transport = fetchTransport({
      guard: strict,
      fetch: async () => {
        calls++;
        return new Response("");
      },
      pin: pinned(async () => ["8.8.8.8", "10.1.2.3"]),
    });
    for (const url of [
      "http://10.0.0.1/",
      "http://169.254.169.254/",
      "http://[::1]/",
      "http://[::ffff:127.0.0.1]/",
    ]) {
      const error = await transport.send({ ...base, url }).catch((e: unknown) => e);
      expect((error as TransportError).faultClass).toBe("blocked_address");
    }
    // One refused address among several is enough to refuse the name.
    const error = await transport.send({ ...base, url: "https://mixed.example/" }).catch((e: unknown) => e);
    expect((error as TransportError).message).toContain("10.1.2.3");
    expect(calls).toBe(0);
  });

  it("classifies a failing resolve as dns", async () => {
    const transport = fetchTransport({
      guard: strict,
      pin: pinned(async () => {
        throw new Error("resolver unavailable");
      }),
    });
    const error = await transport.send({ ...base, url: "https://api.example/" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransportError);
    expect((error as TransportError).faultClass).toBe("dns");
  });

  it("checks only IP-literal hosts when not pinned, leaving names to fetch", async () => {
    const sink = await startSink(() => ({ body: "reached" }));
    try {
      const transport = fetchTransport({ guard: strict });
      const response = await transport.send({ ...base, url: `http://localhost:${sink.port}/` });
      expect(response.body).toBe("reached");
    } finally {
      await sink.close();
    }
  });

  it("presents a TLS client identity only through tlsFetch, and fails without one", async () => {
    const tls = { cert: "CERT", key: "KEY" };
    const without = fetchTransport({ guard: loopback, fetch: async () => new Response("plain") });
    const error = await without.send({ ...base, url: "https://127.0.0.1:9/", tls }).catch((e: unknown) => e);
    expect((error as TransportError).faultClass).toBe("tls");

    const identities: unknown[] = [];
    const withIdentity = fetchTransport({
      guard: loopback,
      fetch: async () => new Response("plain"),
      tlsFetch: (identity) => {
        identities.push(identity);
        return async () => new Response("with identity");
      },
    });
    const response = await withIdentity.send({ ...base, url: "https://127.0.0.1:9/", tls });
    expect(response.body).toBe("with identity");
    expect(identities).toEqual([tls]);
  });

  it("sends a pinned request to the checked address, Host and the TLS server name naming the host", async () => {
    const seen: { url: string; host: string | null; serverName: string }[] = [];
    const transport = fetchTransport({
      guard: strict,
      pin: {
        resolve: async () => ["8.8.8.8"],
        fetch: (serverName) => async (input) => {
          const r = input as Request;
          seen.push({ url: r.url, host: r.headers.get("host"), serverName });
          return new Response("pinned");
        },
      },
    });
    const response = await transport.send({ ...base, url: "https://api.example.com.:8443/hook?x=1" });
    expect(response.body).toBe("pinned");
    expect(seen).toEqual([
      { url: "https://8.8.8.8:8443/hook?x=1", host: "api.example.com.:8443", serverName: "api.example.com" },
    ]);
  });

  it("keeps a Host header the request sets itself", async () => {
    const hosts: (string | null)[] = [];
    const transport = fetchTransport({
      guard: strict,
      pin: pinned(
        async () => ["8.8.8.8"],
        async (input) => {
          hosts.push((input as Request).headers.get("host"));
          return new Response("");
        },
      ),
    });
    await transport.send({
      ...base,
      url: "http://api.example.com/",
      headers: { Host: "tenant.example.com" },
    });
    expect(hosts).toEqual(["tenant.example.com"]);
  });

  it("brackets an IPv6 address in the pinned URL and reaches the sink there", async () => {
    const sink = await startSink(() => ({ body: "v6" }), { host: "::1" });
    try {
      const transport = fetchTransport({
        guard: new AddressGuard({ allowNetworks: ["::1/128"] }),
        pin: pinned(async () => ["::1"]),
      });
      const response = await transport.send({ ...base, url: `http://localhost:${sink.port}/` });
      expect(response.body).toBe("v6");
      expect(sink.requests[0]?.headers.host).toBe(`localhost:${sink.port}`);
    } finally {
      await sink.close();
    }
  });

  it("moves to the next checked address only when one refuses the connection", async () => {
    const sink = await startSink(() => ({ body: "second" }));
    const transport = fetchTransport({
      guard: new AddressGuard({ allowNetworks: ["127.0.0.0/8"] }),
      // Nothing listens on 127.0.0.2 at the sink's port: refused, then 127.0.0.1 answers.
      pin: pinned(async () => ["127.0.0.2", "127.0.0.1"]),
    });
    try {
      const response = await transport.send({ ...base, url: `http://localhost:${sink.port}/` });
      expect(response.body).toBe("second");
      // A refusal on the last address is the answer.
      const port = await unusedPort();
      const error = await transport
        .send({ ...base, url: `http://localhost:${port}/` })
        .catch((e: unknown) => e);
      expect((error as TransportError).faultClass).toBe("connection_refused");
    } finally {
      await sink.close();
    }
  });

  it("keeps every Set-Cookie header", async () => {
    const sink = await startSink(() => ({ headers: { "set-cookie": ["a=1", "b=2"] } }));
    try {
      const response = await fetchTransport({ guard: loopback }).send({ ...base, url: `${sink.url}/` });
      expect(response.headers["set-cookie"]).toBe("a=1, b=2");
    } finally {
      await sink.close();
    }
  });
});

describe("classifyFault", () => {
  const coded = (message: string, code: string) => Object.assign(new Error(message), { code });

  it("reads codes from the cause chain (undici under Node's fetch)", () => {
    const nested = new TypeError("fetch failed", {
      cause: coded("connect ECONNREFUSED 127.0.0.1:1", "ECONNREFUSED"),
    });
    expect(classifyFault(nested)).toBe("connection_refused");
    expect(
      classifyFault(new TypeError("fetch failed", { cause: coded("other side closed", "UND_ERR_SOCKET") })),
    ).toBe("connection_reset");
  });

  it("reads codes on the error itself (Bun's fetch)", () => {
    expect(
      classifyFault(coded("ECONNRESET: The socket connection was closed unexpectedly", "ECONNRESET")),
    ).toBe("connection_reset");
    expect(classifyFault(coded("getaddrinfo ENOTFOUND nonexistent.invalid", "ENOTFOUND"))).toBe("dns");
    expect(classifyFault(coded("EPROTO: The TLS handshake failed", "EPROTO"))).toBe("tls");
    expect(
      classifyFault(coded("unable to verify the first certificate", "UNABLE_TO_VERIFY_LEAF_SIGNATURE")),
    ).toBe("tls");
    expect(classifyFault(coded("write EPIPE", "EPIPE"))).toBe("connection_reset");
    expect(classifyFault(coded("getaddrinfo EAI_AGAIN api.example", "EAI_AGAIN"))).toBe("dns");
  });

  it("reads errors aggregated by happy-eyeballs connects", () => {
    const aggregate = Object.assign(
      new AggregateError([coded("connect ECONNREFUSED ::1:1", "ECONNREFUSED")], ""),
      {},
    );
    expect(classifyFault(aggregate)).toBe("connection_refused");
  });

  it("falls back to messages (Deno, workerd)", () => {
    expect(
      classifyFault(
        new TypeError("error sending request: tcp connect error: Connection refused (os error 111)"),
      ),
    ).toBe("connection_refused");
    expect(classifyFault(new TypeError("dns error: failed to lookup address information"))).toBe("dns");
    expect(classifyFault(new TypeError("invalid peer certificate: UnknownIssuer"))).toBe("tls");
    expect(
      classifyFault(new Error("client error (Connect): received corrupt message of type InvalidContentType")),
    ).toBe("tls");
    expect(
      classifyFault(new Error("client error (SendRequest): connection closed before message completed")),
    ).toBe("connection_reset");
    expect(classifyFault(new Error("Network connection lost."))).toBe("connection_reset");
  });

  it("treats a TimeoutError as a timeout, and anything unknown as network", () => {
    expect(classifyFault(new DOMException("The operation timed out.", "TimeoutError"))).toBe("timeout");
    expect(classifyFault(coded("Headers Timeout Error", "UND_ERR_HEADERS_TIMEOUT"))).toBe("timeout");
    expect(classifyFault(new Error("something else"))).toBe("network");
    expect(classifyFault("a string")).toBe("network");
  });
});

describe("transportError", () => {
  it("keeps the most specific message but no query string or userinfo from any URL in it", () => {
    const deno = new TypeError("fetch failed", {
      cause: new Error(
        "error sending request for url (https://bob:pw@x.com/hook?token=S3CRET#f): client error (Connect): tcp connect error: Connection refused (os error 111)",
      ),
    });
    const error = transportError(deno, "POST https://x.com/hook");
    expect(error.faultClass).toBe("connection_refused");
    expect(error.message).toContain(
      "POST https://x.com/hook: error sending request for url (https://x.com/hook)",
    );
    expect(error.message).not.toContain("S3CRET");
    expect(error.message).not.toContain("pw");
    expect(error.cause).toBe(deno);
  });

  it("returns a TransportError found in the cause chain as it is", () => {
    const blocked = new TransportError("blocked_address", "refused to connect to localhost");
    expect(transportError(new Error("connect failed", { cause: blocked }), "GET http://localhost/")).toBe(
      blocked,
    );
  });
});
