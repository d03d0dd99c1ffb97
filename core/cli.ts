import { parse, stringify } from "yaml";
import { createHookline, type Hookline } from "./app.ts";
import { configJsonSchema } from "./config/json-schema.ts";
import { type ConfigRegistry, loadConfig } from "./config/load.ts";
import type { AuthProvider } from "./contracts/auth.ts";
import type { ConfigSection } from "./contracts/config-section.ts";
import type { Renderer } from "./contracts/renderer.ts";
import type { Runtime } from "./contracts/runtime.ts";
import type { TriggerKind } from "./contracts/trigger.ts";
import { acceptEvent } from "./engine/outbox.ts";
import { webhookParameters } from "./engine/parameters.ts";
import { previewScenario } from "./engine/preview.ts";
import { ConfigError, HooklineError } from "./errors.ts";
import { jsonLogger } from "./logger.ts";
import { ManagedError } from "./managed.ts";
import type { Plugin } from "./plugin.ts";
import "reflect-metadata";
import { container as root } from "tsyringe";
import { eventTrigger } from "./engine/event-trigger.ts";
import { Tokens } from "./tokens.ts";

/** A flag of a command. One with a `value` (`--port N`) takes one; one without is a switch. */
interface Flag {
  readonly name: string;
  readonly value?: string;
  readonly help: string;
  /** The command refuses to run without it. */
  readonly required?: boolean;
  /** What a value must look like, checked when the command line is read. */
  readonly accepts?: { readonly what: string; test(value: string): boolean };
}

/**
 * A command: `args` are the words after its name, flags aside (UPPERCASE a value to give, lowercase a
 * word to type as is, `[X]` optional).
 */
interface Command {
  readonly args: string;
  readonly summary: string;
  readonly flags: readonly Flag[];
}

const config: Flag = { name: "config", value: "FILE", help: "the config file (YAML)", required: true };

/** Every command and its flags: the parser reads the command line from it and the usage text is made of it. */
const commands: Readonly<Record<string, Command>> = {
  serve: {
    args: "",
    summary: "HTTP app and delivery workers",
    flags: [
      config,
      {
        name: "port",
        value: "N",
        help: "port to listen on (default: the config's server.port, 8080)",
        accepts: { what: "a port number (0-65535)", test: (v) => /^\d{1,5}$/.test(v) && Number(v) <= 65_535 },
      },
      {
        name: "host",
        value: "H",
        help: "address to listen on (default: the config's server.host, 127.0.0.1)",
      },
    ],
  },
  worker: { args: "", summary: "delivery workers only, no HTTP", flags: [config] },
  validate: {
    args: "[FILE]",
    summary: "check a config file (FILE or --config FILE)",
    flags: [{ ...config, required: false }],
  },
  schema: { args: "", summary: "print the config's JSON Schema", flags: [] },
  render: {
    args: "WEBHOOK",
    summary: "print the rendered request (each step of a scenario)",
    flags: [
      config,
      { name: "data", value: "FILE", help: "JSON with event, customer, params and sample responses" },
      { name: "list-params", help: "print the webhook's template parameters and defaults instead" },
    ],
  },
  "test-integration": { args: "NAME", summary: "send an integration's test request", flags: [config] },
  oauth: {
    args: "authorize NAME",
    summary: "print the URL that authorizes an OAuth integration",
    flags: [config],
  },
  export: { args: "", summary: "webhooks and integrations as YAML, without secrets", flags: [config] },
  import: { args: "FILE", summary: "store an export; says which secrets to re-enter", flags: [config] },
};

const synopsis = (name: string, c: Command) =>
  [
    `hookline ${name}`,
    c.args,
    ...c.flags.map((f) => {
      const text = f.value ? `--${f.name} ${f.value}` : `--${f.name}`;
      return f.required ? text : `[${text}]`;
    }),
  ]
    .filter(Boolean)
    .join(" ");

