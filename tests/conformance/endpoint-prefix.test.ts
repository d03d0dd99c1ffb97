import { describe, expect, it } from "bun:test";
import { assertUnderEndpointPrefix, isUnderEndpointPrefix } from "../../core/security/endpoint-prefix.ts";
import { RUNTIME } from "./support/runtime.ts";

// The check rests on the runtime's WHATWG URL parser (host case, default ports, dot segments,
// percent-encoded dots): each runtime must canonicalise alike, or credentials leak on one of them.
const PREFIX = "https://x.com/api/v1";
const cases: Array<[string, boolean]> = [
  ["https://x.com/api/v1", true],
  ["https://x.com/api/v1/send_sms?to=1", true],
  ["https://X.COM:443/api/v1/send_sms", true],
  ["https://x.com/api/v1/a/../b", true],
  ["https://x.com/api/v2/send_sms", false],
  ["https://x.com/api/v1evil", false],
  ["https://x.com/api/v1/../v2/send_sms", false],
  ["https://x.com/api/v1/%2e%2e/v2/send_sms", false],
  ["https://x.com/api/v1/%2E%2E/v2", false],
  ["http://x.com/api/v1/send_sms", false],
  ["https://x.com:8443/api/v1/send_sms", false],
  ["https://x.com.evil.net/api/v1/send_sms", false],
  ["https://user:pw@x.com/api/v1/send_sms", false],
  ["https://xn--x-1ga.com/api/v1", false],
  ["not a url", false],
];

describe(`endpoint prefix (${RUNTIME})`, () => {
  for (const [url, admitted] of cases) {
    it(`${admitted ? "admits" : "refuses"} ${url}`, () => {
      expect(isUnderEndpointPrefix(url, PREFIX)).toBe(admitted);
    });
  }

  it("names the integration and the prefix, never the query, when it refuses", () => {
    let message = "";
    try {
      assertUnderEndpointPrefix("https://x.com/api/v2/send_sms?token=secret-in-query", PREFIX, "sms");
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toContain('integration "sms"');
    expect(message).toContain(PREFIX);
    expect(message).not.toContain("secret-in-query");
  });
});
