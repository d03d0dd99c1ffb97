import { describe, expect, it } from "bun:test";
import type { AttemptOutcome } from "../../../core/contracts/retry.ts";
import { parseRetryAfter, retryContract } from "../../../core/engine/retry.ts";

const policy = (random = () => 0.5) =>
  retryContract({
    delays: [7_000, 45_000, 300_000],
    jitter: 0.1,
    scale: 1,
    maxRetryAfter: 3_600_000,
    random,
  });
const http = (status: number, headers: Record<string, string> = {}): AttemptOutcome => ({
  kind: "response",
  status,
  headers,
});
const fault = (
  faultClass: "timeout" | "connection_refused" | "connection_reset" | "dns" | "tls" | "blocked_address",
): AttemptOutcome => ({
  kind: "fault",
  faultClass,
  message: "x",
});
const first = { number: 1, maxAttempts: 4 };

describe("the retry contract", () => {
  it("succeeds on every 2xx", () => {
    for (const s of [200, 201, 202, 204, 299]) expect(policy().decide(http(s), first).action).toBe("succeed");
  });

  it("retries HTTP >= 500 and 429", () => {
    for (const s of [500, 502, 503, 504, 599, 429])
      expect(policy().decide(http(s), first).action).toBe("retry");
  });

  it("retries connection faults: timeout, refused, reset, DNS", () => {
    for (const f of ["timeout", "connection_refused", "connection_reset", "dns"] as const) {
      expect(policy().decide(fault(f), first).action).toBe("retry");
    }
  });

  it("fails, without retrying, a target the SSRF guard refused", () => {
    expect(policy().decide(fault("blocked_address"), first).action).toBe("fail");
  });

  it("halts the webhook on 400, 404, 410, 412, 413 and 418", () => {
    for (const s of [400, 404, 410, 412, 413, 418]) {
      const d = policy().decide(http(s), first);
      expect(d.action).toBe("halt");
    }
  });

  it("fails only the delivery on other 4xx", () => {
    for (const s of [401, 403, 405, 409, 415, 422, 451])
      expect(policy().decide(http(s), first).action).toBe("fail");
  });

  it("does not follow 3xx: the delivery fails and says where it was sent", () => {
    const d = policy().decide(http(301, { location: "https://elsewhere.example/x?token=secret" }), first);
    expect(d).toEqual({
      action: "fail",
      reason: "HTTP 301: redirect to https://elsewhere.example/x not followed",
    });
  });

  it("gives 4 attempts, and 8 to batch webhooks of batch size 10 or more", () => {
    expect(policy().maxAttempts({})).toBe(4);
    expect(policy().maxAttempts({ batchSize: 9 })).toBe(4);
    expect(policy().maxAttempts({ batchSize: 10 })).toBe(8);
    expect(policy().maxAttempts({ batchSize: 1000 })).toBe(8);
  });

  it("gives up after the last attempt with the last reason", () => {
    const d = policy().decide(http(503), { number: 4, maxAttempts: 4 });
    expect(d).toEqual({ action: "fail", reason: "gave up after 4 attempts; last: HTTP 503" });
  });

  it("waits about 7 s, 45 s and 300 s, repeating the last for batch attempts", () => {
    const p = policy(() => 0.5); // no jitter at the midpoint
    const delays = [1, 2, 3, 4, 5].map((n) => {
      const d = p.decide(http(500), { number: n, maxAttempts: 8 });
      return d.action === "retry" ? d.delayMs : -1;
    });
    expect(delays).toEqual([7_000, 45_000, 300_000, 300_000, 300_000]);
  });

  it("keeps jitter within ±10 %", () => {
    const low = policy(() => 0).decide(http(500), first);
    const high = policy(() => 0.999999).decide(http(500), first);
    expect(low.action === "retry" && low.delayMs).toBeCloseTo(6_300, 5);
    expect(high.action === "retry" && high.delayMs).toBeCloseTo(7_700, 0);
    const p = policy();
    for (let i = 0; i < 1000; i++) {
      const d = p.decide(http(500), { number: 2, maxAttempts: 4 });
      if (d.action !== "retry") throw new Error("expected retry");
      expect(d.delayMs).toBeGreaterThanOrEqual(40_500);
      expect(d.delayMs).toBeLessThanOrEqual(49_500);
    }
  });

  it("honours Retry-After on 429 when it asks for longer than the schedule", () => {
    const d = policy().decide(http(429, { "retry-after": "120" }), first);
    expect(d.action === "retry" && d.delayMs).toBe(120_000);
    const short = policy().decide(http(429, { "retry-after": "1" }), first);
    expect(short.action === "retry" && short.delayMs).toBe(7_000);
  });

  it("caps Retry-After at maxRetryAfter", () => {
    const p = retryContract({ delays: [10], jitter: 0, scale: 1, maxRetryAfter: 60_000 });
    const d = p.decide(http(429, { "retry-after": "86400" }), first);
    expect(d.action === "retry" && d.delayMs).toBe(60_000);
  });

  it("scales the schedule for drills and tests", () => {
    const p = retryContract({ delays: [7_000], jitter: 0, scale: 0.001, maxRetryAfter: 1 });
    const d = p.decide(http(500), first);
    expect(d.action === "retry" && d.delayMs).toBe(7);
  });
});

describe("parseRetryAfter", () => {
  it("reads delta-seconds and HTTP dates", () => {
    expect(parseRetryAfter("30")).toBe(30_000);
    const now = Date.parse("2026-01-01T00:00:00Z");
    expect(parseRetryAfter("Thu, 01 Jan 2026 00:01:00 GMT", now)).toBe(60_000);
    expect(parseRetryAfter("soon")).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
