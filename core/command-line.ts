// The command line's grammar: one table of commands and flags, from which the parser, the overview
// and each command's usage are made (`hookline --help`, `hookline CMD --help`), and the version.
import { HooklineError } from "./errors.ts";

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
  migrate: {
    args: "",
    summary: "bring the store's schema up to date, then exit (serve and worker do it on start)",
    flags: [config],
  },
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
  tokens: {
    args: "ACTION [ARG]",
    summary:
      "API tokens on a running server: create NAME --role ROLE (prints the secret once), list, revoke ID",
    flags: [
      {
        name: "role",
        value: "ROLE",
        help: "for create: admin, editor, viewer or publisher",
        accepts: {
          what: "admin, editor, viewer or publisher",
          test: (v) => ["admin", "editor", "viewer", "publisher"].includes(v),
        },
      },
      {
        name: "url",
        value: "URL",
        help: "the hookline server (default: HOOKLINE_URL, else http://127.0.0.1:8080)",
        accepts: { what: "an http(s) URL", test: (v) => /^https?:\/\/[^\s]+$/.test(v) },
      },
    ],
  },
  send: {
    args: "",
    summary:
      "send to a segment on a running server, then follow the run (exit 1 if any delivery did not succeed)",
    flags: [
      {
        name: "segment",
        value: "NAME",
        help: "the segment whose members get a delivery each",
        required: true,
      },
      { name: "webhook", value: "NAME", help: "the webhook they get", required: true },
      {
        name: "send-id",
        value: "ID",
        help: "the send's id: the same id again writes nothing twice (default: a new one)",
        accepts: {
          what: "1 to 100 letters, digits or . _ : -",
          test: (v) => /^[A-Za-z0-9._:-]{1,100}$/.test(v),
        },
      },
      {
        name: "url",
        value: "URL",
        help: "the hookline server (default: HOOKLINE_URL, else http://127.0.0.1:8080)",
        accepts: { what: "an http(s) URL", test: (v) => /^https?:\/\/[^\s]+$/.test(v) },
      },
    ],
  },
  runs: {
    args: "watch RUN",
    summary:
      "follow a run's progress on a running server until it ends (exit 1 if any delivery did not succeed)",
    flags: [
      {
        name: "url",
        value: "URL",
        help: "the hookline server (default: HOOKLINE_URL, else http://127.0.0.1:8080)",
        accepts: { what: "an http(s) URL", test: (v) => /^https?:\/\/[^\s]+$/.test(v) },
      },
    ],
  },
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
export function overview(): string {
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
  HOOKLINE_URL          the server "hookline runs watch" asks (default http://127.0.0.1:8080)
  HOOKLINE_LOG_LEVEL    debug | info | warn | error (default info)`;
}

/** `hookline COMMAND --help`: its synopsis and one line per flag. */
export function usage(name: string): string {
  const c = commands[name]!;
  const flag = (f: Flag): [string, string] => [f.value ? `--${f.name} ${f.value}` : `--${f.name}`, f.help];
  return `usage: ${synopsis(name, c)}

${c.summary}

flags:
${columns([...c.flags.map(flag), ["-h, --help", "print this usage"]])}`;
}

/** A command line hookline cannot run: said with the command's usage, exit code 2. */
export class UsageError extends HooklineError {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super("HOOKLINE_USAGE", message);
    this.name = "UsageError";
  }
}

/** What the user asked for: a command to run with its arguments, its usage, the overview or the version. */
export type CommandLine =
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