const columns = (rows: [string, string][]) => {
  const width = Math.max(...rows.map(([left]) => left.length)) + 3;
  return rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`).join("\n");
};

/** `hookline --help`: every command, its synopsis with what it does beneath (80 columns). */
function overview(): string {
  const entries: [string, string][] = [
    ...Object.entries(commands).map(([name, c]): [string, string] => [synopsis(name, c), c.summary]),
    ["hookline help [COMMAND]", "this overview, or a command's usage (also: hookline COMMAND --help)"],
    ["hookline --version", "print hookline's version (also -v)"],
  ];
  return `hookline — webhooks for marketing and customer-data platforms

commands:
${entries.map(([line, summary]) => `  ${line}\n      ${summary}`).join("\n")}

environment:
  DATABASE_URL          a Postgres server (default: PGlite in HOOKLINE_DATA_DIR or .hookline/)
  HOOKLINE_ADMIN_TOKEN  bearer token for /v1/* (required to listen beyond loopback)
  HOOKLINE_LOG_LEVEL    debug | info | warn | error (default info)`;
}

/** `hookline COMMAND --help`: its synopsis and one line per flag. */
function usage(name: string): string {
  const c = commands[name]!;
  const flag = (f: Flag): [string, string] => [f.value ? `--${f.name} ${f.value}` : `--${f.name}`, f.help];
  return `usage: ${synopsis(name, c)}

${c.summary}

flags:
${columns([...c.flags.map(flag), ["-h, --help", "print this usage"]])}`;
}

/** A command line hookline cannot run: said with the command's usage, exit code 2. */
class UsageError extends HooklineError {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super("HOOKLINE_USAGE", message);
    this.name = "UsageError";
  }
}

/** What the user asked for: a command to run with its arguments, its usage, the overview or the version. */
type CommandLine =
  | { kind: "run"; command: string; positional: string[]; options: Record<string, string | true> }
  | { kind: "help"; command?: string }
  | { kind: "version" };

/**
 * Reads a command line against the table of commands: the command first, then its arguments and
 * flags (`--name value`, `--name=value`) in any order. Throws a {@link UsageError} for an unknown
 * command or flag, a flag without its value, a missing or unexpected argument; `-h`/`--help`
 * anywhere asks for usage instead.
 *
 * @example parseCommandLine(["render", "welcome", "--config", "hookline.yaml"])
 */
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const [first, ...rest] = argv;
  if (first === undefined || first === "--help" || first === "-h") return { kind: "help" };
  if (first === "--version" || first === "-v") return { kind: "version" };
  if (first === "help") {
    if (rest[0] !== undefined && !commands[rest[0]]) throw new UsageError(`unknown command "${rest[0]}"`);
    return { kind: "help", command: rest[0] };
  }
  if (first.startsWith("-")) throw new UsageError(`unknown flag ${first} (the command comes first)`);
  const spec = commands[first];
  if (!spec) throw new UsageError(`unknown command "${first}"`);
  const positional: string[] = [];
  const options: Record<string, string | true> = {};
  // The first problem is reported, unless --help comes later: asking for usage always gets it.
  let problem: string | undefined;
  let help = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === "--help" || a === "-h") help = true;
    else if (a === "--") positional.push(...rest.splice(i + 1));
    else if (a.startsWith("-") && a !== "-") {
      const eq = a.indexOf("=");
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const flag = a.startsWith("--") ? spec.flags.find((f) => f.name === name) : undefined;
      if (!flag) problem ??= `unknown flag ${eq < 0 ? a : a.slice(0, eq)}`;
      else if (!flag.value) {
        if (eq < 0) options[name] = true;
        else problem ??= `--${name} takes no value`;
      } else {
        const next = rest[i + 1];
        const value =
          eq >= 0 ? a.slice(eq + 1) : next !== undefined && !next.startsWith("--") ? rest[++i] : "";
        if (!value) problem ??= `--${name} needs a value (${flag.value})`;
        else if (flag.accepts && !flag.accepts.test(value))
          problem ??= `--${name} needs ${flag.accepts.what}, got "${value}"`;
        else options[name] = value;
      }
    } else positional.push(a);
  }
  if (help) return { kind: "help", command: first };
  const words = spec.args.split(" ").filter(Boolean);
  words.forEach((word, i) => {
    const given = positional[i];
    if (/^[a-z]/.test(word)) {
      if (given !== word)
        problem ??= given === undefined ? `needs "${word}"` : `expected "${word}", got "${given}"`;
    } else if (given === undefined && !word.startsWith("[")) problem ??= `needs ${word}`;
  });
  if (positional.length > words.length) problem ??= `unexpected argument "${positional[words.length]}"`;
  for (const f of spec.flags)
    if (f.required && options[f.name] === undefined) problem ??= `needs --${f.name} ${f.value}`;
  if (problem) throw new UsageError(problem, first);
  return { kind: "run", command: first, positional: [first, ...positional], options };
}

