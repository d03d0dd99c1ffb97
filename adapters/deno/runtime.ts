import type { Hookline } from "../../core/app.ts";
import type { Runtime, ServerHandle } from "../../core/contracts/runtime.ts";
import { HooklineError } from "../../core/errors.ts";
import type { AddressGuard } from "../../core/net/address-guard.ts";
import type { Plugin } from "../../core/plugin.ts";
import { Tokens } from "../../core/tokens.ts";
import { type DenoNamespace, denoApi } from "./deno-api.ts";
import { denoTransport } from "./transport.ts";

type ServeFetch = (request: Request, env: { remoteAddress?: string }) => Response | Promise<Response>;

/**
 * Names the integrations that present a TLS client identity (mTLS) when this Deno cannot give fetch
 * one, so that the app stops at start-up rather than at the first delivery.
 *
 * @example assertDenoCapabilities(app, Deno) // throws HOOKLINE_RUNTIME_CAPABILITY if an mTLS integration meets a Deno without createHttpClient
 */
export function assertDenoCapabilities(
  app: Pick<Hookline, "integrations">,
  deno: Pick<DenoNamespace, "createHttpClient">,
): void {
  if (typeof deno.createHttpClient === "function") return;
  const needing = [...app.integrations.values()].filter((i) => i.instance.tlsIdentity?.() !== undefined);
  if (needing.length === 0) return;
  throw new HooklineError(
    "HOOKLINE_RUNTIME_CAPABILITY",
    `deno: ${needing.map((i) => `integration "${i.name}"`).join(", ")} present${needing.length === 1 ? "s" : ""} a TLS client certificate (mTLS), but this Deno has no Deno.createHttpClient to give fetch one; run it with the Deno CLI, or on Node or Bun`,
  );
}

/**
 * Deno's transport and its start-up check, as plugins: ky over Deno's fetch, `Deno.resolveDns`
 * pre-check, mTLS through `Deno.createHttpClient`; the app refuses to start if an mTLS integration
 * is configured where that client is missing.
 *
 * @example createHookline({ plugins: [...defaultPlugins(), ...denoPlugins()] })
 */
export const denoPlugins = (): Plugin[] => [
  {
    name: "deno-transport",
    register(container) {
      container.register(Tokens.TransportFactory, {
        useValue: (deps) => denoTransport({ guard: deps.guard as AddressGuard }),
      });
    },
  },
  {
    name: "deno-capabilities",
    register(container) {
      container.register(Tokens.StartupCheck, {
        useValue: { name: "deno-capabilities", check: (app) => assertDenoCapabilities(app, denoApi()) },
      });
    },
  },
];

/**
 * Serves a fetch handler with `Deno.serve`, handing it the peer's address as its second argument (the
 * hono app's `c.env`, which inbound IP allowlists read).
 *
 * @example const server = await denoServe(app.http.fetch, { host: "127.0.0.1", port: 8080 });
 */
export async function denoServe(
  fetch: Parameters<Runtime["serve"]>[0],
  options: { host: string; port: number },
): Promise<ServerHandle> {
  const handler = fetch as unknown as ServeFetch;
  const server = denoApi().serve(
    // Deno prints "Listening on …" unless told otherwise; hookline logs its own line.
    { hostname: options.host, port: options.port, onListen: () => undefined },
    (request, info) => handler(request, { remoteAddress: info.remoteAddr.hostname }),
  );
  return { port: server.addr.port, close: () => server.shutdown() };
}

/**
 * The Deno runtime for the CLI: `Deno.readTextFile`, `Deno.serve`, Deno's fetch, signals.
 *
 * @example Deno.exit(await runCli(denoRuntime(), Deno.args, defaultPlugins()));
 */
export function denoRuntime(): Runtime {
  const deno = denoApi();
  return {
    name: "deno",
    env: deno.env.toObject(),
    readFile: (path) => deno.readTextFile(path),
    serve: denoServe,
    plugins: denoPlugins,
    stdout: (line) => console.log(line),
    stderr: (line) => console.error(line),
    onShutdown(handler) {
      const once = () => {
        deno.removeSignalListener("SIGINT", once);
        deno.removeSignalListener("SIGTERM", once);
        void handler();
      };
      deno.addSignalListener("SIGINT", once);
      deno.addSignalListener("SIGTERM", once);
    },
  };
}
