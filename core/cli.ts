import { parse, stringify } from "yaml";
import { ManagedError } from "./admin/entries.ts";
import { appContainer, createHookline, type Hookline } from "./app.ts";
import { watchRun } from "./cli-runs.ts";
import { sendSegment } from "./cli-send.ts";
import { tokensCommand } from "./cli-tokens.ts";
import { overview, parseCommandLine, UsageError, usage } from "./command-line.ts";
import { pluginRegistry } from "./compose.ts";
import { configJsonSchema } from "./config/json-schema.ts";
import { loadConfig } from "./config/load.ts";
import type { Plugin } from "./contracts/plugin.ts";
import type { Runtime } from "./contracts/runtime.ts";
import { isLoopbackHost } from "./engine/https.ts";
import { acceptEvent } from "./engine/outbox.ts";
import { webhookParameters } from "./engine/parameters.ts";
import { previewScenario } from "./engine/preview.ts";
import { ConfigError, HooklineError } from "./errors.ts";
import { jsonLogger } from "./logger.ts";

export { type CommandLine, packageVersion, parseCommandLine } from "./command-line.ts";

/** What an adapter gives the command line besides its runtime. */
export interface CliOptions {
  /** hookline's version for `--version`, e.g. `() => packageVersion(readUrl)`. */
  readonly version?: () => Promise<string | undefined>;
}

const registryOf = (plugins: readonly Plugin[]) => pluginRegistry(plugins, appContainer()).registry;

/**
 * Runs the `hookline` command line on a runtime. Returns the exit code (serve and worker resolve when
 * they are shut down).
 *
 * @example process.exitCode = await runCli(nodeRuntime(), process.argv.slice(2), defaultPlugins());
 */
