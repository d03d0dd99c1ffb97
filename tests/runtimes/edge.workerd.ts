/**
 * The workerd leg: the edge worker, built as `npm run build:edge` builds it, runs in a real workerd
 * (the npm binary, a generated capnp config: see scripts/edge-local.ts) and is driven over HTTP with
 * the inbound cases every other runtime answers in process. It stores through postgres.js over TCP
 * into a fresh database on the local Postgres (TEST_DATABASE_URL, default
 * postgres://postgres@127.0.0.1:5432/test), dropped afterwards.
 *
 *   bun test ./tests/runtimes/edge.workerd.ts      (npm run test:runtimes runs it)
 */
import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { connect, createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgresJs from "postgres";
import { SqlMigrator } from "../../core/store/migrator.ts";
import { callbackMigrations } from "../../plugins/activity-callbacks/migrations.ts";
import { inboundMigrations } from "../../plugins/inbound/migrations.ts";
import { postgresDriver } from "../../plugins/postgres/index.ts";
import { scheduleMigrations } from "../../plugins/schedule/migrations.ts";
import { buildEdge } from "../../scripts/build-edge.ts";
import { type EdgeWorkerProcess, freePort, startEdgeWorker } from "../../scripts/edge-local.ts";
import {
  INBOUND_CONFIG,
  INBOUND_ENV,
  type InboundDriver,
  inboundCases,
  runCase,
} from "../conformance/support/inbound-cases.ts";
import { ESPUTNIK_EXAMPLE } from "../support/esputnik-example.ts";
import { testPki, unusedPort } from "../support/http-sink.ts";

// run.ts runs this leg only with TEST_DATABASE_URL; the default serves a direct `bun test` of this file.
const SERVER = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";

/**
 * A new database, migrated as a server migrates it (the core's and the default plugins' migrations)
 * unless `migrated` is false: the edge worker checks the schema and never migrates.
 */
async function freshDatabase(migrated = true): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `hookline_edge_${crypto.randomUUID().replace(/-/g, "").slice(0, 12)}`;
  const admin = postgresJs(SERVER, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  if (migrated) {
    const driver = postgresDriver({ url: url.toString() });
    try {
      await new SqlMigrator(driver, [inboundMigrations, callbackMigrations, scheduleMigrations]).migrate();
    } finally {
      await driver.close();
    }
  }
  return {
    url: url.toString(),
    async drop() {
      const a = postgresJs(SERVER, { max: 1, onnotice: () => {} });
      await a.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await a.end();
    },
  };
}

/** A TCP relay to Postgres that can be cut and restored: an outage without stopping the shared server. */
async function relay(
  target: URL,
): Promise<{ port: number; cut(): Promise<void>; restore(): Promise<void>; close(): Promise<void> }> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const open = () =>
    new Promise<void>((resolve) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
          s.on("error", () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
      });
      server.listen(port, "127.0.0.1", () => resolve());
    });
  const cut = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    server = undefined;
  };
  await open();
  return { port, cut, restore: open, close: cut };
}

const figures: string[] = [];

