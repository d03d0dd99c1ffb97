import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import type { SqlDriver } from "../../../core/contracts/sql.ts";
import { inbound } from "../../../plugins/inbound/index.ts";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { type ServedApp, serveApp } from "../../support/serve-app.ts";
import { downDriver } from "../store/fixture.ts";

const yaml = `
engine: { pollInterval: 20ms }
webhooks:
  contact: { url: "http://127.0.0.1:9/api", body: "{}" }
triggers:
  - { kind: event, events: [signup], webhooks: [contact] }
`;

interface Ready {
  status: "ready" | "not ready";
  failed: string[];
  checks: Record<
    "store" | "migrations" | "workers",
    { status: string; missing?: string[]; workers?: string; error?: string }
  >;
  requestId: string;
}

const get = async (served: ServedApp, path: string) => {
  const r = await fetch(`${served.url}${path}`);
  return {
    status: r.status,
    id: r.headers.get("x-request-id"),
    body: (await r.json()) as Record<string, unknown>,
  };
};

for (const kind of storeKinds) {
  describe(`health on ${kind.name}`, () => {
    let driver: Awaited<ReturnType<typeof kind.open>>;
    let app: Awaited<ReturnType<typeof testApp>>;
    let served: ServedApp;

    beforeAll(async () => {
      driver = await kind.open();
      app = await testApp(yaml, driver, { plugins: [inbound()] });
      served = await serveApp(app);
    });
    afterAll(async () => {
      await served.close();
      await app.stop(0);
      await driver.dispose();
    });

    it("answers /readyz 503 naming the workers while they have not started, /healthz 200", async () => {
      const ready = await get(served, "/readyz");
      expect(ready.status).toBe(503);
      const body = ready.body as unknown as Ready;
      expect(body).toMatchObject({ status: "not ready", failed: ["workers"], requestId: ready.id! });
      expect(body.checks.workers).toMatchObject({ status: "failed", workers: "stopped" });
      expect(body.checks.store.status).toBe("ok");
      const health = await get(served, "/healthz");
      expect(health.status).toBe(200);
      expect(health.body).toEqual({ status: "ok", worker: app.worker.owner, inFlight: 0 });
    });

    it("answers /readyz 200 once the workers claim, every check ok", async () => {
      await app.start();
      const ready = await get(served, "/readyz");
      expect(ready.status).toBe(200);
      expect(ready.body).toEqual({
        status: "ready",
        failed: [],
        checks: {
          store: { status: "ok" },
          migrations: { status: "ok" },
          workers: { status: "ok", workers: "running" },
        },
        requestId: ready.id!,
      });
    });

    it("answers /readyz 503 naming the migrations not applied, the core's and a plugin's", async () => {
      const [row] = await driver.query<{ id: string; name: string }>(
        "SELECT id, name FROM hookline_migrations WHERE id = 'core:1'",
      );
      const [plugin] = await driver.query<{ id: string; name: string }>(
        "SELECT id, name FROM hookline_migrations WHERE id LIKE 'inbound:%' ORDER BY applied_at DESC, id DESC LIMIT 1",
      );
      expect(row && plugin).toBeTruthy();
      await driver.query("DELETE FROM hookline_migrations WHERE id IN ($1, $2)", [row!.id, plugin!.id]);
      try {
        const ready = await get(served, "/readyz");
        expect(ready.status).toBe(503);
        const body = ready.body as unknown as Ready;
        expect(body.failed).toEqual(["migrations"]);
        expect(body.checks.migrations.status).toBe("failed");
        expect(body.checks.migrations.missing).toEqual([row!.id, plugin!.id]);
        expect((await get(served, "/healthz")).status).toBe(200);
      } finally {
        for (const r of [row!, plugin!])
          await driver.query("INSERT INTO hookline_migrations (id, name) VALUES ($1, $2)", [r.id, r.name]);
      }
      expect((await get(served, "/readyz")).status).toBe(200);
    });
  });
}

describe("health when the store is down", () => {
  let app: Awaited<ReturnType<typeof testApp>>;
  let served: ServedApp;
  let real: SqlDriver & { dispose(): Promise<void> };
  let down = false;

  beforeAll(async () => {
    real = await storeKinds[0]!.open();
    // The real store until the test takes it away; then every statement fails as a lost connection does.
    const via = () => (down ? downDriver : real);
    const switchable: SqlDriver = {
      name: real.name,
      query: (text, params) => via().query(text, params),
      exec: (text) => via().exec(text),
      transaction: (fn) => via().transaction(fn),
      relaxed: (fn) => via().relaxed(fn),
      close: async () => {},
    };
    app = await testApp(yaml, switchable);
    await app.start();
    served = await serveApp(app);
    down = true;
  });
  afterAll(async () => {
    await served.close();
    await app.stop(0);
    await real.dispose();
  });

  it("answers /readyz 503 naming the store, the migrations not checked", async () => {
    const ready = await get(served, "/readyz");
    expect(ready.status).toBe(503);
    const body = ready.body as unknown as Ready;
    expect(body.status).toBe("not ready");
    expect(body.failed).toEqual(["store"]);
    expect(body.checks.store.status).toBe("failed");
    expect(body.checks.store.error).toContain("connection refused");
    expect(body.checks.migrations.status).toBe("skipped");
    expect(body.requestId).toBe(ready.id!);
  });

  it("keeps /healthz 200 with the body a load balancer knows", async () => {
    const health = await get(served, "/healthz");
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({ status: "ok", worker: app.worker.owner });
  });
});