export async function runCli(
  runtime: Runtime,
  argv: string[],
  basePlugins: Plugin[],
  cli: CliOptions = {},
): Promise<number> {
  try {
    const line = parseCommandLine(argv);
    if (line.kind === "help") {
      runtime.stdout(line.command ? usage(line.command) : overview());
      return 0;
    }
    if (line.kind === "version") {
      const version = await cli.version?.();
      if (!version)
        throw new HooklineError(
          "HOOKLINE_VERSION",
          "cannot find hookline's package.json to read its version",
        );
      runtime.stdout(version);
      return 0;
    }
    const { positional, options, command } = line;
    const plugins = [...basePlugins, ...runtime.plugins()];
    const configFile =
      typeof options.config === "string"
        ? options.config
        : command === "validate"
          ? positional[1]
          : undefined;
    const needConfig = async () => {
      if (!configFile) throw new UsageError("needs FILE or --config FILE", command);
      try {
        return await runtime.readFile(configFile);
      } catch (e) {
        throw new HooklineError(
          "HOOKLINE_CONFIG_READ",
          `cannot read config file ${configFile}: ${(e as Error).message}`,
        );
      }
    };
    switch (command) {
      case "schema":
        runtime.stdout(JSON.stringify(configJsonSchema(registryOf(plugins)), null, 2));
        return 0;
      case "validate": {
        const text = await needConfig();
        const config = loadConfig(text, {
          file: configFile!,
          env: runtime.env,
          registry: registryOf(plugins),
        });
        runtime.stdout(
          `${configFile}: ok (${Object.keys(config.webhooks).length} webhooks, ${Object.keys(config.integrations).length} integrations, ${config.triggers.length} triggers)`,
        );
        return 0;
      }
      case "render":
        return await render(runtime, positional[1]!, await needConfig(), configFile!, options, plugins);
      case "oauth": {
        const app = await createHookline({
          config: { text: await needConfig(), file: configFile! },
          plugins,
          env: runtime.env,
        });
        try {
          const i = app.integrations.get(positional[2]!);
          if (!i?.instance.authorizationUrl)
            throw new HooklineError(
              "HOOKLINE_USAGE",
              `integration "${positional[2]}" has no interactive authorization`,
            );
          runtime.stdout(await i.instance.authorizationUrl());
          return 0;
        } finally {
          await app.stop(0);
        }
      }
      case "export":
      case "import":
        return await exchange(runtime, command, positional[1], await needConfig(), configFile!, plugins);
      case "migrate": {
        // createHookline migrates the store (the core's migrations, then each plugin's) before it resolves.
        const app = await createHookline({
          config: { text: await needConfig(), file: configFile! },
          plugins,
          env: runtime.env,
        });
        await app.stop(0);
        runtime.stdout(`${configFile}: the store's schema is up to date`);
        return 0;
      }
      case "test-integration":
        return await testIntegration(runtime, positional[1]!, await needConfig(), configFile!, plugins);
      case "tokens":
        return await tokensCommand(runtime, positional.slice(1), {
          url: typeof options.url === "string" ? options.url : undefined,
          role: typeof options.role === "string" ? options.role : undefined,
        });
      case "runs":
        return await watchRun(runtime, positional[2]!, {
          url: typeof options.url === "string" ? options.url : undefined,
        });
      case "send":
        return await sendSegment(runtime, {
          segment: String(options.segment),
          webhook: String(options.webhook),
          sendId: typeof options["send-id"] === "string" ? options["send-id"] : undefined,
          url: typeof options.url === "string" ? options.url : undefined,
        });
      case "serve":
      case "worker":
        return await serve(runtime, command, await needConfig(), configFile!, options, plugins);
      default:
        throw new Error(`"${command}" is in the table of commands but runCli has no case for it`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      runtime.stderr(`hookline${e.command ? ` ${e.command}` : ""}: ${e.message}\n`);
      runtime.stderr(e.command ? usage(e.command) : overview());
      return 2;
    }
    if (e instanceof ConfigError) runtime.stderr(e.message);
    else if (e instanceof HooklineError) runtime.stderr(`hookline: ${e.message}`);
    else runtime.stderr(`hookline: ${(e as Error).stack ?? e}`);
    return 1;
  }
}

async function render(
  runtime: Runtime,
  webhook: string,
  text: string,
  file: string,
  options: Record<string, string | true>,
  plugins: Plugin[],
): Promise<number> {
  const listParams = options["list-params"] !== undefined;
  const data =
    typeof options.data === "string" && !listParams ? JSON.parse(await runtime.readFile(options.data)) : {};
  // Rendering touches no store: the (lazy) store is never opened.
  const app = await createHookline({ config: { text, file }, plugins, env: runtime.env, migrate: false });
  try {
    const hook = app.webhooks.get(webhook);
    if (!hook)
      throw new HooklineError(
        "HOOKLINE_WEBHOOK_UNKNOWN",
        `no webhook "${webhook}"; have: ${[...app.webhooks.keys()].join(", ")}`,
      );
    if (listParams) {
      const parameters = webhookParameters(hook.config, app.catalogue.renderers);
      runtime.stdout(JSON.stringify({ webhook, parameters }, null, 2));
      return 0;
    }
    const event = acceptEvent({
      type: "test",
      ...data.event,
      customer: data.customer ?? { id: "sample-customer" },
    });
    const params = { ...hook.config.params, ...data.params };
    const context = {
      event: { id: event.id, type: event.type, data: event.data, timestamp: event.timestamp },
      customer: event.customer,
      params,
    };
    // The test endpoint's path: each step of a scenario, later ones seeing `responses` from the data file.
    const { steps } = await previewScenario(app.deliverer, hook, context, {
      send: false,
      responses: data.responses,
      idempotencyKey: `render:${event.id}`,
    });
    const failed = steps.find((s) => s.error);
    if (failed?.error)
      throw new HooklineError(
        "HOOKLINE_RENDER",
        failed === steps[0] ? failed.error.message : `step ${failed.webhook}: ${failed.error.message}`,
      );
    const out = hook.config.next ? { ...steps[0]!.request, params, steps } : { ...steps[0]!.request, params };
    runtime.stdout(JSON.stringify(out, null, 2));
    return 0;
  } finally {
    await app.stop(0);
  }
}

/** `export` prints what the store and config hold (no secrets); `import` stores an export document. */
async function exchange(
  runtime: Runtime,
  command: "export" | "import",
  file: string | undefined,
  text: string,
  configFile: string,
  plugins: Plugin[],
): Promise<number> {
  const app = await createHookline({ config: { text, file: configFile }, plugins, env: runtime.env });
  try {
    if (command === "export") {
      runtime.stdout(stringify(await app.managed.exportAll()));
      return 0;
    }
    const result = await app.managed.importAll(parse(await runtime.readFile(file!)));
    runtime.stdout(
      `imported integrations: ${result.imported.integrations.join(", ") || "none"}; webhooks: ${result.imported.webhooks.join(", ") || "none"}`,
    );
    for (const [name, fields] of Object.entries(result.secretsToReenter)) {
      runtime.stdout(`re-enter for ${name}: ${fields.join(", ")} (PUT /v1/integrations/${name})`);
    }
    return 0;
  } catch (e) {
    if (e instanceof ManagedError)
      throw new HooklineError(
        e.code,
        `${e.message}${e.issues ? `: ${e.issues.map((i) => `${i.path} ${i.message}`).join("; ")}` : ""}`,
      );
    throw e;
  } finally {
    await app.stop(0);
  }
}

async function testIntegration(
  runtime: Runtime,
  name: string,
  text: string,
  file: string,
  plugins: Plugin[],
): Promise<number> {
  const app = await createHookline({ config: { text, file }, plugins, env: runtime.env, migrate: false });
  try {
    const base = app.config.integrations[name];
    if (!base)
      throw new HooklineError(
        "HOOKLINE_INTEGRATION_UNKNOWN",
        `no integration "${name}"; have: ${Object.keys(app.config.integrations).join(", ")}`,
      );
    if (!base.test)
      throw new HooklineError(
        "HOOKLINE_INTEGRATION_NO_TEST",
        `integration "${name}" has no test settings (test: { method, path })`,
      );
    const result = await app.deliverer.testIntegration(name, base.test);
    runtime.stdout(JSON.stringify(result, null, 2));
    return result.ok ? 0 : 1;
  } finally {
    await app.stop(0);
  }
}

async function serve(
  runtime: Runtime,
  command: "serve" | "worker",
  text: string,
  file: string,
  options: Record<string, string | true>,
  plugins: Plugin[],
): Promise<number> {
  const level = (runtime.env.HOOKLINE_LOG_LEVEL ?? "info") as "info";
  const adminToken = runtime.env.HOOKLINE_ADMIN_TOKEN || undefined;
  let app: Hookline | undefined;
  app = await createHookline({
    config: { text, file },
    plugins,
    env: runtime.env,
    adminToken,
    // The listen address decides engine.requireHttps's default (on beyond loopback).
    host: typeof options.host === "string" ? options.host : undefined,
    logger: (redactor) => {
      if (adminToken) redactor.add([adminToken]);
      return jsonLogger({ write: runtime.stderr, redactor, level });
    },
  });
  const host = typeof options.host === "string" ? options.host : app.config.server.host;
  const port = typeof options.port === "string" ? Number(options.port) : app.config.server.port;
  if (command === "serve" && !adminToken && !isLoopbackHost(host)) {
    await app.stop(0);
    throw new HooklineError(
      "HOOKLINE_ADMIN_TOKEN_REQUIRED",
      `refusing to listen on ${host} without HOOKLINE_ADMIN_TOKEN: the admin API would be open to the network`,
    );
  }
  await app.start();
  let server: Awaited<ReturnType<Runtime["serve"]>> | undefined;
  if (command === "serve") {
    server = await runtime.serve(app.fetch, { host, port });
    app.logger.log("info", "server.listening", {
      url: `http://${host.includes(":") ? `[${host}]` : host}:${server.port}`,
      store: (app.store as { driverName?: string }).driverName,
      adminApi: adminToken ? "bearer token" : "open (loopback only)",
    });
  }
  return await new Promise<number>((resolve) => {
    runtime.onShutdown(async () => {
      app?.logger.log("info", "server.stopping");
      await server?.close();
      await app?.stop();
      app = undefined;
      resolve(0);
    });
  });
}
