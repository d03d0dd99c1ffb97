import { describe, expect, it } from "bun:test";
import type { Plugin } from "../../core/contracts/plugin.ts";
import { Tokens } from "../../core/tokens.ts";
import { testApp } from "../support/app.ts";
import { storeKinds } from "../support/db.ts";

/** A third-party plugin using every extension point: its own table, routes and a background service. */
const notes = (log: string[]): Plugin => ({
  name: "notes",
  register(c) {
    c.register(Tokens.Migrations, {
      useValue: {
        plugin: "notes",
        migrations: [
          { version: 2, name: "tags", sql: "ALTER TABLE notes ADD COLUMN tag text NOT NULL DEFAULT 'none'" },
          {
            version: 1,
            name: "notes",
            sql: "CREATE TABLE notes (id serial PRIMARY KEY, text text NOT NULL)",
          },
        ],
      },
    });
    c.register(Tokens.HttpRoutes, {
      useValue: {
        name: "notes",
        mount(http, host) {
          http.post("/in/notes", async (ctx) => {
            await host.sql.query("INSERT INTO notes (text, tag) VALUES ($1, 'in')", [await ctx.req.text()]);
            return ctx.json({ stored: true });
          });
          http.get("/v1/notes", async (ctx) =>
            ctx.json(await host.sql.query("SELECT text, tag FROM notes ORDER BY id")),
          );
        },
      },
    });
    c.register(Tokens.Service, {
      useValue: {
        name: "notes-service",
        start: (host) => {
          log.push("started");
          host.signal.addEventListener("abort", () => log.push("aborted"));
        },
        stop: () => {
          log.push("stopped");
        },
      },
    });
  },
});

describe("plugin extension points", () => {
  it("applies a plugin's migrations in version order, mounts its routes behind the admin token, runs its service", async () => {
    const driver = await storeKinds[0]!.open();
    const log: string[] = [];
    const app = await testApp("webhooks: {}\n", driver, {
      plugins: [notes(log)],
      adminToken: "admin-token-123456",
    });
    await app.start();
    expect(log).toEqual(["started"]);
    const posted = await app.fetch(new Request("http://h/in/notes", { method: "POST", body: "hello" }));
    expect(posted.status).toBe(200);
    expect((await app.fetch(new Request("http://h/v1/notes"))).status).toBe(401);
    const listed = await app.fetch(
      new Request("http://h/v1/notes", { headers: { authorization: "Bearer admin-token-123456" } }),
    );
    expect(await listed.json()).toEqual([{ text: "hello", tag: "in" }]);
    const ids = await driver.query<{ id: string }>("SELECT id FROM hookline_migrations ORDER BY id");
    expect(ids.map((r) => r.id).filter((id) => id.startsWith("notes:"))).toEqual(["notes:1", "notes:2"]);
    const applied = ids.length;
    await app.stop(0);
    expect(log).toEqual(["started", "aborted", "stopped"]);
    // Starting again on the same store applies nothing twice.
    const again = await testApp("webhooks: {}\n", driver, { plugins: [notes([])] });
    expect((await driver.query("SELECT id FROM hookline_migrations")).length).toBe(applied);
    await again.stop(0);
    await driver.dispose();
  });

  it("runs start-up checks before the app is handed out: one that fails stops createHookline with its message", async () => {
    const driver = await storeKinds[0]!.open();
    const seen: string[] = [];
    const check = (fail: boolean): Plugin => ({
      name: "capability",
      register(c) {
        c.register(Tokens.StartupCheck, {
          useValue: {
            name: "capability",
            check(host) {
              seen.push([...host.catalogue.webhooks.keys()].join(","));
              if (fail)
                throw new Error('testruntime: integration "bank" needs mTLS, which this runtime cannot do');
            },
          },
        });
      },
    });
    const yaml = "webhooks: { w: { url: https://example.com/hook } }\n";
    await expect(testApp(yaml, driver, { plugins: [check(true)] })).rejects.toThrow(
      'testruntime: integration "bank" needs mTLS',
    );
    const app = await testApp(yaml, driver, { plugins: [check(false)] });
    expect(seen).toEqual(["w", "w"]);
    await app.stop(0);
    await driver.dispose();
  });
});
