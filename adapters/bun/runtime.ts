import type { Plugin } from "../../core/contracts/plugin.ts";
import type { Runtime, ServerHandle } from "../../core/contracts/runtime.ts";
import type { AddressGuard } from "../../core/net/address-guard.ts";
import { Tokens } from "../../core/tokens.ts";
import { bunTransport } from "./transport.ts";

/** What the hono app receives as `c.env` from the adapters' servers: the peer's address, for IP allowlists. */
export interface ConnectionInfo {
  remoteAddress?: string;
}

type ServeFetch = (request: Request, env: ConnectionInfo) => Response | Promise<Response>;

/**
 * Bun's transport as a plugin: ky over Bun's fetch, `node:dns` pre-check, mTLS through `tls`.
 *
 * @example createHookline({ plugins: [...defaultPlugins(), bunTransportPlugin()] })
 */
export const bunTransportPlugin = (): Plugin => ({
  name: "bun-transport",
  register(container) {
    container.register(Tokens.TransportFactory, {
      useValue: (deps) => bunTransport({ guard: deps.guard as AddressGuard }),
    });
  },
});

/**
 * Serves a fetch handler with `Bun.serve`, handing it the peer's address as its second argument (the
 * hono app's `c.env`, which inbound IP allowlists read).
 *
 * @example const server = await bunServe(app.http.fetch, { host: "127.0.0.1", port: 8080 });
 */
export async function bunServe(
  fetch: Parameters<Runtime["serve"]>[0],
  options: { host: string; port: number },
): Promise<ServerHandle> {
  const handler = fetch as unknown as ServeFetch;
  const server = Bun.serve({
    hostname: options.host,
    port: options.port,
    fetch: (request, srv) => handler(request, { remoteAddress: srv.requestIP(request)?.address }),
  });
  return {
    port: server.port ?? options.port,
    // Closing active connections too: a keep-alive client must not hold shutdown open.
    close: async () => void (await server.stop(true)),
  };
}

/**
 * The Bun runtime for the CLI: `Bun.file`, `Bun.serve`, Bun's fetch, signals.
 *
 * @example process.exitCode = await runCli(bunRuntime(), process.argv.slice(2), defaultPlugins());
 */
export function bunRuntime(): Runtime {
  return {
    name: "bun",
    env: Bun.env,
    readFile: (path) => Bun.file(path).text(),
    serve: bunServe,
    plugins: () => [bunTransportPlugin()],
    stdoutIsTerminal: () => process.stdout.isTTY === true,
    stdout: (line) => void process.stdout.write(`${line}\n`),
    stderr: (line) => void process.stderr.write(`${line}\n`),
    onShutdown(handler) {
      let called = false;
      const once = () => {
        if (called) return;
        called = true;
        void handler();
      };
      process.once("SIGINT", once);
      process.once("SIGTERM", once);
    },
  };
}
