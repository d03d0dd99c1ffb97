import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { execFileSync, spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeRuntime } from "../../adapters/node/runtime.ts";
import { runCli } from "../../core/cli.ts";
import type { Runtime } from "../../core/contracts/runtime.ts";
import { defaultPlugins } from "../../plugins/defaults.ts";
import { startSink } from "../support/http-sink.ts";

const root = join(import.meta.dir, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "hookline-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The Node runtime with output captured and shutdown under the test's control. */
function captured(env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  let shutdown: (() => Promise<void>) | undefined;
  const runtime: Runtime = {
    ...nodeRuntime(),
    env: { HOOKLINE_DATA_DIR: join(dir, "data"), ...env },
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
    onShutdown: (h) => {
      shutdown = h;
    },
  };
  return { runtime, out, err, shutdown: () => shutdown?.() };
}

const write = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

const good = write(
  "good.yaml",
  `engine: { allowNetworks: ["127.0.0.1/32"], pollInterval: 20ms }
integrations:
  crm: { kind: basic, endpointPrefix: "http://127.0.0.1:1/api", username: u, password: "\${CRM_PASSWORD}" }
webhooks:
  contact:
    url: http://127.0.0.1:1/api/contacts/<%= it.customer.id %>
    integration: crm
    body: '{"email": <%= json(it.customer.email) %>, "list": <%= json(it.params.list) %>}'
    params: { list: main }
triggers: [{ kind: event, events: [signup], webhooks: [contact] }]
`,
);

describe("hookline CLI", () => {
  it("validates a good config", async () => {
    const c = captured({ CRM_PASSWORD: "pw-123456" });
    expect(await runCli(c.runtime, ["validate", "--config", good], defaultPlugins())).toBe(0);
    expect(c.out.join("\n")).toContain("ok (1 webhooks, 1 integrations, 1 triggers)");
  });

  it("reports config errors with file, line, column and key path, and exits 1", async () => {
    const bad = write(
      "bad.yaml",
      "webhooks:\n  contact:\n    url: http://x/\n    integration: crm-basci\n    method: FETCH\n",
    );
    const c = captured();
    expect(await runCli(c.runtime, ["validate", bad], defaultPlugins())).toBe(1);
    const text = c.err.join("\n");
    expect(text).toContain(`${bad}:4:18 webhooks.contact.integration: unknown integration "crm-basci"`);
    expect(text).toMatch(new RegExp(`${bad}:5:13 webhooks\\.contact\\.method: .*FETCH`));
  });

  it("names a missing environment variable and where it is used", async () => {
    const c = captured({});
    expect(await runCli(c.runtime, ["validate", "--config", good], defaultPlugins())).toBe(1);
    expect(c.err.join("\n")).toContain(`${good}:3:`);
    expect(c.err.join("\n")).toContain("integrations.crm.password");
    expect(c.err.join("\n")).toContain("CRM_PASSWORD");
  });

  it("prints the JSON Schema of the config", async () => {
    const c = captured();
    expect(await runCli(c.runtime, ["schema"], defaultPlugins())).toBe(0);
    const schema = JSON.parse(c.out.join("\n"));
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(["webhooks", "integrations", "triggers", "engine"]),
    );
  });

  it("renders a webhook with given data, credentials redacted, touching no store", async () => {
    const data = write(
      "data.json",
      JSON.stringify({ customer: { id: "c-7", email: "ada@example.com" }, params: { list: "vip" } }),
    );
    const c = captured({ CRM_PASSWORD: "pw-123456" });
    expect(
      await runCli(c.runtime, ["render", "contact", "--config", good, "--data", data], defaultPlugins()),
    ).toBe(0);
    const r = JSON.parse(c.out.join("\n"));
    expect(r.method).toBe("POST");
    expect(r.url).toBe("http://127.0.0.1:1/api/contacts/c-7");
    expect(JSON.parse(r.body)).toEqual({ email: "ada@example.com", list: "vip" });
    expect(r.headers.authorization).toBe("[redacted]");
    expect(JSON.stringify(r)).not.toContain("pw-123456");
  });

  it("lists a webhook's template parameters with --list-params: defaults, where used, unused ones", async () => {
    const config = write(
      "params.yaml",
      `webhooks:
  promo:
    extends: tagged
    url: http://127.0.0.1:1/promo/<%= it.params.code %>
    body: '{"c": <%= json(it.params.campaign) %>, "code": <%= json(it.params.code) %>}'
    params: { campaign: spring, legacy: 1 }
presets:
  tagged:
    headers: { X-Tag: "<%= it.params.tag %>" }
    params: { tag: t-1 }
`,
    );
    const c = captured();
    expect(
      await runCli(c.runtime, ["render", "promo", "--list-params", "--config", config], defaultPlugins()),
    ).toBe(0);
    expect(JSON.parse(c.out.join("\n"))).toEqual({
      webhook: "promo",
      parameters: [
        { name: "tag", default: "t-1", usedIn: ["headers.X-Tag"] },
        { name: "campaign", default: "spring", usedIn: ["body"] },
        { name: "legacy", default: 1, usedIn: [], unused: true },
        { name: "code", usedIn: ["url", "body"] },
      ],
    });
  });

  it("exports without secrets and imports elsewhere, naming the secrets to re-enter", async () => {
    const c = captured({ CRM_PASSWORD: "pw-123456" });
    expect(await runCli(c.runtime, ["export", "--config", good], defaultPlugins())).toBe(0);
    const exported = c.out.join("\n");
    expect(exported).toContain("endpointPrefix: http://127.0.0.1:1/api");
    expect(exported).not.toContain("pw-123456");
    const file = write("export.yaml", exported);
    const bare = write("bare.yaml", "engine: { allowCodeTemplatesFromApi: true }\n");
    const i = captured({ HOOKLINE_DATA_DIR: join(dir, "other-data") });
    expect(await runCli(i.runtime, ["import", file, "--config", bare], defaultPlugins())).toBe(0);
    expect(i.out).toEqual([
      "imported integrations: crm; webhooks: contact",
      "re-enter for crm: password (PUT /v1/integrations/crm)",
    ]);
  });

  it("refuses to listen beyond loopback without HOOKLINE_ADMIN_TOKEN", async () => {
    const c = captured({ CRM_PASSWORD: "pw-123456" });
    expect(
      await runCli(
        c.runtime,
        ["serve", "--config", good, "--host", "0.0.0.0", "--port", "0"],
        defaultPlugins(),
      ),
    ).toBe(1);
    expect(c.err.join("\n")).toContain("refusing to listen on 0.0.0.0 without HOOKLINE_ADMIN_TOKEN");
  });

  it("serves: an event posted over HTTP is delivered, and the admin API needs the token", async () => {
    const sink = await startSink();
    const cfg = write("serve.yaml", (await Bun.file(good).text()).replaceAll("http://127.0.0.1:1", sink.url));
    const c = captured({ CRM_PASSWORD: "pw-123456", HOOKLINE_ADMIN_TOKEN: "tok-0123456789abcdef" });
    const port = 18_000 + Math.floor(Math.random() * 2_000);
    const done = runCli(c.runtime, ["serve", "--config", cfg, "--port", String(port)], defaultPlugins());
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100 && !c.err.join("").includes("listening"); i++) await Bun.sleep(50);
    expect((await fetch(`${base}/v1/events`, { method: "POST", body: "{}" })).status).toBe(401);
    const r = await fetch(`${base}/v1/events`, {
      method: "POST",
      headers: { authorization: "Bearer tok-0123456789abcdef" },
      body: JSON.stringify({ type: "signup", customer: { id: "c-1", email: "c1@example.com" } }),
    });
    expect(r.status).toBe(202);
    for (let i = 0; i < 100 && sink.requests.length === 0; i++) await Bun.sleep(50);
    expect(sink.requests[0]?.url).toBe("/api/contacts/c-1");
    await c.shutdown();
    expect(await done).toBe(0);
    expect(c.err.join("\n")).not.toContain("pw-123456");
    expect(c.err.join("\n")).not.toContain("tok-0123456789abcdef");
    await sink.close();
  });
});

