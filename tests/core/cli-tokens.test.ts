import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { nodeRuntime } from "../../adapters/node/runtime.ts";
import { runCli } from "../../core/cli.ts";
import type { ServerHandle } from "../../core/contracts/runtime.ts";
import { defaultPlugins } from "../../plugins/defaults.ts";
import { testApp } from "../support/app.ts";
import { capturedRuntime } from "../support/captured-runtime.ts";
import { storeKinds } from "../support/db.ts";

const ADMIN = "admin-token-for-tests-0123456789";

const captured = (token = ADMIN) => capturedRuntime({ HOOKLINE_ADMIN_TOKEN: token });

describe("hookline tokens", () => {
  const kind = storeKinds[0]!;
  let driver: Awaited<ReturnType<typeof kind.open>>;
  let app: Awaited<ReturnType<typeof testApp>>;
  let server: ServerHandle;
  let base = "";
  const cli = (c: ReturnType<typeof captured>, ...argv: string[]) =>
    runCli(c.runtime, ["tokens", ...argv, "--url", base], defaultPlugins());

  beforeAll(async () => {
    driver = await kind.open();
    app = await testApp(`webhooks: { contact: { url: "http://127.0.0.1:9/x", body: "{}" } }\n`, driver, {
      adminToken: ADMIN,
    });
    await app.start({ workers: false });
    server = await nodeRuntime().serve(app.fetch, { host: "127.0.0.1", port: 0 });
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server.close();
    await app.stop(100);
    await driver.dispose();
  });

  it("creates a token (its secret alone on stdout, once), lists it without the secret and revokes it", async () => {
    const made = captured();
    expect(await cli(made, "create", "ci pipeline", "--role", "publisher")).toBe(0);
    const secret = made.out[0]!;
    expect(made.out).toHaveLength(1);
    expect(secret).toStartWith("hl_publisher_");
    const id = /created (tok_\w+) \(publisher\)/.exec(made.err.join("\n"))![1]!;
    // The secret works: a publisher may publish.
    const published = await fetch(`${base}/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${secret}`, "content-type": "application/json" },
      body: JSON.stringify({ type: "signup" }),
    });
    expect(published.status).toBe(202);
    const listed = captured();
    expect(await cli(listed, "list")).toBe(0);
    expect(listed.out.join("\n")).toContain(`${id}  publisher  `);
    expect(listed.out.join("\n")).not.toContain(secret);
    const revoked = captured();
    expect(await cli(revoked, "revoke", id)).toBe(0);
    expect(revoked.out).toEqual([`revoked ${id}`]);
    const after = captured();
    expect(await cli(after, "list")).toBe(0);
    expect(after.out.join("\n")).toMatch(new RegExp(`${id}  publisher .* revoked `));
  });

  it("names what is wrong: no role, an unknown action, a token that is not an admin's", async () => {
    const noRole = captured();
    expect(await cli(noRole, "create", "x")).toBe(1);
    expect(noRole.err.join("\n")).toContain(
      "tokens create needs --role, one of: admin, editor, viewer, publisher",
    );
    const odd = captured();
    expect(await cli(odd, "rotate", "x")).toBe(1);
    expect(odd.err.join("\n")).toContain('expected create, list or revoke, got "rotate"');
    const notAdmin = captured("wrong");
    expect(await cli(notAdmin, "list")).toBe(1);
    expect(notAdmin.err.join("\n")).toContain("HOOKLINE_ADMIN_TOKEN must be an admin token");
    const badRole = captured();
    expect(await cli(badRole, "create", "x", "--role", "root")).toBe(2);
  });
});
