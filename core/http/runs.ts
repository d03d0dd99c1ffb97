import { Hono } from "hono";
import { z } from "zod";
import type { RetryFilter } from "../contracts/runs.ts";
import { HttpError } from "../errors.ts";
import type { AdminApp } from "./admin-app.ts";
import { reply } from "./respond.ts";
import { documented } from "./route-docs.ts";
import { json, query } from "./validate.ts";

const datetime = z.iso.datetime({ offset: true, error: "an ISO 8601 date-time, e.g. 2024-05-01T10:00:00Z" });
const count = z.number().int().nonnegative();

const Counts = z
  .object({
    total: count.describe("deliveries written in the run"),
    succeeded: count,
    failed: count,
    halted: count,
    aborted: count,
    skipped: count.describe("not sent: the customer had none of the consent objectives needed"),
    queued: count.describe("not ended yet: due, retrying, waiting, paused or in flight"),
  })
  .strict();

/** A bulk retry's filter, as `POST /v1/deliveries/retry` takes it (and the console sends it). */
export const RetryFilterSchema = z
  .object({
    statuses: z
      .array(z.enum(["failed", "halted", "aborted", "succeeded", "skipped"]))
      .min(1)
      .optional()
      .describe(
        "the statuses to send again (default: failed); skipped ones are checked for consent again when sent",
      ),
    webhook: z.string().min(1).optional(),
    run: z.string().min(1).optional().describe("deliveries published in this run (or retried in it)"),
    customer: z.string().min(1).max(200).optional().describe("deliveries of this customer id"),
    since: datetime.optional().describe("created at or after"),
    until: datetime.optional().describe("created before"),
    errorClass: z
      .string()
      .min(1)
      .optional()
      .describe("the error class of the last attempt, e.g. timeout or connection_refused"),
    attempts: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe("attempts each gets afresh (default: its own attempt budget)"),
  })
  .strict();

export const Run = z
  .object({
    id: z.string(),
    kind: z.string().describe("publish, retry or replay"),
    state: z.enum(["running", "finished", "cancelled"]),
    startedAt: z.string(),
    finishedAt: z.string().optional(),
    counts: Counts,
    webhooks: z.array(
      z
        .object({
          webhook: z.string(),
          counts: Counts,
          halted: z.object({ reason: z.string(), at: z.string() }).strict().optional(),
        })
        .strict(),
    ),
    perSecond: z.number().nonnegative().describe("deliveries ended per second over the last minute"),
    etaSeconds: count.optional().describe("at that rate, until nothing is queued"),
    cancelledAt: z.string().optional(),
    job: z
      .object({
        state: z.enum(["running", "done", "cancelled"]),
        filter: RetryFilterSchema.optional(),
        source: z.string().optional().describe("the run a replay sends again"),
        send: z
          .object({ sendId: z.string(), segment: z.string(), webhooks: z.array(z.string()) })
          .strict()
          .optional()
          .describe("a segment send: its id (re-sent, it writes nothing twice), segment and webhooks"),
      })
      .strict()
      .optional()
      .describe("a bulk retry's, replay's or segment send's selection, worked in pages"),
  })
  .strict();

const RunAnswer = z.object({ run: Run }).strict();
const RunPage = z
  .object({
    runs: z.array(Run),
    next: z.string().optional().describe("pass as `before` for the next page; absent on the last page"),
  })
  .strict();

const RunQuery = z
  .object({
    kind: z.string().min(1).optional(),
    before: z.string().min(1).optional(),
    limit: z
      .string()
      .regex(/^\d{1,3}$/, "a whole number from 1 to 500")
      .transform(Number)
      .pipe(z.number().min(1, "a whole number from 1 to 500").max(500, "a whole number from 1 to 500"))
      .optional(),
  })
  .strict();

const Cancel = z.object({ reason: z.string().min(1).max(500).optional() }).strict();

const tags = ["Runs"];
const params = { id: "the run's id" };

/**
 * Runs: every publish call is one, and so are bulk retries and replays. Their progress (counts by
 * outcome, rate, time left) comes from the store's tallies; cancelling one halts what it has queued.
 */
