import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { build } from "esbuild";
import { etaRenderer } from "../../../plugins/eta/index.ts";
import { precompileEta } from "../../../plugins/eta/precompile.ts";

// workerd forbids code generation from strings: the reason Eta is precompiled, and the reason the
// other renderers are interpreters. This runs them inside a real workerd.
const root = resolve(import.meta.dir, "../../..");
const dir = mkdtempSync(join(tmpdir(), "hookline-workerd-"));
const ETA_BODY =
  '{"name": <%= json(it.customer.name) %>, "tags": [<%= it.customer.tags.map((t) => json(xml(t))).join(",") %>]}';
const CONTEXT = { customer: { id: "c1", name: 'Ada "x" </s>\u2028', tags: ["<a>", "b&c"] } };

const WORKER = `
import { etaPrecompiledRenderer } from "${root}/plugins/eta/precompile.ts";
import { velocityRenderer } from "${root}/plugins/velocity/index.ts";
import { jinjaRenderer } from "${root}/plugins/jinja/index.ts";
import { mustacheRenderer } from "${root}/plugins/mustache/index.ts";
import templates from "./templates.mjs";
const context = ${JSON.stringify({ ...CONTEXT, data: { WH5: { promocode: "P1" } }, responses: [{ actionId: "a1", data: { code: "X" } }] })};
const attempt = (f) => { try { return f(); } catch (e) { return "ERR " + e.message; } };
export default {
  async fetch() {
    return Response.json({
      eta: attempt(() => etaPrecompiledRenderer(templates).compile(${JSON.stringify(ETA_BODY)}, { name: "b" }).render(context)),
      velocity: attempt(() => velocityRenderer().compile("$data.get('WH5').get('promocode') $esc.json($customer.name)", { name: "v" }).render(context)),
      jinja: attempt(() => jinjaRenderer().compile("{{ webhook.code }} {{ customer.name | tojson }}", { name: "j" }).render(context)),
      mustache: attempt(() => mustacheRenderer().compile("{{#json}}{{customer.name}}{{/json}}", { name: "m" }).render(context)),
      codegen: attempt(() => String(new Function("return 1")())),
    });
  },
};
`;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe("renderers inside workerd", () => {
  let workerd: ChildProcess | undefined;
  let url = "";

  beforeAll(async () => {
    writeFileSync(join(dir, "templates.mjs"), precompileEta({ "webhooks.w.body": ETA_BODY }));
    writeFileSync(join(dir, "worker.mjs"), WORKER);
    await build({
      entryPoints: [join(dir, "worker.mjs")],
      bundle: true,
      format: "esm",
      conditions: ["workerd", "worker", "browser"],
      outfile: join(dir, "bundle.js"),
      logLevel: "silent",
    });
    const port = await freePort();
    writeFileSync(
      join(dir, "config.capnp"),
      `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "main", worker = .w) ],
  sockets = [ (name = "http", address = "127.0.0.1:${port}", http = (), service = "main") ],
);
const w :Workerd.Worker = (
  modules = [ (name = "worker", esModule = embed "bundle.js") ],
  compatibilityDate = "2024-09-01",
);
`,
    );
    workerd = spawn(
      join(root, "tests/runtimes/node_modules/.bin/workerd"),
      ["serve", join(dir, "config.capnp")],
      {
        stdio: "ignore",
      },
    );
    url = `http://127.0.0.1:${port}/`;
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        if ((await fetch(url)).ok) break;
      } catch {
        if (Date.now() > deadline) throw new Error("workerd did not start");
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }, 30_000);

  afterAll(() => {
    workerd?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it("renders precompiled Eta (same bytes as run-time Eta) and the interpreters where code generation is refused", async () => {
    const out = (await (await fetch(url)).json()) as Record<string, string>;
    expect(out.codegen).toStartWith("ERR ");
    expect(out.eta).toBe(etaRenderer().compile(ETA_BODY, { name: "b" }).render(CONTEXT));
    expect(JSON.parse(out.eta!).name).toBe(CONTEXT.customer.name);
    expect(out.velocity).toBe('P1 "Ada \\"x\\" \\u003c/s\\u003e\\u2028"');
    expect(out.jinja).toBe('X "Ada \\"x\\" \\u003c/s\\u003e\\u2028"');
    expect(out.mustache).toBe('"Ada \\"x\\" \\u003c/s\\u003e\\u2028"');
  });
});
