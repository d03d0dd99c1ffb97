import { afterAll, describe, expect, it } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeRuntime } from "../../adapters/node/runtime.ts";
import { runCli } from "../../core/cli.ts";
import type { Runtime } from "../../core/contracts/runtime.ts";
import { defaultPlugins } from "../../plugins/defaults.ts";
import { type CliRuntime, cliCommand } from "../adapters/support.ts";

const root = join(import.meta.dir, "..", "..");
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
const dir = mkdtempSync(join(tmpdir(), "hookline-cli-usage-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `hookline ARGS` from source on a runtime, as a user would, and returns what it printed. */
async function hookline(runtime: CliRuntime, args: string[]) {
  const [command, ...pre] = await cliCommand(runtime);
  const r = spawnSync(command!, [...pre, ...args], {
    cwd: root,
    env: { ...process.env, NO_COLOR: "1", HOOKLINE_DATA_DIR: join(dir, "data") },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The Node runtime with output captured, for the cases that need no process of their own. */
function captured() {
  const out: string[] = [];
  const err: string[] = [];
  const runtime: Runtime = {
    ...nodeRuntime(),
    env: { HOOKLINE_DATA_DIR: join(dir, "data") },
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
  };
  return { runtime, out: () => out.join("\n"), err: () => err.join("\n") };
}

const commands = [
  "serve",
  "worker",
  "migrate",
  "validate",
  "schema",
  "render",
  "test-integration",
  "oauth",
  "export",
  "import",
];

// A trace names a source line ("at foo (file.ts:1:2)" or "file.js:502"); a clean refusal does not.
const stackTrace = /\bat .+:\d+:\d+|node:internal|EPIPE|Unhandled/;

for (const runtime of ["bun", "node", "deno"] as const) {
  describe(`hookline on ${runtime}`, () => {
    it("prints the package.json version with --version and -v", async () => {
      for (const flag of ["--version", "-v"]) {
        const r = await hookline(runtime, [flag]);
        expect(r.stderr).toBe("");
        expect(r.stdout.trim()).toBe(version);
        expect(r.status).toBe(0);
      }
    }, 60_000);

    it("prints a command's usage with --help, and exits 0", async () => {
      const r = await hookline(runtime, ["serve", "--help"]);
      expect(r.stderr).toBe("");
      expect(r.stdout).toMatch(/^usage: hookline serve /m);
      expect(r.stdout).toMatch(/^\s+--config FILE\s+\S/m);
      expect(r.stdout).toMatch(/^\s+--port N\s+\S/m);
      expect(r.stdout).toMatch(/^\s+--host H\s+\S/m);
      expect(r.status).toBe(0);
    }, 60_000);

    it("refuses an unknown flag: names it, prints the command's usage on stderr, exits 2", async () => {
      const r = await hookline(runtime, ["serve", "--prot", "8080", "--config", "hookline.yaml"]);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("hookline serve: unknown flag --prot");
      expect(r.stderr).toMatch(/^usage: hookline serve /m);
      expect(r.stderr).toMatch(/^\s+--port N\s+\S/m);
      expect(r.status).toBe(2);
    }, 60_000);

    it("exits quietly when the reader of its output goes away (hookline schema | head)", async () => {
      const [command, ...pre] = await cliCommand(runtime);
      const child = spawn(command!, [...pre, "schema"], {
        cwd: root,
        env: { ...process.env, NO_COLOR: "1" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr!.on("data", (c) => (stderr += String(c)));
      // Closed before the first write: the schema (~90 kB, more than a pipe holds) is certain to hit
      // the closed pipe, where waiting for a first chunk would race the child writing the rest.
      child.stdout!.destroy();
      const [code, signal] = await new Promise<[number | null, string | null]>((done) =>
        child.once("close", (c, s) => done([c, s])),
      );
      expect(stderr).not.toMatch(stackTrace);
      expect(stderr).toBe("");
      expect(signal === "SIGPIPE" || code === 0).toBe(true);
    }, 60_000);
  });
}

describe("hookline usage (bun, from source)", () => {
  it("lists every command with --help, -h and help, on stdout, exit 0", async () => {
    for (const args of [["--help"], ["-h"], ["help"]]) {
      const r = await hookline("bun", args);
      expect(r.stderr).toBe("");
      for (const c of commands) expect(r.stdout).toMatch(new RegExp(`^\\s+hookline ${c}\\b`, "m"));
      expect(r.stdout).toContain("--version");
      expect(r.status).toBe(0);
    }
  }, 60_000);

  it("prints a command's usage with -h and with help COMMAND", async () => {
    for (const args of [
      ["render", "-h"],
      ["help", "render"],
    ]) {
      const r = await hookline("bun", args);
      expect(r.stderr).toBe("");
      expect(r.stdout).toMatch(/^usage: hookline render WEBHOOK /m);
      for (const flag of ["--config FILE", "--data FILE", "--list-params"])
        expect(r.stdout).toMatch(new RegExp(`^\\s+${flag}\\s+\\S`, "m"));
      expect(r.status).toBe(0);
    }
  }, 60_000);

  it("refuses a flag that needs a value and has none, naming it, with usage, exit 2", async () => {
    const r = await hookline("bun", ["validate", "--config"]);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("hookline validate: --config needs a value (FILE)");
    expect(r.stderr).toMatch(/^usage: hookline validate /m);
    expect(r.status).toBe(2);
  }, 60_000);

  it("refuses an unknown command with the list of commands, on stderr, exit 2", async () => {
    const r = await hookline("bun", ["serv", "--config", "hookline.yaml"]);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('hookline: unknown command "serv"');
    expect(r.stderr).toMatch(/^\s+hookline serve\b/m);
    expect(r.status).toBe(2);
  }, 60_000);
});

describe("hookline usage (in process)", () => {
  it("answers --help for every command with its usage and one line per flag", async () => {
    for (const command of commands) {
      const c = captured();
      expect(await runCli(c.runtime, [command, "--help"], defaultPlugins())).toBe(0);
      expect(c.err()).toBe("");
      expect(c.out()).toMatch(new RegExp(`^usage: hookline ${command}\\b`, "m"));
      expect(c.out()).toMatch(/^\s+-h, --help\s+\S/m);
    }
  });

  it("a flag of another command is unknown here: schema --config is refused", async () => {
    const c = captured();
    expect(await runCli(c.runtime, ["schema", "--config", "x.yaml"], defaultPlugins())).toBe(2);
    expect(c.err()).toContain("hookline schema: unknown flag --config");
    expect(c.out()).toBe("");
  });

  it("refuses an unexpected argument and a missing one with the command's usage, exit 2", async () => {
    const extra = captured();
    expect(await runCli(extra.runtime, ["schema", "extra"], defaultPlugins())).toBe(2);
    expect(extra.err()).toContain('hookline schema: unexpected argument "extra"');
    expect(extra.err()).toMatch(/^usage: hookline schema/m);
    const missing = captured();
    expect(await runCli(missing.runtime, ["render", "--config", "x.yaml"], defaultPlugins())).toBe(2);
    expect(missing.err()).toContain("hookline render: needs WEBHOOK");
    expect(missing.err()).toMatch(/^usage: hookline render WEBHOOK/m);
    const noConfig = captured();
    expect(await runCli(noConfig.runtime, ["export"], defaultPlugins())).toBe(2);
    expect(noConfig.err()).toContain("hookline export: needs --config FILE");
  });

  it("accepts --name=value, and a --port that is not a port is refused", async () => {
    const c = captured();
    expect(await runCli(c.runtime, ["serve", "--config=x.yaml", "--port", "80a"], defaultPlugins())).toBe(2);
    expect(c.err()).toContain('hookline serve: --port needs a port number (0-65535), got "80a"');
  });
});
