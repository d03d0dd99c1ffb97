/**
 * `engine.requireHttps`: plain http:// targets are refused where they can be seen — a webhook URL
 * whose literal start is http://, an integration's http:// endpoint prefix, at start-up and in the
 * admin API — and at send time for what a template renders. It is on by default when the server
 * listens beyond loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeRuntime } from "../../../adapters/node/runtime.ts";
import { nodeTransport } from "../../../adapters/node/transport.ts";
import { createHookline } from "../../../core/app.ts";
import { runCli } from "../../../core/cli.ts";
import type { Plugin } from "../../../core/contracts/plugin.ts";
import type { SqlDriver } from "../../../core/contracts/store.ts";
import type { AddressGuard } from "../../../core/net/address-guard.ts";
import { Tokens } from "../../../core/tokens.ts";
import { basic } from "../../../plugins/basic/index.ts";
import { defaultPlugins } from "../../../plugins/defaults.ts";
import { eta } from "../../../plugins/eta/index.ts";
import { eventually, testApp, useDriver } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type Sink, startSink, type TestPki, testPki } from "../../support/http-sink.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

/** Node's transport trusting the test CA, so that an https:// sink on 127.0.0.1 can be reached. */
const trustingTransport = (pki: TestPki): Plugin => ({
  name: "test-transport",
  register(c) {
    c.register(Tokens.TransportFactory, {
      useValue: (deps) => {
        const inner = nodeTransport({ guard: deps.guard as AddressGuard });
        return {
          name: "trusting-node",
          send: (r) => inner.send({ ...r, tls: r.tls ?? { ...pki.client, ca: pki.ca } }),
          close: () => inner.close!(),
        };
      },
    });
  },
});

/** A config whose literal targets are http:// (a webhook URL, an integration's endpoint prefix). */
const plainTargets = (engine: string) => `
engine: { allowNetworks: ["127.0.0.1/32"], pollInterval: 20ms${engine} }
integrations:
  crm: { kind: basic, endpointPrefix: "http://127.0.0.1:9/api", username: u, password: p }
webhooks:
  contact: { url: "http://127.0.0.1:9/api/contacts", integration: crm, body: "{}" }
  dynamic: { url: "<%= it.event.data.base %>/hook", body: "{}" }
`;

async function app(driver: SqlDriver, yaml: string, host?: string) {
  return createHookline({
    config: { text: yaml, file: "test.yaml" },
    plugins: [eta(), basic(), useDriver(driver)],
    host,
  });
}