describe("edge worker in workerd", () => {
  let dir: string;
  let db: Awaited<ReturnType<typeof freshDatabase>>;
  let sql: ReturnType<typeof postgresJs>;
  let edge: EdgeWorkerProcess;
  let bundle: string;
  let proxy: Awaited<ReturnType<typeof relay>>;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hookline-edge-test-"));
    await writeFile(join(dir, "hookline.yaml"), INBOUND_CONFIG);
    const built = await buildEdge({ config: join(dir, "hookline.yaml"), out: join(dir, "dist") });
    bundle = join(dir, "dist", "worker.js");
    figures.push(`edge bundle minified (test config): ${(built.bytes / 1024).toFixed(1)} KB`);
    db = await freshDatabase();
    sql = postgresJs(db.url, { max: 2, onnotice: () => {} });
    const url = new URL(db.url);
    proxy = await relay(new URL(db.url));
    url.host = `127.0.0.1:${proxy.port}`;
    edge = await startEdgeWorker({ bundle, vars: { ...INBOUND_ENV, DATABASE_URL: url.toString() } });
    figures.push(`workerd listening after spawn: ${edge.listeningMs.toFixed(0)} ms`);
  }, 120_000);

  afterAll(async () => {
    await edge?.stop();
    await proxy?.close();
    await sql?.end();
    await db?.drop();
    await rm(dir, { recursive: true, force: true });
    for (const f of figures) console.log(f);
  });

  it("answers its first request once the isolate has built the app (cold start)", async () => {
    const t0 = performance.now();
    const r = await fetch(`${edge.url}/in/esputnik`);
    figures.push(
      `edge first request (cold: app built, migrations checked): ${(performance.now() - t0).toFixed(0)} ms`,
    );
    expect(r.status).toBe(200);
    const t1 = performance.now();
    expect((await fetch(`${edge.url}/in/esputnik`)).status).toBe(200);
    figures.push(`edge warm GET: ${(performance.now() - t1).toFixed(1)} ms`);
  });

  it("echoes a caller's X-Request-Id on a receiver's answer, and makes one when none is sent", async () => {
    const own = await fetch(`${edge.url}/in/esputnik`, { headers: { "x-request-id": "edge-req-1" } });
    expect(own.status).toBe(200);
    expect(own.headers.get("x-request-id")).toBe("edge-req-1");
    const made = await fetch(`${edge.url}/in/esputnik`);
    expect(made.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers /healthz once the app is built and the store answers", async () => {
    const r = await fetch(`${edge.url}/healthz`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ status: "ok" });
  });

  describe("inbound cases over HTTP", () => {
    const driver: InboundDriver = {
      send: (r) =>
        fetch(`${edge.url}${r.path}`, {
          method: r.method,
          // Cloudflare's edge sets CF-Connecting-IP to the caller's address; locally the test does.
          headers: { ...r.headers, ...(r.client ? { "cf-connecting-ip": r.client } : {}) },
          body: r.body,
        }),
      count: async (table) => Number((await sql.unsafe(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n),
    };
    for (const c of inboundCases()) {
      it(c.name, async () => {
        await runCase(driver, c, expect);
      });
    }
  });

  it("stored the activity-status batch in Postgres as sent, every field kept", async () => {
    const rows = await sql.unsafe(
      "SELECT activity::text AS activity FROM hookline_activities WHERE endpoint = 'esputnik' ORDER BY seq LIMIT 8",
    );
    expect(rows.map((r) => JSON.parse(String(r.activity)))).toEqual(JSON.parse(ESPUTNIK_EXAMPLE));
    const deliveries = await sql.unsafe("SELECT event_type FROM hookline_deliveries");
    expect(deliveries.map((d) => d.event_type)).toContain("activity.unsubscribed");
  });

  it("takes 50 concurrent requests, each answered 200 and stored once", async () => {
    const before = Number((await sql.unsafe("SELECT count(*)::int AS n FROM hookline_activities"))[0]!.n);
    const t0 = performance.now();
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        fetch(`${edge.url}/in/esputnik`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-api-key": INBOUND_ENV.ESPUTNIK_KEY },
          body: JSON.stringify([
            {
              contactId: i,
              activityStatus: "DELIVERED",
              activityDateTime: "2026-01-01T00:00:00",
              iid: `burst-${i}`,
            },
          ]),
        }).then((r) => r.status),
      ),
    );
    figures.push(
      `edge 50 concurrent POSTs (one connection per request, 20 per isolate): ${(performance.now() - t0).toFixed(0)} ms`,
    );
    expect(answers.filter((s) => s === 200)).toHaveLength(50);
    const after = Number((await sql.unsafe("SELECT count(*)::int AS n FROM hookline_activities"))[0]!.n);
    expect(after - before).toBe(50);
  });

  it("answers 500 while Postgres is unreachable, stores nothing, and 200 again once it is back", async () => {
    await proxy.cut();
    const body = JSON.stringify([
      { contactId: 77, activityStatus: "READ", activityDateTime: "2026-01-01T00:00:00", iid: "outage-1" },
    ]);
    const post = () =>
      fetch(`${edge.url}/in/esputnik`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": INBOUND_ENV.ESPUTNIK_KEY },
        body,
      });
    const during = await post();
    expect(during.status).toBe(500);
    expect(await during.json()).toMatchObject({
      success: false,
      errors: [{ code: "HOOKLINE_STORE_UNAVAILABLE" }],
    });
    await proxy.restore();
    const after = await post();
    expect(after.status).toBe(200);
    expect(await after.json()).toMatchObject({ result: { stored: 1 } });
  });
});

