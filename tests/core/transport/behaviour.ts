import { afterAll, afterEach, describe, expect, it } from "bun:test";
import type { FaultClass, Transport, TransportRequest } from "../../../core/contracts/transport.ts";
import { TransportError } from "../../../core/contracts/transport.ts";
import { AddressGuard } from "../../../core/net/address-guard.ts";
import {
  type Sink,
  type SinkHandler,
  type SinkOptions,
  startSink,
  unusedPort,
} from "../../support/http-sink.ts";

/**
 * The behaviour every Transport owes the engine, run against each implementation: answers returned
 * (never thrown), redirects not followed, faults classified, bodies capped, the SSRF guard applied.
 *
 * @example transportBehaviour("node", (guard) => nodeTransport({ guard }));
 */
export function transportBehaviour(name: string, make: (guard: AddressGuard) => Transport): void {
  describe(`${name} transport: shared behaviour`, () => {
    // The sinks live on loopback, so most tests need it admitted; `strict` is the production default.
    const loopback = make(new AddressGuard({ allowNetworks: ["127.0.0.1/32", "::1/128"] }));
    const strict = make(new AddressGuard({ allowNetworks: [] }));
    const sinks: Sink[] = [];
    const sink = async (handler?: SinkHandler, options?: SinkOptions) => {
      const s = await startSink(handler, options);
      sinks.push(s);
      return s;
    };
    afterEach(async () => {
      await Promise.all(sinks.splice(0).map((s) => s.close()));
    });
    afterAll(async () => {
      await loopback.close?.();
      await strict.close?.();
    });

    const request = (url: string, extra: Partial<TransportRequest> = {}): TransportRequest => ({
      method: "GET",
      url,
      headers: {},
      timeoutMs: 3000,
      maxResponseBytes: 65_536,
      ...extra,
    });
    const fault = async (sending: Promise<unknown>, faultClass: FaultClass): Promise<TransportError> => {
      const error = await sending.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TransportError);
      expect((error as TransportError).faultClass).toBe(faultClass);
      expect((error as TransportError).code as string).toBe(`HOOKLINE_TRANSPORT_${faultClass.toUpperCase()}`);
      return error as TransportError;
    };

    it("returns a 200 with its body and lower-cased headers, having sent method, headers and body", async () => {
      const s = await sink(() => ({
        status: 200,
        headers: { "X-Answer": "Forty-Two" },
        body: '{"ok":true}',
      }));
      const response = await loopback.send(
        request(`${s.url}/hook?x=1`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-trace": "abc" },
          body: '{"hello":"world"}',
        }),
      );
      expect(response).toMatchObject({ status: 200, body: '{"ok":true}', truncated: false });
      expect(response.headers["x-answer"]).toBe("Forty-Two");
      expect(Object.keys(response.headers).every((k) => k === k.toLowerCase())).toBe(true);
      expect(s.requests).toHaveLength(1);
      expect(s.requests[0]).toMatchObject({ method: "POST", url: "/hook?x=1", body: '{"hello":"world"}' });
      expect(s.requests[0]?.headers["x-trace"]).toBe("abc");
      expect(s.requests[0]?.headers["content-type"]).toBe("application/json");
    });

    it("returns a 503 as a response rather than throwing", async () => {
      const s = await sink(() => ({ status: 503, body: "busy" }));
      const response = await loopback.send(request(`${s.url}/`));
      expect(response).toMatchObject({ status: 503, body: "busy", truncated: false });
    });

    it("returns a 302 without following it", async () => {
      const s = await sink((r) =>
        r.url === "/start" ? { status: 302, headers: { location: "/elsewhere" } } : {},
      );
      const response = await loopback.send(request(`${s.url}/start`));
      expect(response.status).toBe(302);
      expect(response.headers.location).toBe("/elsewhere");
      expect(s.requests.map((r) => r.url)).toEqual(["/start"]);
    });

    it("times out a server that never answers", async () => {
      const s = await sink(() => ({ hang: true }));
      const started = performance.now();
      await fault(loopback.send(request(`${s.url}/`, { timeoutMs: 200 })), "timeout");
      expect(performance.now() - started).toBeLessThan(2000);
    });

    it("times out a body that trickles past the deadline", async () => {
      const s = await sink(() => ({ chunks: ["a", "b", "c", "d", "e", "f"], intervalMs: 100 }));
      await fault(loopback.send(request(`${s.url}/`, { timeoutMs: 250 })), "timeout");
    });

    it("classifies a refused port as connection_refused", async () => {
      const port = await unusedPort();
      await fault(loopback.send(request(`http://127.0.0.1:${port}/`)), "connection_refused");
    });

    it("classifies a socket destroyed mid-request as connection_reset", async () => {
      const s = await sink(() => ({ destroy: true }));
      await fault(loopback.send(request(`${s.url}/`, { method: "POST", body: "x" })), "connection_reset");
    });

    it("cuts a body larger than maxResponseBytes and says so", async () => {
      const s = await sink(() => ({ body: "x".repeat(200_000) }));
      const response = await loopback.send(request(`${s.url}/`, { maxResponseBytes: 1000 }));
      expect(response.truncated).toBe(true);
      expect(response.body).toBe("x".repeat(1000));
    });

    it("keeps a body of exactly maxResponseBytes whole", async () => {
      const s = await sink(() => ({ body: "y".repeat(1000) }));
      const response = await loopback.send(request(`${s.url}/`, { maxResponseBytes: 1000 }));
      expect(response).toMatchObject({ truncated: false, body: "y".repeat(1000) });
    });

    it("cuts between characters, not inside a multi-byte one", async () => {
      const s = await sink(() => ({ body: "é".repeat(100) }));
      const response = await loopback.send(request(`${s.url}/`, { maxResponseBytes: 11 }));
      expect(response).toMatchObject({ truncated: true, body: "é".repeat(5) });
    });

    it("classifies an unresolvable host as dns", async () => {
      await fault(loopback.send(request("http://nonexistent.invalid/")), "dns");
    });

    it("classifies TLS spoken to a plain-HTTP port as tls", async () => {
      const s = await sink();
      await fault(loopback.send(request(`https://127.0.0.1:${s.port}/`)), "tls");
    });

    for (const address of ["10.0.0.1", "169.254.169.254"]) {
      it(`refuses ${address} as blocked_address before connecting`, async () => {
        // A connection attempt would end in timeout or a network error, never in blocked_address.
        const error = await fault(
          strict.send(request(`http://${address}/latest/meta-data/`)),
          "blocked_address",
        );
        expect(error.message).toContain(address);
      });
    }

    it("refuses [::1] as blocked_address, and no connection reaches a sink there", async () => {
      const s = await sink(undefined, { host: "::1" });
      await fault(strict.send(request(`${s.url}/`)), "blocked_address");
      expect(s.connections).toBe(0);
    });

    it("refuses a 127.0.0.1 literal under the default rules, and no connection reaches the sink", async () => {
      const s = await sink();
      const error = await fault(strict.send(request(`${s.url}/`)), "blocked_address");
      expect(error.message).toContain("loopback");
      expect(s.connections).toBe(0);
    });

    it("refuses localhost, which resolves to loopback, when loopback is not allowed", async () => {
      const s = await sink();
      const error = await fault(strict.send(request(`http://localhost:${s.port}/`)), "blocked_address");
      expect(error.message).toContain("localhost");
      expect(s.connections).toBe(0);
    });

    it("admits localhost with allowNetworks 127.0.0.1/32 and ::1/128", async () => {
      const s = await sink(() => ({ body: "hi" }));
      const response = await loopback.send(request(`http://localhost:${s.port}/`));
      expect(response).toMatchObject({ status: 200, body: "hi" });
      expect(s.requests).toHaveLength(1);
    });

    it("refuses schemes other than http and https", async () => {
      await fault(loopback.send(request("file:///etc/passwd")), "blocked_address");
    });

    it("stops when the caller's signal aborts", async () => {
      const s = await sink(() => ({ hang: true }));
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 100);
      const started = performance.now();
      const error = await fault(
        loopback.send(request(`${s.url}/`, { signal: controller.signal })),
        "network",
      );
      expect(error.message).toContain("aborted by the caller");
      expect(performance.now() - started).toBeLessThan(2000);
    });

    it("stops every request in flight when their shared signal aborts, and sends on a signal that has not", async () => {
      const s = await sink((r) => (r.url === "/ok" ? { body: "ok" } : { hang: true }));
      const stop = new AbortController();
      const hanging = Array.from({ length: 12 }, (_, i) =>
        fault(loopback.send(request(`${s.url}/hang/${i}`, { signal: stop.signal })), "network"),
      );
      // A request that ended before the abort lets go of the signal: the abort does not reach it.
      const other = new AbortController();
      expect((await loopback.send(request(`${s.url}/ok`, { signal: other.signal }))).body).toBe("ok");
      setTimeout(() => stop.abort(), 100);
      const started = performance.now();
      for (const error of await Promise.all(hanging))
        expect(error.message).toContain("aborted by the caller");
      expect(performance.now() - started).toBeLessThan(2000);
      await fault(loopback.send(request(`${s.url}/ok`, { signal: stop.signal })), "network");
      expect((await loopback.send(request(`${s.url}/ok`, { signal: other.signal }))).body).toBe("ok");
    });
  });
}
