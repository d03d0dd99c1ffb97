// "The durable receiver": the least a durable callback receiver must do, written in the bench — a hono
// app that checks the API key (constant time), parses the body as a JSON array of objects with an `iid`,
// and stores each activity once (keyed by its `iid`) in Postgres, answering 200 only after its rows are
// committed. Group commit: one write in flight; requests arriving while it runs share the next
// `INSERT … SELECT FROM jsonb_to_recordset`, one statement (its own implicit transaction).
import { timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import postgresJs from "postgres";

const SCHEMA = `
CREATE TABLE activities (
  iid text PRIMARY KEY,
  status text,
  activity jsonb NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now()
)`;

type Activity = Record<string, unknown> & { iid: string };

/** Gathers activities while a write runs; the next write takes all of them in one statement. */
class GroupCommit {
  private waiting: Array<{ rows: Activity[]; done: (e?: unknown) => void }> = [];
  private writing = false;

  constructor(private readonly write: (rows: Activity[]) => Promise<void>) {}

  submit(rows: Activity[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ rows, done: (e) => (e === undefined ? resolve() : reject(e)) });
      if (!this.writing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.writing = true;
    while (this.waiting.length > 0) {
      const batch = this.waiting;
      this.waiting = [];
      let error: unknown;
      try {
        await this.write(batch.flatMap((b) => b.rows));
      } catch (e) {
        error = e ?? new Error("write failed");
      }
      for (const b of batch) b.done(error);
    }
    this.writing = false;
  }
}

function keyMatches(given: string | undefined, key: Buffer): boolean {
  const g = Buffer.from(given ?? "");
  // Compare against the key itself when lengths differ, so the time does not tell the length apart.
  return timingSafeEqual(g.length === key.length ? g : key, key) && g.length === key.length;
}

/** A JSON array of objects, each with a string `iid`; undefined for anything else. */
function activities(text: string): Activity[] | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(body) || body.length === 0) return undefined;
  for (const a of body)
    if (typeof a !== "object" || a === null || Array.isArray(a) || typeof a.iid !== "string")
      return undefined;
  return body as Activity[];
}

/**
 * The receiver on a database of its own (its table created here): `fetch` to serve, `stored` counts
 * stored activities, `close` ends its connection.
 *
 * @example const r = await durableReceiver(url, "key"); serve({ fetch: r.fetch, port: 0 });
 */
export async function durableReceiver(
  databaseUrl: string,
  apiKey: string,
): Promise<{
  fetch: (req: Request) => Response | Promise<Response>;
  stored(): Promise<number>;
  close(): Promise<void>;
}> {
  const sql = postgresJs(databaseUrl, { max: 1, onnotice: () => {} });
  await sql.unsafe(SCHEMA);
  const commit = new GroupCommit(async (rows) => {
    await sql`
      INSERT INTO activities (iid, status, activity)
      SELECT x.iid, x."activityStatus", x.a
        FROM jsonb_to_recordset(${JSON.stringify(rows.map((a) => ({ iid: a.iid, activityStatus: a.activityStatus, a })))}::text::jsonb)
          AS x(iid text, "activityStatus" text, a jsonb)
      ON CONFLICT (iid) DO NOTHING`;
  });
  const key = Buffer.from(apiKey);
  const http = new Hono();
  http.post("/in/esputnik", async (c) => {
    if (!keyMatches(c.req.header("x-api-key"), key)) return c.json({ success: false }, 401);
    const rows = activities(await c.req.text());
    if (!rows) return c.json({ success: false }, 400);
    try {
      await commit.submit(rows);
    } catch {
      return c.json({ success: false }, 500);
    }
    return c.json({ success: true, result: { received: rows.length } });
  });
  return {
    fetch: http.fetch,
    stored: async () => Number((await sql<{ n: string }[]>`SELECT count(*) AS n FROM activities`)[0]!.n),
    close: () => sql.end({ timeout: 5 }),
  };
}