describe("edge worker in workerd, failing at start-up", () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "hookline-edge-fail-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("answers 500 (retry later) when Postgres cannot be reached at all", async () => {
    await writeFile(join(dir, "hookline.yaml"), INBOUND_CONFIG);
    await buildEdge({ config: join(dir, "hookline.yaml"), out: join(dir, "down") });
    const edge = await startEdgeWorker({
      bundle: join(dir, "down", "worker.js"),
      vars: { ...INBOUND_ENV, DATABASE_URL: `postgres://postgres@127.0.0.1:${await unusedPort()}/none` },
    });
    try {
      const r = await fetch(`${edge.url}/in/esputnik`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": INBOUND_ENV.ESPUTNIK_KEY },
        body: ESPUTNIK_EXAMPLE,
      });
      expect(r.status).toBe(500);
      expect(await r.json()).toMatchObject({
        success: false,
        errors: [{ code: "HOOKLINE_STORE_UNAVAILABLE" }],
      });
    } finally {
      await edge.stop();
    }
  });

  it("answers 500 (retry later) naming the missing migrations when the store was never migrated", async () => {
    const db = await freshDatabase(false);
    const edge = await startEdgeWorker({
      bundle: join(dir, "down", "worker.js"),
      vars: { ...INBOUND_ENV, DATABASE_URL: db.url },
    });
    try {
      const r = await fetch(`${edge.url}/in/esputnik`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": INBOUND_ENV.ESPUTNIK_KEY },
        body: ESPUTNIK_EXAMPLE,
      });
      expect(r.status).toBe(500);
      expect(await r.json()).toMatchObject({
        success: false,
        errors: [{ code: "HOOKLINE_STORE_SCHEMA_BEHIND" }],
      });
      expect(edge.output.join("\n")).toContain("hookline migrate");
    } finally {
      await edge.stop();
      await db.drop();
    }
  });

  it("refuses to start without a store, naming workerd and the binding it needs", async () => {
    const edge = await startEdgeWorker({ bundle: join(dir, "down", "worker.js"), vars: { ...INBOUND_ENV } });
    try {
      const r = await fetch(`${edge.url}/in/esputnik`);
      expect(r.status).toBe(500);
      expect(await r.json()).toMatchObject({ errors: [{ code: "HOOKLINE_RUNTIME_CAPABILITY" }] });
      expect(edge.output.join("\n")).toContain("workerd: no store: bind Hyperdrive as HYPERDRIVE");
    } finally {
      await edge.stop();
    }
  });

  it("refuses to start when a binding breaks its field's rule, naming the place in the config, not the value", async () => {
    const edge = await startEdgeWorker({
      bundle: join(dir, "down", "worker.js"),
      vars: {
        ...INBOUND_ENV,
        SIGNING_SECRET: "not-a-signing-secret",
        DATABASE_URL: `postgres://postgres@127.0.0.1:${await unusedPort()}/none`,
      },
    });
    try {
      const r = await fetch(`${edge.url}/in/esputnik`);
      expect(r.status).toBe(500);
      expect(await r.json()).toMatchObject({ errors: [{ code: "HOOKLINE_CONFIG" }] });
      const log = edge.output.join("\n");
      expect(log).toMatch(/hookline\.yaml:\d+:\d+ inbound\.endpoints\.signed\.auth\.secrets\.0: /);
      expect(log).not.toContain("not-a-signing-secret");
    } finally {
      await edge.stop();
    }
  });

  it("refuses to start with an mTLS integration but no certificate binding, naming workerd and the binding", async () => {
    const pki = testPki();
    const indent = (pem: string) =>
      pem
        .trim()
        .split("\n")
        .map((l) => `      ${l}`)
        .join("\n");
    await writeFile(
      join(dir, "mtls.yaml"),
      `${INBOUND_CONFIG}
integrations:
  bank:
    kind: mtls
    endpointPrefix: https://bank.example.com/api
    certificate: |
${indent(pki.client.cert)}
    privateKey: |
${indent(pki.client.key)}
`,
    );
    await buildEdge({ config: join(dir, "mtls.yaml"), out: join(dir, "mtls") });
    const db = await freshDatabase();
    const unbound = await startEdgeWorker({
      bundle: join(dir, "mtls", "worker.js"),
      vars: { ...INBOUND_ENV, DATABASE_URL: db.url },
    });
    try {
      const r = await fetch(`${unbound.url}/in/esputnik`);
      expect(r.status).toBe(500);
      expect(await r.json()).toMatchObject({ errors: [{ code: "HOOKLINE_RUNTIME_CAPABILITY" }] });
      expect(unbound.output.join("\n")).toContain(
        'workerd: integration \\"bank\\" needs the mTLS certificate binding MTLS_BANK',
      );
    } finally {
      await unbound.stop();
    }
    // The same bundle with the binding (a service presenting the certificate, as Cloudflare's does) starts.
    const bound = await startEdgeWorker({
      bundle: join(dir, "mtls", "worker.js"),
      vars: { ...INBOUND_ENV, DATABASE_URL: db.url },
      mtls: {
        MTLS_BANK: { address: "127.0.0.1:9", certificateHost: "localhost", ...pki.client, ca: pki.ca },
      },
    });
    try {
      expect((await fetch(`${bound.url}/in/esputnik`)).status).toBe(200);
    } finally {
      await bound.stop();
      await db.drop();
    }
  });
});