/**
 * hookline's version from its package.json, found by walking up from this module: package.json sits
 * above core/ when run from source, above dist/core/ when compiled, and above a bundle that inlines
 * this module. `read` is the adapter's way to read a URL; undefined when no hookline package.json is found.
 *
 * @example await packageVersion((url) => readFile(url, "utf8")) // "0.1.0"
 */
export async function packageVersion(
  read: (url: URL) => Promise<string>,
  from: string | URL = import.meta.url,
): Promise<string | undefined> {
  for (let dir = new URL("./", from); ; ) {
    try {
      const pkg = JSON.parse(await read(new URL("package.json", dir))) as {
        name?: unknown;
        version?: unknown;
      };
      // Another package.json on the way up (an app bundling hookline) is not ours.
      if (pkg.name === "hookline" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // none here, or not readable: look further up
    }
    const up = new URL("../", dir);
    if (up.href === dir.href) return undefined;
    dir = up;
  }
}

/** What an adapter gives the command line besides its runtime. */
export interface CliOptions {
  /** hookline's version for `--version`, e.g. `() => packageVersion(readUrl)`. */
  readonly version?: () => Promise<string | undefined>;
}

const isLoopback = (host: string) =>
  host === "localhost" || host === "::1" || host === "[::1]" || /^127\./.test(host);

function registryOf(plugins: readonly Plugin[]): ConfigRegistry {
  const c = root.createChildContainer();
  c.register(Tokens.TriggerKind, { useValue: eventTrigger });
  for (const p of plugins) p.register(c);
  const all = <T>(t: unknown) => (c.isRegistered(t as symbol, true) ? c.resolveAll<T>(t as symbol) : []);
  return {
    authProviders: all<AuthProvider>(Tokens.AuthProvider),
    triggerKinds: all<TriggerKind>(Tokens.TriggerKind),
    sections: all<ConfigSection>(Tokens.ConfigSection),
    renderers: all<Renderer>(Tokens.Renderer),
  };
}

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
      case "test-integration":
        return await testIntegration(runtime, positional[1]!, await needConfig(), configFile!, plugins);
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
      const renderers = app.container.resolveAll<Renderer>(Tokens.Renderer);
      const parameters = webhookParameters(hook.config, renderers);
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
  if (command === "serve" && !adminToken && !isLoopback(host)) {
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
    app.logger.log("info", `listening on http://${host.includes(":") ? `[${host}]` : host}:${server.port}`, {
      store: (app.store as { driverName?: string }).driverName,
      adminApi: adminToken ? "bearer token" : "open (loopback only)",
    });
  }
  return await new Promise<number>((resolve) => {
    runtime.onShutdown(async () => {
      app?.logger.log("info", "shutting down");
      await server?.close();
      await app?.stop();
      app = undefined;
      resolve(0);
    });
  });
}
