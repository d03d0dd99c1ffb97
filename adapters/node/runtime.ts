import { readFile } from "node:fs/promises";
import { serve } from "@hono/node-server";
import type { Plugin } from "../../core/contracts/plugin.ts";
import type { Runtime } from "../../core/contracts/runtime.ts";
import type { AddressGuard } from "../../core/net/address-guard.ts";
import { Tokens } from "../../core/tokens.ts";
import { nodeTransport } from "./transport.ts";

/**
 * Node's transport as a plugin: `undici.request` over keep-alive agents, the SSRF guard applied at
 * connect time (several times faster than Node's WHATWG fetch on this path).
 *
 * @example createHookline({ plugins: [...defaultPlugins(), nodeTransportPlugin()] })
 */
export const nodeTransportPlugin = (): Plugin => ({
  name: "node-transport",
  register(container) {
    container.register(Tokens.TransportFactory, {
      useValue: (deps) => nodeTransport({ guard: deps.guard as AddressGuard }),
    });
  },
});

/**
 * The Node runtime for the CLI: files, environment, @hono/node-server, signals.
 *
 * @example process.exitCode = await runCli(nodeRuntime(), process.argv.slice(2), defaultPlugins());
 */
export function nodeRuntime(): Runtime {
  return {
    name: "node",
    env: process.env,
    readFile: (path) => readFile(path, "utf8"),
    serve: (fetch, { host, port }) =>
      new Promise((resolve) => {
        // No global patching: the app answers with standard Responses, and other servers in the same
        // process (Bun.serve in tests) must keep the runtime's own Response class.
        const server = serve({ fetch, hostname: host, port, overrideGlobalObjects: false }, (info) =>
          resolve({
            port: info.port,
            close: () => new Promise<void>((done) => server.close(() => done())),
          }),
        );
      }),
    plugins: () => [nodeTransportPlugin()],
    stdoutIsTerminal: () => process.stdout.isTTY === true,
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
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
