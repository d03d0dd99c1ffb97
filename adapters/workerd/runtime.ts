import type { Plugin } from "../../core/contracts/plugin.ts";
import type { Runtime } from "../../core/contracts/runtime.ts";
import { HooklineError } from "../../core/errors.ts";
import type { AddressGuard } from "../../core/net/address-guard.ts";
import { Tokens } from "../../core/tokens.ts";
import { stringBindings, type WorkerEnv } from "./bindings.ts";
import { MtlsBindings } from "./mtls.ts";
import { workerdTransport } from "./transport.ts";

export interface WorkerdOptions {
  /** Integration name → the name of its `[[mtls_certificates]]` binding (default `MTLS_<NAME>`). */
  mtlsBindings?: Readonly<Record<string, string>>;
}

/** What a Worker composes: the transport plugin and the bindings it sends mTLS requests through. */
export interface WorkerdParts {
  plugins: Plugin[];
  mtls: MtlsBindings;
}

/**
 * workerd's plugins for a Worker's env: the fetch transport, with mTLS through certificate bindings.
 * Call `mtls.bind(app.host)` once the app is created: it fails, naming what is missing, when an mTLS
 * integration has no binding.
 *
 * @example
 * const { plugins, mtls } = workerdPlugins(env);
 * const app = await createHookline({ config, plugins: [...mine, ...plugins], env: stringBindings(env) });
 * mtls.bind(app.host);
 */
export function workerdPlugins(env: WorkerEnv, options: WorkerdOptions = {}): WorkerdParts {
  const mtls = new MtlsBindings(env, options.mtlsBindings);
  const transport: Plugin = {
    name: "workerd-transport",
    register(container) {
      container.register(Tokens.TransportFactory, {
        useValue: (deps) => workerdTransport({ guard: deps.guard as AddressGuard, mtls }),
      });
    },
  };
  // Where the app is started (app.start()), the check runs there too; a Worker that only serves calls bind itself.
  const capabilities: Plugin = {
    name: "workerd-capabilities",
    register(container) {
      container.register(Tokens.Service, {
        useValue: { name: "workerd-capabilities", start: (host) => mtls.bind(host) },
      });
    },
  };
  return { plugins: [transport, capabilities], mtls };
}

const unsupported = (what: string, instead: string) =>
  new HooklineError(
    "HOOKLINE_RUNTIME_CAPABILITY",
    `workerd: ${what} is not available on workerd; ${instead}`,
  );

/**
 * The `Runtime` view of a Worker, for code written against it: env from the string bindings, logs to
 * the console. A Worker has no file system and is served by `export default { fetch }`, so
 * `readFile` and `serve` fail with a message that says what to do instead.
 *
 * @example const runtime = workerdRuntime(env); runtime.env.ESPUTNIK_KEY
 */
export function workerdRuntime(env: WorkerEnv, options: WorkerdOptions = {}): Runtime {
  const { plugins } = workerdPlugins(env, options);
  return {
    name: "workerd",
    env: stringBindings(env),
    readFile: async (path) => {
      throw unsupported(
        `reading ${path}`,
        "embed files at build time (npm run build:edge embeds the config)",
      );
    },
    serve: async () => {
      throw unsupported("listening on a port", "export the handler as `export default { fetch }`");
    },
    plugins: () => plugins,
    stdout: (line) => console.log(line),
    stderr: (line) => console.error(line),
    // Isolates are evicted without a signal; there is nothing to flush.
    onShutdown: () => undefined,
  };
}