export function runRoutes(app: AdminApp) {
  const r = new Hono();

  r.get(
    "/",
    documented({
      summary: "List runs, newest first",
      tags,
      answers: { 200: { description: "a page of runs with their progress", schema: RunPage } },
    }),
    query(RunQuery, "invalid query"),
    async (c) => {
      const q = c.req.valid("query");
      const runs = await app.store.listRuns(q);
      return reply(app, c, 200, {
        runs,
        next: runs.length === (q.limit ?? 50) ? runs.at(-1)?.id : undefined,
      });
    },
  );

  r.get(
    "/:id",
    documented({
      summary: "A run and its progress",
      tags,
      params,
      answers: { 200: { description: "the run", schema: RunAnswer } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND"],
    }),
    async (c) => reply(app, c, 200, { run: await found(app, c.req.param("id")) }),
  );

  r.post(
    "/:id/cancel",
    documented({
      summary: "Cancel a run",
      description:
        "Its job (a bulk retry's or replay's) stops, its queued deliveries end halted with the reason, and those in flight end halted unless their attempt succeeds.",
      tags,
      params,
      answers: { 200: { description: "the run, cancelled", schema: RunAnswer } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND"],
    }),
    json(Cancel, "invalid cancel"),
    async (c) => {
      const id = c.req.param("id");
      const reason = `run cancelled: ${c.req.valid("json").reason ?? "by an operator"}`;
      const run = await app.store.cancelRun(id, reason);
      if (!run) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no run ${id}`);
      return reply(app, c, 200, { run });
    },
  );

  r.post(
    "/:id/replay",
    documented({
      summary: "Send a run's deliveries again, as a new run",
      description:
        "Each delivery the run published is written again in a new run (new id; its idempotency key the original's with :replay:<run> after it), in pages, by the workers.",
      tags,
      params,
      answers: { 202: { description: "the replay run, started", schema: RunAnswer } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND"],
    }),
    async (c) => {
      const id = c.req.param("id");
      const run = await app.store.startReplay(id);
      if (!run) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no run ${id}`);
      app.jobs.wake();
      return reply(app, c, 202, { run });
    },
  );

  return r;
}

/** `POST /v1/deliveries/retry`: a bulk retry of the ended deliveries a filter selects, as a run. */
export function bulkRetryRoute(app: AdminApp) {
  const r = new Hono();
  r.post(
    "/",
    documented({
      summary: "Retry every ended delivery a filter selects",
      description:
        "Starts a run whose job moves the matching deliveries into it, 1,000 at a time, each with a fresh set of attempts and its idempotency key; follow it at GET /v1/runs/{id}, stop it with POST /v1/runs/{id}/cancel.",
      tags: ["Deliveries", ...tags],
      answers: { 202: { description: "the retry run, started", schema: RunAnswer } },
    }),
    json(RetryFilterSchema, "invalid retry filter"),
    async (c) => reply(app, c, 202, { run: await startBulkRetry(app, c.req.valid("json")) }),
  );
  return r;
}

/**
 * Starts a bulk retry (a run whose job this process's runner starts on at once): what
 * `POST /v1/deliveries/retry` and the console's "Retry everything this filter matches" do.
 *
 * @example const run = await startBulkRetry(app, { statuses: ["failed"], customer: "c-42" });
 */
export async function startBulkRetry(app: AdminApp, filter: RetryFilter) {
  const run = await app.store.startRetry(filter);
  app.jobs.wake();
  return run;
}

/**
 * Sends one ended delivery again (a fresh set of attempts, its idempotency key kept) and wakes the
 * worker: what `POST /v1/deliveries/:id/retry` and the console's Retry do. 404 for no such delivery;
 * `retried` is undefined when it has not ended (`existing` says how it stands).
 *
 * @example const { retried, existing } = await retryOne(app, id); if (!retried) refuse(existing.status);
 */
export async function retryOne(app: AdminApp, id: string) {
  const existing = await app.store.getDelivery(id);
  if (!existing) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no delivery ${id}`);
  const retried = await app.store.retryDelivery(
    id,
    existing.maxAttempts > 0 ? Math.max(1, existing.maxAttempts) : 4,
  );
  if (retried) app.worker.wake();
  return { existing, retried: retried ?? undefined };
}

async function found(app: AdminApp, id: string) {
  const run = await app.store.getRun(id);
  if (!run) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no run ${id}`);
  return run;
}
