import type { Plugin } from "../../../core/contracts/plugin.ts";
import type { Runtime } from "../../../core/contracts/runtime.ts";
import type { Transport } from "../../../core/contracts/transport.ts";
import type { AddressGuard } from "../../../core/net/address-guard.ts";
import { Tokens } from "../../../core/tokens.ts";

/** The runtimes the conformance suite runs on natively or through its bun:test shims. */
export type RuntimeName = "bun" | "node" | "deno";

/**
 * The runtime this run is on, as the runner says (`HOOKLINE_CONFORMANCE_RUNTIME`): the suite asks,
 * it does not sniff. Run natively with `bun test`, it is Bun.
 */
export const RUNTIME: RuntimeName = ((globalThis as { process?: { env: Record<string, string | undefined> } })
  .process?.env.HOOKLINE_CONFORMANCE_RUNTIME ?? "bun") as RuntimeName;

/** What a test may give the runtime's transport beside the guard. */
export interface TransportOptions {
  /** Replaces the system resolver: the addresses the guard judges for a name. */
  resolve?: (host: string) => Promise<string[]>;
}

/**
 * Makes this runtime's transport: undici on Node and on Deno (over its node:net and node:tls), ky
 * over Bun's fetch with the address pinned. Async only to import the adapter; the maker itself is
 * synchronous.
 *
 * @example const make = await transportMaker(); const transport = make(guard, { resolve });
 */
export async function transportMaker(): Promise<
  (guard: AddressGuard, options?: TransportOptions) => Transport
> {
  switch (RUNTIME) {
    case "node": {
      const { nodeTransport } = await import("../../../adapters/node/transport.ts");
      return (guard, options) => nodeTransport({ guard, ...options });
    }
    case "deno": {
      const { denoTransport } = await import("../../../adapters/deno/transport.ts");
      return (guard, options) => denoTransport({ guard, ...options });
    }
    default: {
      const { bunTransport } = await import("../../../adapters/bun/transport.ts");
      return (guard, options) => bunTransport({ guard, ...options });
    }
  }
}

/**
 * This runtime's transport as a plugin, for apps under test.
 *
 * @example createHookline({ plugins: [eta(), await runtimeTransportPlugin(), ...] })
 */
export async function runtimeTransportPlugin(): Promise<Plugin> {
  const make = await transportMaker();
  return {
    name: `${RUNTIME}-transport`,
    register(c) {
      c.register(Tokens.TransportFactory, { useValue: (deps) => make(deps.guard as AddressGuard) });
    },
  };
}

/**
 * A variable of the environment the runner set (Deno and Bun expose `process` too).
 *
 * @example env("HOOKLINE_MTLS_SERVER")
 */
export const env = (name: string): string | undefined =>
  (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env[name];

/**
 * This runtime's server, as its adapter gives it to the CLI: @hono/node-server, Bun.serve or
 * Deno.serve, each handing the app the peer's address.
 *
 * @example const server = await (await runtimeServe())(app.http.fetch, { host: "127.0.0.1", port: 0 });
 */
export async function runtimeServe(): Promise<Runtime["serve"]> {
  switch (RUNTIME) {
    case "node":
      return (await import("../../../adapters/node/runtime.ts")).nodeRuntime().serve;
    case "deno":
      return (await import("../../../adapters/deno/runtime.ts")).denoServe;
    default:
      return (await import("../../../adapters/bun/runtime.ts")).bunServe;
  }
}