describe("the published command on Node", () => {
  beforeAll(() => {
    // The bin runs the compiled JS: build it now so that the test never runs a stale dist/.
    execFileSync(join(root, "node_modules/.bin/tsc"), ["-p", "tsconfig.build.json"], { cwd: root });
  }, 120_000);

  it("validates the quickstart config with node bin/hookline.js", () => {
    const r = spawnSync(
      "node",
      [
        join(root, "bin/hookline.js"),
        "validate",
        "--config",
        join(root, "examples/quickstart/hookline.yaml"),
      ],
      {
        env: { ...process.env, CRM_PASSWORD: "x-demo-password" },
        encoding: "utf8",
      },
    );
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("ok (1 webhooks, 1 integrations, 1 triggers)");
    expect(r.status).toBe(0);
  });

  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    version: string;
    dependencies: Record<string, string>;
  };

  it("prints the package.json version with node bin/hookline.js --version (compiled dist/)", () => {
    const r = spawnSync("node", [join(root, "bin/hookline.js"), "--version"], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(pkg.version);
    expect(r.status).toBe(0);
  });

  it("prints its version when installed from the packed tarball", () => {
    const app = join(dir, "installed");
    const modules = join(app, "node_modules");
    mkdirSync(modules, { recursive: true });
    const [packed] = JSON.parse(
      execFileSync("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", app], {
        cwd: root,
        encoding: "utf8",
      }),
    ) as { filename: string }[];
    execFileSync("tar", ["-xzf", join(app, packed!.filename), "-C", modules]);
    renameSync(join(modules, "package"), join(modules, "hookline"));
    // Its dependencies as npm would place them beside it (linked from this checkout, no network).
    for (const name of Object.keys(pkg.dependencies)) {
      mkdirSync(join(modules, name, ".."), { recursive: true });
      symlinkSync(join(root, "node_modules", name), join(modules, name));
    }
    const r = spawnSync("node", [join(modules, "hookline", "bin", "hookline.js"), "--version"], {
      cwd: app,
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(r.stdout.trim()).toBe(pkg.version);
    expect(r.status).toBe(0);
  }, 60_000);
});
