import { describe, expect, it } from "bun:test";
import { assertDenoCapabilities } from "../../adapters/deno/runtime.ts";
import type { IntegrationRuntime } from "../../core/engine/deliver.ts";

// The Deno adapter's start-up check, outside Deno (tests/adapters/serve.test.ts runs it in Deno).
const integrations = (tls: boolean) =>
  new Map<string, IntegrationRuntime>([
    [
      "bank",
      {
        name: "bank",
        endpointPrefix: "https://bank.example.com",
        instance: {
          secrets: () => [],
          authorize: (r) => r,
          tlsIdentity: () => (tls ? { cert: "c", key: "k" } : undefined),
        },
      },
    ],
  ]);

describe("deno adapter start-up check", () => {
  it("refuses an mTLS integration where Deno.createHttpClient is missing, naming deno and the integration", () => {
    expect(() => assertDenoCapabilities({ integrations: integrations(true) }, {})).toThrow(
      'deno: integration "bank" presents a TLS client certificate (mTLS), but this Deno has no Deno.createHttpClient',
    );
  });

  it("lets the app start where the client exists, or where nothing needs it", () => {
    const createHttpClient = () => ({ close() {} });
    expect(() =>
      assertDenoCapabilities({ integrations: integrations(true) }, { createHttpClient }),
    ).not.toThrow();
    expect(() => assertDenoCapabilities({ integrations: integrations(false) }, {})).not.toThrow();
  });
});