for (const kind of storeKinds) {
  describe(`engine.requireHttps on ${kind.name}`, () => {
    let driver: Driver;
    let plain: Sink;
    let secure: Sink;
    let pki: TestPki;
    beforeAll(async () => {
      driver = await kind.open();
      pki = testPki();
      plain = await startSink();
      secure = await startSink(undefined, { tls: pki.server });
    });
    afterAll(async () => {
      await plain.close();
      await secure.close();
      await driver.dispose();
    });

    it("refuses to start with a webhook URL or an endpoint prefix that is plain http://, naming each", async () => {
      const a = await app(driver, plainTargets(", requireHttps: true"));
      expect(a.requireHttps).toBe(true);
      const error = await a.start().then(
        () => undefined,
        (e) => e,
      );
      await a.stop(0);
      expect(error?.code).toBe("HOOKLINE_HTTPS_REQUIRED");
      expect(error.message).toContain("webhooks.contact.url");
      expect(error.message).toContain("integrations.crm.endpointPrefix");
      // A URL whose scheme a template decides is checked when it is sent.
      expect(error.message).not.toContain("webhooks.dynamic");
    });

    it("is on by default when the server listens beyond loopback, off on loopback, and as set when set", async () => {
      const cases: Array<[string | undefined, string, boolean]> = [
        ["0.0.0.0", "", true],
        ["::", "", true],
        ["10.1.2.3", "", true],
        ["127.0.0.1", "", false],
        ["localhost", "", false],
        ["::1", "", false],
        [undefined, "", false],
        ["0.0.0.0", ", requireHttps: false", false],
        ["127.0.0.1", ", requireHttps: true", true],
      ];
      for (const [host, engine, expected] of cases) {
        const a = await app(driver, plainTargets(engine), host);
        expect({ host, engine, on: a.requireHttps }).toEqual({ host, engine, on: expected });
        if (!expected) await a.start();
        await a.stop(0);
      }
    });

    it("takes the default from server.host when no listen address is given", async () => {
      const a = await app(driver, `server: { host: 0.0.0.0 }\n${plainTargets("")}`);
      expect(a.requireHttps).toBe(true);
      await a.stop(0);
    });

    it("answers 400 to admin-API webhooks and integrations whose target is plain http://", async () => {
      const a = await testApp("engine: { requireHttps: true, allowCodeTemplatesFromApi: true }\n", driver, {
        env: { HOOKLINE_SECRET_KEY: btoa(String.fromCharCode(...new Uint8Array(32).fill(7))) },
      });
      const put = async (path: string, body: object) => {
        const r = await a.fetch(
          new Request(`http://h${path}`, { method: "PUT", body: JSON.stringify(body) }),
        );
        return { status: r.status, json: await r.json() };
      };
      const hook = await put("/v1/webhooks/plain", { url: "http://crm.example.com/api/x", body: "{}" });
      expect(hook.status).toBe(400);
      expect(hook.json.error).toContain("requireHttps");
      expect(hook.json.issues).toEqual([{ path: "url", message: expect.stringContaining("https://") }]);
      const integration = await put("/v1/integrations/plain", {
        kind: "basic",
        endpointPrefix: "http://crm.example.com/api",
        username: "u",
        password: "p",
      });
      expect(integration.status).toBe(400);
      expect(integration.json.issues).toEqual([
        { path: "endpointPrefix", message: expect.stringContaining("https://") },
      ]);
      const imported = await a.fetch(
        new Request("http://h/v1/import", {
          method: "POST",
          body: JSON.stringify({
            integrations: {
              old: { kind: "basic", endpointPrefix: "http://crm.example.com/api", username: "u" },
            },
          }),
        }),
      );
      expect(imported.status).toBe(400);
      expect(
        (await put("/v1/webhooks/secure", { url: "https://crm.example.com/api/x", body: "{}" })).status,
      ).toBe(200);
      await a.stop(0);
    });

    it("fails a delivery whose rendered URL is plain http:// without sending it, and sends the https:// one", async () => {
      const a = await testApp(
        `engine: { requireHttps: true, allowNetworks: ["127.0.0.1/32"], pollInterval: 20ms, retry: { delays: [20ms], jitter: 0 } }
webhooks:
  dynamic: { url: "<%= it.event.data.base %>/hook", body: '{"n": 1}' }
triggers: [{ kind: event, events: [go], webhooks: [dynamic] }]
`,
        driver,
        { plugins: [trustingTransport(pki)] },
      );
      await a.start();
      const [refused, sent] = (
        await a.publish([
          { type: "go", data: { base: plain.url } },
          { type: "go", data: { base: secure.url } },
        ])
      ).events.map((e) => e.deliveries[0]!.id);
      const settled = async (id: string) => {
        const d = await a.store.getDelivery(id!);
        return d && d.status !== "pending" && d.status !== "in_flight" ? d : undefined;
      };
      const failed = await eventually(() => settled(refused!), 15_000, "the http:// delivery to settle");
      const succeeded = await eventually(() => settled(sent!), 15_000, "the https:// delivery to settle");
      expect(succeeded.status).toBe("succeeded");
      expect(secure.requests.map((r) => r.url)).toEqual(["/hook"]);
      expect(failed.status).toBe("failed");
      expect(failed.attempts).toBe(1);
      expect(failed.reason).toContain("engine.requireHttps");
      expect(failed.reason).toContain(`${plain.url}/hook`);
      expect(plain.connections).toBe(0);
      await a.stop(0);
    });
  });
}

describe("hookline serve and engine.requireHttps", () => {
  it("refuses to serve plain http:// targets on --host 0.0.0.0, naming them, before listening", async () => {
    const dir = mkdtempSync(join(tmpdir(), "hookline-https-"));
    try {
      const file = join(dir, "hookline.yaml");
      writeFileSync(file, plainTargets(""));
      const err: string[] = [];
      const runtime = {
        ...nodeRuntime(),
        env: { HOOKLINE_DATA_DIR: join(dir, "data"), HOOKLINE_ADMIN_TOKEN: "tok-0123456789abcdef" },
        stdout: () => {},
        stderr: (l: string) => err.push(l),
        onShutdown: () => {},
      };
      const code = await runCli(
        runtime,
        ["serve", "--config", file, "--host", "0.0.0.0", "--port", "0"],
        defaultPlugins(),
      );
      expect(code).toBe(1);
      const said = err.join("\n");
      expect(said).toContain("the server listens on 0.0.0.0, beyond loopback");
      expect(said).toContain("webhooks.contact.url (http://127.0.0.1:9/api/contacts)");
      expect(said).not.toContain("server.listening");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
