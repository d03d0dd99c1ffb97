import { afterAll, describe, expect, it } from "bun:test";
import { nodeRuntime } from "../../../adapters/node/runtime.ts";
import { runCli } from "../../../core/cli.ts";
import type { Runtime } from "../../../core/contracts/runtime.ts";
import { HooklineError } from "../../../core/errors.ts";
import { SqlMigrator } from "../../../core/store/migrator.ts";
import { callbackMigrations } from "../../../plugins/activity-callbacks/migrations.ts";
import { defaultPlugins } from "../../../plugins/defaults.ts";
import { inboundMigrations } from "../../../plugins/inbound/migrations.ts";
import { postgresDriver } from "../../../plugins/postgres/index.ts";
import { scheduleMigrations } from "../../../plugins/schedule/migrations.ts";
import { freshDatabase, TEST_DATABASE_URL } from "../../support/db.ts";

// What the default plugins migrate: a server's schema, which the edge worker checks.
const PLUGIN_MIGRATIONS = [inboundMigrations, callbackMigrations, scheduleMigrations];

const captured = () => {
  const out: string[] = [];
  const err: string[] = [];
  const runtime: Runtime = {
    ...nodeRuntime(),
    env: {},
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
  };
  return { runtime, out, err };
};

describe.if(Boolean(TEST_DATABASE_URL))("the schema check and `hookline migrate` (Postgres)", () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it("refuses an unmigrated store naming what is missing, and passes once `hookline migrate` ran", async () => {
    const db = await freshDatabase();
    cleanups.push(() => db.drop());
    const driver = postgresDriver({ url: db.url });
    cleanups.push(() => driver.close());
    const check = new SqlMigrator(driver, PLUGIN_MIGRATIONS);

    const before = await check.checkMigrated().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(before).toBeInstanceOf(HooklineError);
    expect((before as HooklineError).code).toBe("HOOKLINE_STORE_SCHEMA_BEHIND");
    expect((before as Error).message).toContain("core:1, core:2");
    expect((before as Error).message).toContain("hookline migrate");
    // Checking changes nothing: not even the migrations' own table is made.
    const [made] = await driver.query<{ present: boolean }>(
      "SELECT to_regclass('hookline_migrations') IS NOT NULL AS present",
    );
    expect(made!.present).toBe(false);

    const config = `store: { url: "${db.url}" }\n`;
    const { runtime, out } = captured();
    runtime.readFile = async () => config;
    expect(await runCli(runtime, ["migrate", "--config", "hookline.yaml"], defaultPlugins())).toBe(0);
    expect(out.join("\n")).toContain("hookline.yaml: the store's schema is up to date");
    await check.checkMigrated();

    // A migration this build knows and the store has not had is named.
    await driver.query("DELETE FROM hookline_migrations WHERE id = 'inbound:1'");
    await expect(check.checkMigrated()).rejects.toThrow(/inbound:1 not applied/);
  });
});
