// bench:campaign — a segment send of BENCH_PROFILES (100,000) profiles on the Postgres server.
// - enqueue: members written as deliveries per second by the send's job (page by page, each page one
//   INSERT … SELECT into the outbox with state rows, tallies and the cursor), workers off, ÷ a bare
//   `INSERT … SELECT` of the same rows (the same members' query, the same columns) into plain copies of
//   the two outbox tables with the same indexes, in one statement: the ceiling (`ratio`, goal ≥ 0.5).
//   Rounds alternate bare and send, BENCH_ROUNDS (3) of each; figures are medians.
// - end to end: a send started through POST /v1/segments/:name/send with the workers on (100 in flight,
//   a ~60 B body) until the local sink (its own process) has answered every member: deliveries/s.
// - rss_mb: the peak resident set of this process (app, driver, job and workers; the sink apart),
//   goal < 300 MB: the segment never sits in memory.
// Run: npm run bench:campaign   (TEST_DATABASE_URL or DATABASE_URL names the Postgres server)
import { loadavg } from "node:os";
import { nodeTransportPlugin } from "../../adapters/node/runtime.ts";
import { createHookline, type Hookline } from "../../core/app.ts";
import type { SqlDriver } from "../../core/contracts/store.ts";
import { Tokens } from "../../core/tokens.ts";
import { eta } from "../../plugins/eta/index.ts";
import { inbound } from "../../plugins/inbound/index.ts";
import { segmentMembersQuery } from "../../plugins/inbound/segments/send.ts";
import { postgresDriver } from "../../plugins/postgres/index.ts";
import { median } from "../lib/meter.ts";
import { adminConnection, dropLeftovers, scratchDatabase, serverUrl } from "../lib/postgres-server.ts";
import { startSink } from "../lib/sink.ts";

