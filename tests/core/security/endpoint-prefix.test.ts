import { describe, expect, it } from "bun:test";
import { HooklineError } from "../../../core/errors.ts";
import { assertUnderEndpointPrefix, isUnderEndpointPrefix } from "../../../core/security/endpoint-prefix.ts";

const prefix = "https://x.com/api/v1";
const under = (url: string, p = prefix) => isUnderEndpointPrefix(url, p);

describe("isUnderEndpointPrefix", () => {
  it("sends credentials under /api/v1, not to /api/v2", () => {
    expect(under("https://x.com/api/v1/send_sms")).toBe(true);
    expect(under("https://x.com/api/v2/send_sms")).toBe(false);
  });

  it("matches on a segment boundary: /api/v1evil is not under /api/v1", () => {
    expect(under("https://x.com/api/v1evil")).toBe(false);
    expect(under("https://x.com/api/v1evil/send_sms")).toBe(false);
  });

  it("resolves dot segments before comparing, in every spelling", () => {
    expect(under("https://x.com/api/v1/../v2/send_sms")).toBe(false);
    expect(under("https://x.com/api/v1/%2e%2e/v2/send_sms")).toBe(false);
    expect(under("https://x.com/api/v1/%2E%2E/v2/send_sms")).toBe(false);
    expect(under("https://x.com/api/v1/.%2e/v2")).toBe(false);
    expect(under("https://x.com/api/v1/./send")).toBe(true);
    expect(under("https://x.com/api/v2/../v1/send")).toBe(true);
  });

  it("verifies that WHATWG URL treats %2e as a dot", () => {
    expect(new URL("https://x.com/api/v1/%2e%2e/v2").pathname).toBe("/api/v2");
    expect(new URL("https://x.com/api/v1/%2E%2e/v2").pathname).toBe("/api/v2");
  });

  it("refuses encoded slashes and backslashes, which some servers decode into separators", () => {
    expect(under("https://x.com/api/v1%2F..%2Fv2")).toBe(false);
    expect(under("https://x.com/api/v1/%2F..%2F..%2Fadmin")).toBe(false);
    expect(under("https://x.com/api/v1/%2f..%2f..%2fadmin")).toBe(false);
    expect(under("https://x.com/api/v1/..%5C..%5Cadmin")).toBe(false);
  });

  it("refuses ;-parameter dot segments that Tomcat-style servers resolve", () => {
    expect(under("https://x.com/api/v1/..;/v2/send_sms")).toBe(false);
    expect(under("https://x.com/api/v1/send;v=2")).toBe(true);
  });

  it("decodes percent-encoded unreserved characters: %76%31 is v1", () => {
    expect(under("https://x.com/api/%76%31/send_sms")).toBe(true);
    expect(under("https://x.com/api/v1/send", "https://x.com/%61pi/v1")).toBe(true);
    expect(under("https://x.com/api/v1/a%7e", "https://x.com/api/v1/a~")).toBe(true);
    expect(under("https://x.com/api/v1/a%3a", "https://x.com/api/v1/a%3A")).toBe(true);
  });

  it("requires the same port, counting the default port as written or not", () => {
    expect(under("https://x.com:8443/api/v1/send")).toBe(false);
    expect(under("https://x.com:443/api/v1/send")).toBe(true);
    expect(under("https://x.com/api/v1/send", "https://x.com:443/api/v1")).toBe(true);
    expect(under("http://x.com:80/api/v1/send", "http://x.com/api/v1")).toBe(true);
  });

  it("requires the same scheme", () => {
    expect(under("http://x.com/api/v1/send")).toBe(false);
  });

  it("requires the same host, case-insensitively and IDNA-encoded", () => {
    expect(under("https://y.com/api/v1/send")).toBe(false);
    expect(under("https://x.com.evil.com/api/v1/send")).toBe(false);
    expect(under("https://evilx.com/api/v1/send")).toBe(false);
    expect(under("https://X.COM/api/v1/send")).toBe(true);
    expect(under("https://xn--bcher-kva.de/api/v1", "https://BÜCHER.de/api/v1")).toBe(true);
  });

  it("admits the exact prefix path, with or without a trailing slash", () => {
    expect(under("https://x.com/api/v1")).toBe(true);
    expect(under("https://x.com/api/v1/")).toBe(true);
    expect(under("https://x.com/api")).toBe(false);
  });

  it("admits paths under a prefix with a trailing slash", () => {
    expect(under("https://x.com/api/v1/send", "https://x.com/api/v1/")).toBe(true);
    expect(under("https://x.com/api/v1", "https://x.com/api/v1/")).toBe(true);
    expect(under("https://x.com/api/v1x", "https://x.com/api/v1/")).toBe(false);
  });

  it("admits the whole origin for an origin-only prefix", () => {
    expect(under("https://x.com/anything/at/all?q=1", "https://x.com")).toBe(true);
    expect(under("https://x.com/", "https://x.com/")).toBe(true);
    expect(under("https://x.com.evil/", "https://x.com")).toBe(false);
  });

  it("ignores query and fragment on both sides", () => {
    expect(under("https://x.com/api/v1/send?path=/api/v2#/api/v2")).toBe(true);
    expect(under("https://x.com/api/v2/send?x=/api/v1")).toBe(false);
    expect(under("https://x.com/api/v1/send", "https://x.com/api/v1?ignored=1")).toBe(true);
  });

  it("refuses URLs with userinfo", () => {
    expect(under("https://a@x.com/api/v1/send")).toBe(false);
    expect(under("https://a:b@x.com/api/v1/send")).toBe(false);
  });

  it("refuses what is not an http(s) URL", () => {
    expect(under("not a url")).toBe(false);
    expect(under("https://x.com/api/v1", "not a url")).toBe(false);
    expect(under("ftp://x.com/api/v1/send", "ftp://x.com/api/v1")).toBe(false);
  });
});

describe("assertUnderEndpointPrefix", () => {
  it("passes silently under the prefix", () => {
    expect(() => assertUnderEndpointPrefix("https://x.com/api/v1/send", prefix, "sms")).not.toThrow();
  });

  it("throws HOOKLINE_AUTH_SCOPE naming integration, prefix and URL, without the query", () => {
    let error: unknown;
    try {
      assertUnderEndpointPrefix("https://user:pw@x.com/api/v2/send?token=SECRET#frag", prefix, "sms-gateway");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HooklineError);
    const { code, message } = error as HooklineError;
    expect(code).toBe("HOOKLINE_AUTH_SCOPE");
    expect(message).toContain('"sms-gateway"');
    expect(message).toContain("https://x.com/api/v1");
    expect(message).toContain("https://x.com/api/v2/send");
    expect(message).not.toContain("SECRET");
    expect(message).not.toContain("pw");
    expect(message).not.toContain("frag");
  });
});
