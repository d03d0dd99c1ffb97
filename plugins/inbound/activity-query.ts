import { z } from "zod";
import { ActivityStatus, HttpError, type SqlExecutor } from "../../core/plugin/index.ts";

// The activities query of the admin API (GET /v1/inbound/:name/activities), as eSputnik's public API
// filters activities: a time window, statuses, a contact's email or phone. Only admin-routes.ts
// imports this module, so the edge worker leaves it out.

const DAY_MS = 86_400_000;
/** The widest window one query may ask for, in days: each query reads at most this much by time. */
export const MAX_WINDOW_DAYS = 31;

const datetime = z.iso.datetime({ offset: true, error: "an ISO 8601 date-time, e.g. 2025-06-01T09:30:00Z" });
const LIMIT = "a whole number from 1 to 1000";
// A cursor is `<received_at in µs since the epoch>.<seq>`, base64url: opaque to callers.
const CURSOR = /^\d{1,17}\.\d{1,19}$/;

const decodeCursor = (s: string) => {
  try {
    const text = atob(s.replaceAll("-", "+").replaceAll("_", "/"));
    return CURSOR.test(text) ? text : undefined;
  } catch {
    return undefined;
  }
};
const encodeCursor = (micros: string, seq: string) =>
  btoa(`${micros}.${seq}`).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

/** The query string of `GET /v1/inbound/:name/activities`. */
export const ActivityQuery = z
  .object({
    since: datetime.optional().describe("received at or after; default: 24 hours before `until`"),
    until: datetime
      .optional()
      .describe(`received before; default: now. At most ${MAX_WINDOW_DAYS} days after \`since\``),
    // Repeated (`status=READ&status=CLICKED`) or comma-separated (`status=READ,CLICKED`).
    status: z
      .union([z.string(), z.array(z.string())])
      .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((s) => s.split(",")))
      .pipe(z.array(ActivityStatus).max(ActivityStatus.options.length))
      .optional()
      .describe(`one or several of ${ActivityStatus.options.join(", ")}`),
    email: z.string().min(1).max(320).optional().describe("the activity's `email`, exactly as sent"),
    phone: z.string().min(1).max(64).optional().describe("the activity's `sms` (the phone), exactly as sent"),
    limit: z
      .string()
      .regex(/^\d{1,4}$/, LIMIT)
      .transform(Number)
      .pipe(z.number().min(1, LIMIT).max(1000, LIMIT))
      .optional()
      .describe("1 to 1000; default 100"),
    after: z
      .string()
      .max(64)
      .transform((s, ctx) => {
        const cursor = decodeCursor(s);
        if (cursor === undefined) ctx.addIssue({ code: "custom", message: "a `next` of a previous page" });
        return cursor ?? z.NEVER;
      })
      .optional()
      .describe("the previous page's `next`: the activities after its last one"),
  })
  .strict();

/** The query as `queryActivities` takes it: the window settled, the limit given or 100. */
export type ActivityFilter = Omit<z.output<typeof ActivityQuery>, "since" | "until" | "limit"> & {
  since: Date;
  until: Date;
  limit: number;
};

/**
 * Settles a checked query's window (default: the 24 hours before `until`, itself default now);
 * throws `HOOKLINE_HTTP_PARAM` (400) for an empty window or one wider than `MAX_WINDOW_DAYS`.
 *
 * @example activityFilter(ActivityQuery.parse({ since: "2025-06-01T00:00:00Z" }), Date.now())
 */
export function activityFilter(q: z.output<typeof ActivityQuery>, now: number): ActivityFilter {
  const until = q.until ? Date.parse(q.until) : now;
  const since = q.since ? Date.parse(q.since) : until - DAY_MS;
  const problem =
    since >= until
      ? { path: q.until ? "until" : "since", message: "expected `since` before `until` (default: now)" }
      : until - since > MAX_WINDOW_DAYS * DAY_MS
        ? {
            path: "since",
            message: `a window of at most ${MAX_WINDOW_DAYS} days from \`since\` to \`until\` (default: now): query a longer period one window at a time`,
          }
        : undefined;
  if (problem)
    throw new HttpError("HOOKLINE_HTTP_PARAM", "invalid query", { details: { issues: [problem] } });
  return { ...q, since: new Date(since), until: new Date(until), limit: q.limit ?? 100 };
}

/** A page of activities: each as stored, with its `receivedAt`; `next` when more may follow. */
export interface ActivityPage {
  activities: Array<Record<string, unknown>>;
  next?: string;
}

/**
 * An endpoint's activities received in `[since, until)`, newest first (by received time, then
 * storage order), filtered by status, email and phone, a page after the cursor `after`. Only the
 * conditions asked for are written into the statement, so that the planner picks the email or phone
 * index (migration 5) when one is given, else reads the window through the BRIN index on the time.
 *
 * @example await queryActivities(sql, "esputnik", activityFilter(ActivityQuery.parse({ email: "a@b.c" }), Date.now()))
 */
export async function queryActivities(
  sql: SqlExecutor,
  endpoint: string,
  q: ActivityFilter,
): Promise<ActivityPage> {
  const params: unknown[] = [endpoint, q.since.toISOString(), q.until.toISOString()];
  const where = ["endpoint = $1", "received_at >= $2::timestamptz", "received_at < $3::timestamptz"];
  const param = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  // Status names hold no comma: one array, which the scan checks itself (a subquery would be a join).
  if (q.status) where.push(`status = ANY(string_to_array(${param(q.status.join(","))}, ','))`);
  if (q.email !== undefined) where.push(`activity->>'email' = ${param(q.email)}`);
  if (q.phone !== undefined) where.push(`activity->>'sms' = ${param(q.phone)}`);
  if (q.after) {
    const [micros, seq] = q.after.split(".");
    where.push(
      `(received_at, seq) < ('epoch'::timestamptz + ${param(micros)}::bigint * interval '1 microsecond', ${param(seq)}::bigint)`,
    );
  }
  // One row past the page says whether another follows.
  const rows = await sql.query<{ activity: string; received_at: unknown; micros: string; position: string }>(
    `SELECT activity::text AS activity, received_at,
            (extract(epoch FROM received_at) * 1000000)::bigint::text AS micros, seq::text AS position
       FROM hookline_activities WHERE ${where.join(" AND ")}
      ORDER BY received_at DESC, seq DESC LIMIT ${param(q.limit + 1)}`,
    params,
  );
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return {
    activities: page.map((r) => ({ ...JSON.parse(r.activity), receivedAt: iso(r.received_at) })),
    ...(rows.length > q.limit && last ? { next: encodeCursor(last.micros, last.position) } : {}),
  };
}

const iso = (v: unknown) => (v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());