const server = serverUrl();
if (!server) {
  console.error("bench:campaign needs a Postgres server: set TEST_DATABASE_URL or DATABASE_URL");
  process.exit(2);
}
const PROFILES = Number(process.env.BENCH_PROFILES ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IN_FLIGHT = 100;
// Every profile is a member, through a filter that reads properties (as a real segment does).
const FILTER = {
  and: [
    { property: "tier", in: ["gold", "silver"] },
    { property: "n", gte: 0 },
  ],
};

const config = (url: string) => `
engine: { concurrency: ${IN_FLIGHT}, pollInterval: 20ms, allowNetworks: ["127.0.0.1/32"] }
segments:
  everyone: { filter: ${JSON.stringify(FILTER)} }
webhooks:
  contact: { url: ${url}/hooks/contact, body: '{"id": <%= json(it.customer.id) %>, "email": <%= json(it.customer.email) %>}' }
`;

const app = (driver: SqlDriver, url: string) =>
  createHookline({
    config: { text: config(url), file: "campaign.yaml" },
    plugins: [
      eta(),
      inbound(),
      nodeTransportPlugin(),
      {
        name: "bench-store",
        register: (c) => c.register(Tokens.SqlDriver, { useValue: { ...driver, close: async () => {} } }),
      },
    ],
  });

const admin = adminConnection(server);
await dropLeftovers(admin);
const db = await scratchDatabase(admin, server, "campaign");
const driver = postgresDriver({ url: db.url, max: 10 });
const sink = await startSink();
let hookline: Hookline | undefined;
try {
  hookline = await app(driver, sink.url);
  await hookline.store.migrate();
  await driver.query(
    `INSERT INTO hookline_profiles (id, properties)
     SELECT 'p' || lpad(g::text, 7, '0'),
            jsonb_build_object('n', g, 'tier', CASE WHEN g % 3 = 0 THEN 'gold' ELSE 'silver' END,
                               'email', 'c' || g || '@example.com', 'name', 'Customer ' || g)
       FROM generate_series(1, $1::int) g`,
    [PROFILES],
  );
  await driver.query("CREATE TABLE bare_deliveries (LIKE hookline_deliveries INCLUDING ALL)");
  await driver.query("CREATE TABLE bare_delivery_state (LIKE hookline_delivery_state INCLUDING ALL)");
  await driver.exec("VACUUM ANALYZE");
  await driver.exec("CHECKPOINT");

  const members = segmentMembersQuery(FILTER as never, new Date());
  const k = members.params.length;
  // The ceiling: the rows a send writes (same columns, same values but for the tally and the cursor),
  // in one statement, into plain tables with the outbox's indexes.
  const bare = `
    WITH m AS (SELECT m.id AS member, m.customer FROM (${members.sql}) m),
    c AS (
      INSERT INTO bare_deliveries (id, webhook, idempotency_key, run_id, event_id, event_type, customer_id, context, max_attempts, traceparent)
      SELECT gen_random_uuid(), 'contact', $${k + 1}::text || ':' || member || ':contact', $${k + 1}::text, $${k + 1}::text || ':' || member,
             'segment', member,
             jsonb_build_object('event', jsonb_build_object('id', $${k + 1}::text || ':' || member, 'type', 'segment',
                                'timestamp', now()::text, 'data', jsonb_build_object('segment', 'everyone', 'send', $${k + 1}::text)),
                                'customer', customer, 'params', '{}'::jsonb),
             4, '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01'
        FROM m ORDER BY member
      RETURNING id, seq
    )
    INSERT INTO bare_delivery_state (id, seq, webhook, run_id, max_attempts, next_at, status, bulk)
    SELECT id, seq, 'contact', $${k + 1}::text, 4, now(), 'pending', true FROM c ORDER BY seq`;

  const clear = async () => {
    await driver.query(
      "TRUNCATE hookline_deliveries, hookline_delivery_state, bare_deliveries, bare_delivery_state",
    );
    await driver.query("DELETE FROM hookline_run_tallies");
    await driver.query("DELETE FROM hookline_runs");
    await driver.exec(
      "VACUUM ANALYZE hookline_deliveries, hookline_delivery_state, bare_deliveries, bare_delivery_state",
    );
  };
  const count = async (table: string) =>
    Number((await driver.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n);

  const bareRates: number[] = [];
  const sendRates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    await clear();
    let t = performance.now();
    // JIT off as the send's pages have it: the best the bare statement does on this server.
    await driver.transaction(async (tx) => {
      await tx.query("SET LOCAL jit = off");
      await tx.query(bare, [...members.params, `bare${round}`]);
    });
    bareRates.push(PROFILES / ((performance.now() - t) / 1000));
    if ((await count("bare_deliveries")) !== PROFILES)
      throw new Error("the bare insert wrote the wrong rows");

    await clear();
    const h = hookline!;
    t = performance.now();
    const started = await h.host.fanOut({
      segment: "everyone",
      members,
      webhooks: ["contact"],
      sendId: `r${round}`,
    });
    for (;;) {
      await h.store.runJobs("bench", 60_000);
      if ((await h.store.getRun(started.runId))?.job?.state !== "running") break;
    }
    sendRates.push(PROFILES / ((performance.now() - t) / 1000));
    if ((await count("hookline_deliveries")) !== PROFILES) throw new Error("the send wrote the wrong rows");
    console.error(
      `round ${round + 1}: bare ${Math.round(bareRates.at(-1)!)}/s, send ${Math.round(sendRates.at(-1)!)}/s`,
    );
  }

  // End to end: POST the send, workers on, until the sink has answered every member.
  await clear();
  await h2e();
  async function h2e() {
    const h = hookline!;
    await h.start();
    const before = await sink.count();
    const t = performance.now();
    const r = await h.fetch(
      new Request("http://bench/v1/segments/everyone/send", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ webhook: "contact", sendId: "e2e" }),
      }),
    );
    if (r.status !== 202) throw new Error(`the send answered ${r.status}: ${await r.text()}`);
    await sink.reach(before + PROFILES);
    const seconds = (performance.now() - t) / 1000;
    console.log(`profiles: ${PROFILES}`);
    console.log(`bare_insert_select_per_s: ${Math.round(median(bareRates))}`);
    console.log(`enqueued_per_s: ${Math.round(median(sendRates))}`);
    console.log(`ratio: ${(median(sendRates) / median(bareRates)).toFixed(2)}`);
    console.log(`end_to_end_deliveries_per_s: ${Math.round(PROFILES / seconds)}`);
    console.log(`rss_mb: ${Math.round(process.resourceUsage().maxRSS / 1024)}`);
    console.log(
      `load: ${loadavg()
        .map((l) => l.toFixed(2))
        .join(" ")}`,
    );
  }
} finally {
  await hookline?.stop(2_000).catch(() => {});
  sink.stop();
  await driver.close();
  await db.drop();
  await admin.end();
}
