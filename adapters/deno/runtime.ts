import type { Plugin } from "../../core/contracts/plugin.ts";
import type { Runtime, ServerHandle } from "../../core/contracts/runtime.ts";
import type { AddressGuard } from "../../core/net/address-guard.ts";
import { Tokens } from "../../core/tokens.ts";
import { denoApi } from "./deno-api.ts";
import { denoTransport } from "./transport.ts";

type ServeFetch = (request: Request, env: { remoteAddress?: string }) => Response | Promise<Response>;

/**
 * Deno's transport as a plugin (in a list, as the runtime's `plugins` expects): the Node transport
 * over Deno's `node:net` and `node:tls`, its SSRF guard at connect, mTLS through undici.
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
 * The Deno runtime for the CLI: `Deno.readTextFile`, `Deno.serve`, the undici transport, signals.
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
    stdoutIsTerminal: () => deno.stdout.isTerminal(),
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
