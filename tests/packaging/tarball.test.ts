import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// What a user gets from the published package: `npm pack` (which builds dist/ on prepack), installed
// with production dependencies only into an empty project, then imported on Node, Bun and Deno.
const root = join(import.meta.dir, "..", "..");
const runtimes = join(root, "tests", "runtimes", "node_modules", ".bin");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

// Composes an app from the installed package on the embedded store, publishes one event and reads it
// back over the app's own fetch: the package's entry points, its dependencies and PGlite all load.
const check = (adapter: string, plugins: string) => `
import { createHookline } from "hookline";
import { defaultPlugins } from "hookline/plugins/defaults";
import * as adapter from "${adapter}";
const dataDir = ${JSON.stringify("DATA_DIR")};
const app = await createHookline({
  config: { file: "hookline.yaml", text: [
    "store: { dataDir: " + JSON.stringify(dataDir) + " }",
    "webhooks:",
    "  hello: { method: POST, url: 'https://crm.example.com/hello', body: '{\\"id\\": <%= json(it.customer.id) %>}' }",
    "triggers: [{ kind: event, events: [signup], webhooks: [hello] }]",
  ].join("\\n") },
  plugins: [...defaultPlugins(), ${plugins}],
});
await app.start({ workers: false });
await app.publish({ type: "signup", id: "e-1", customer: { id: "c-1" } });
const health = (await app.fetch(new Request("http://local/healthz"))).status;
const listed = await (await app.fetch(new Request("http://local/v1/deliveries"))).json();
await app.stop();
console.log(JSON.stringify({ health, deliveries: listed.deliveries.map((d) => d.webhook) }));
`;

let dir = "";
let tarball = "";

describe("the published package", () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "hookline-pack-"));
    execFileSync(npm, ["pack", "--pack-destination", dir, "--silent"], { cwd: root, stdio: "pipe" });
    tarball = join(dir, readdirSync(dir).find((f) => f.endsWith(".tgz"))!);
    const project = join(dir, "app");
    execFileSync("mkdir", ["-p", project]);
    writeFileSync(
      join(project, "package.json"),
      JSON.stringify({
        name: "uses-hookline",
        private: true,
        type: "module",
        dependencies: { hookline: `file:${tarball}` },
      }),
    );
    execFileSync(npm, ["install", "--omit=dev", "--no-audit", "--no-fund", "--prefer-offline"], {
      cwd: project,
      stdio: "pipe",
    });
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const project = () => join(dir, "app");
  const runCheck = (name: string, command: string, args: string[], source: string) => {
    const file = join(project(), name);
    writeFileSync(file, source.replace("DATA_DIR", join(dir, `data-${name}`)));
    const r = spawnSync(command, [...args, file], { cwd: project(), encoding: "utf8", timeout: 120_000 });
    if (r.status !== 0) throw new Error(`${command} ${name} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
    return JSON.parse(r.stdout.trim().split("\n").at(-1)!);
  };

  it("ships its licence, its compiled code and no test runtimes among its dependencies", () => {
    const pkg = JSON.parse(readFileSync(join(project(), "node_modules", "hookline", "package.json"), "utf8"));
    expect(existsSync(join(project(), "node_modules", "hookline", "LICENSE"))).toBe(true);
    expect(existsSync(join(project(), "node_modules", "hookline", "dist", "core", "index.js"))).toBe(true);
    for (const runtime of ["bun", "deno", "workerd", "typescript"])
      expect(existsSync(join(project(), "node_modules", runtime))).toBe(false);
    expect(pkg.engines.node).toBe(">=20.19");
  });

  it("runs on Node from the installed tarball: import, compose on PGlite, publish", () => {
    const out = runCheck(
      "check-node.mjs",
      process.env.NODE ?? "node",
      [],
      check("hookline/adapters/node", "adapter.nodeTransportPlugin()"),
    );
    expect(out).toEqual({ health: 200, deliveries: ["hello"] });
  }, 150_000);

  it('runs on Deno from the installed tarball (import "hookline" and "hookline/adapters/deno")', () => {
    const out = runCheck(
      "check-deno.ts",
      join(runtimes, "deno"),
      ["run", "-A", "--node-modules-dir=manual"],
      check("hookline/adapters/deno", "...adapter.denoPlugins()"),
    );
    expect(out).toEqual({ health: 200, deliveries: ["hello"] });
  }, 150_000);

  it("runs on Bun from the installed tarball", () => {
    const out = runCheck(
      "check-bun.ts",
      join(runtimes, "bun"),
      [],
      check("hookline/adapters/bun", "adapter.bunTransportPlugin()"),
    );
    expect(out).toEqual({ health: 200, deliveries: ["hello"] });
  }, 150_000);

  it("starts its command from the installed tarball", () => {
    const r = spawnSync(join(project(), "node_modules", ".bin", "hookline"), ["schema"], {
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout).type).toBe("object");
  });
});
