import { describe, expect, it } from "bun:test";
import { stringBindings } from "../../adapters/workerd/bindings.ts";
import { MtlsBindings, mtlsBindingName } from "../../adapters/workerd/mtls.ts";
import { workerdRuntime } from "../../adapters/workerd/runtime.ts";
import { workerdTransport } from "../../adapters/workerd/transport.ts";
import type { IntegrationRuntime } from "../../core/engine/deliver.ts";
import { AddressGuard } from "../../core/net/address-guard.ts";
import { testPki } from "../support/http-sink.ts";

// The workerd adapter's logic, outside workerd (tests/runtimes/edge.workerd.ts runs it inside).
const identity = { cert: testPki().client.cert, key: testPki().client.key };
// What MtlsBindings reads of a plugin host: its catalogue's integrations.
const host = (tls: boolean) => ({
  catalogue: {
    integrations: new Map<string, IntegrationRuntime>([
      [
        "crm",
        {
          name: "crm",
          endpointPrefix: "https://crm.example.com",
          instance: { secrets: () => [], authorize: (r) => r },
        },
      ],
      [
        "bank-api",
        {
          name: "bank-api",
          endpointPrefix: "https://bank.example.com/v2",
          instance: {
            secrets: () => [],
            authorize: (r) => r,
            tlsIdentity: () => (tls ? identity : undefined),
          },
        },
      ],
    ]),
  },
});

describe("workerd adapter", () => {
  it("names an integration's certificate binding after it", () => {
    expect(mtlsBindingName("bank-api")).toBe("MTLS_BANK_API");
  });

  it("fails at start-up, naming workerd, the integration and the binding it lacks", () => {
    expect(() => new MtlsBindings({ OTHER: "text" }).bind(host(true))).toThrow(
      'workerd: integration "bank-api" needs the mTLS certificate binding MTLS_BANK_API',
    );
    // No integration presents an identity: nothing is needed.
    expect(() => new MtlsBindings({}).bind(host(false))).not.toThrow();
  });

  it("sends a request carrying the identity through its binding, and the others through fetch", async () => {
    const seen: string[] = [];
    const binding = {
      fetch: async (input: Request | string | URL) => {
        seen.push(input instanceof Request ? input.url : String(input));
        return new Response("via binding", { status: 200 });
      },
    };
    const mtls = new MtlsBindings({ BANK: binding }, { "bank-api": "BANK" });
    mtls.bind(host(true));
    const transport = workerdTransport({ guard: new AddressGuard({ allowNetworks: [] }), mtls });
    const r = await transport.send({
      method: "POST",
      url: "https://bank.example.com/v2/transfers",
      headers: {},
      body: "{}",
      timeoutMs: 2_000,
      maxResponseBytes: 1024,
      tls: identity,
    });
    expect(r).toMatchObject({ status: 200, body: "via binding" });
    expect(seen).toEqual(["https://bank.example.com/v2/transfers"]);
    const unbound = await transport
      .send({
        method: "GET",
        url: "https://x.example.com/",
        headers: {},
        timeoutMs: 2_000,
        maxResponseBytes: 1024,
        tls: { ...identity, cert: "other" },
      })
      .catch((e: Error) => e.message);
    expect(unbound).toContain("workerd: no mTLS certificate binding presents this client certificate");
  });

  it("still refuses private IP literals before sending", async () => {
    const transport = workerdTransport({
      guard: new AddressGuard({ allowNetworks: [] }),
      mtls: new MtlsBindings({}),
    });
    const error = await transport
      .send({ method: "GET", url: "http://10.0.0.1/", headers: {}, timeoutMs: 2_000, maxResponseBytes: 1024 })
      .catch((e: { faultClass?: string }) => e.faultClass);
    expect(error).toBe("blocked_address");
  });

  it("reads the environment from string bindings and says what a Worker does instead of files and ports", async () => {
    expect(stringBindings({ KEY: "k", DB: { connectionString: "x" } })).toEqual({ KEY: "k" });
    const runtime = workerdRuntime({ KEY: "k" });
    expect(runtime.env).toEqual({ KEY: "k" });
    await expect(runtime.readFile("hookline.yaml")).rejects.toThrow(
      "workerd: reading hookline.yaml is not available on workerd",
    );
    await expect(runtime.serve(() => new Response(), { host: "127.0.0.1", port: 1 })).rejects.toThrow(
      "export default { fetch }",
    );
  });
});
