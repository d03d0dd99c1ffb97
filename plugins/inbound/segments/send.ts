import type { Hono } from "hono";
import { z } from "zod";
import {
  answer,
  documented,
  HttpError,
  json,
  type MembersQuery,
  type PluginHost,
  type SegmentMembers,
} from "../../../core/plugin/index.ts";
import { compileFilter } from "./compile.ts";
import { segmentFilter } from "./definitions.ts";
import { FILTER_LIMITS, Objective, type SegmentFilter } from "./filter.ts";

// Segment sends (issue 16, item 2): the plugin gives the core its members as one SELECT over the
// profiles; the core wraps its outbox insert around it and writes the deliveries page by page.

/**
 * The members of a segment at `now` as the query a send wraps: each profile's id and the customer as
 * templates see it (its properties and its id, as `ProfileReader` gives it). Relative times in the
 * filter are fixed at `now`, so every page of a send reads the same audience definition.
 *
 * @example const members = segmentMembersQuery({ property: "tier", equals: "gold" }, new Date());
 */
export function segmentMembersQuery(filter: SegmentFilter, now: Date | number): MembersQuery {
  const { where, params } = compileFilter(filter, { now, alias: "p" });
  return {
    sql: `SELECT p.id, p.properties || jsonb_build_object('id', p.id) AS customer FROM hookline_profiles p WHERE ${where}`,
    params,
  };
}

/**
 * The segments' members for the core (`Tokens.SegmentMembers`): a schedule trigger naming a segment
 * starts its send through it. Config segments first, then stored ones.
 */
export const segmentMembers: SegmentMembers = {
  async members(from, name, { now }) {
    const filter = await segmentFilter(from, name);
    return filter ? segmentMembersQuery(filter, now) : undefined;
  },
};

export const SendBody = z
  .object({
    webhook: z.string().min(1).describe("the webhook each member's delivery is for"),
    sendId: z
      .string()
      .regex(/^[A-Za-z0-9._:-]{1,100}$/, "expected 1 to 100 letters, digits or . _ : -")
      .optional()
      .describe(
        "the send's id: posted again, the same send writes nothing twice (each member's idempotency key is <sendId>:<member>:<webhook>); default: a new one",
      ),
    params: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("template parameters over the webhook's own (it.params)"),
    consent: z
      .array(Objective)
      .min(1)
      .max(FILTER_LIMITS.objectives)
      .optional()
      .describe(
        "consent objectives each member needs (any one), beyond the webhook's own: one without is skipped (reason consent), not sent",
      ),
  })
  .strict();

/** What a segment send is started with (`POST /v1/segments/:name/send`'s body). */
export type SegmentSend = z.output<typeof SendBody>;

/**
 * Starts a send of the segment `name` to a webhook (the route's work, and the console's): checks
 * both exist, then hands the members' query to `host.fanOut`, which answers with the run at once.
 *
 * @example const { runId } = await startSegmentSend(host, "vip", { webhook: "crm" });
 */
export async function startSegmentSend(host: PluginHost, name: string, body: SegmentSend) {
  const now = new Date();
  const filter = await segmentFilter(host, name);
  if (!filter) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no segment "${name}"`);
  if (!host.catalogue.webhooks.has(body.webhook))
    throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no webhook "${body.webhook}"`);
  return host.fanOut({
    segment: name,
    members: segmentMembersQuery(filter, now),
    webhooks: [body.webhook],
    ...(body.sendId ? { sendId: body.sendId } : {}),
    ...(body.params ? { params: body.params } : {}),
    ...(body.consent ? { consent: body.consent } : {}),
  });
}

const SendAnswer = z
  .object({
    runId: z.string().describe("the run: GET /v1/runs/:id for its progress"),
    sendId: z.string(),
    created: z.boolean().describe("false: a send with this id had been started; nothing new was written"),
  })
  .strict();

/**
 * `POST /v1/segments/:name/send`: starts a send of the segment to a webhook and answers 202 with the
 * run; the deliveries are written in the background, page by page, by whichever process holds the
 * send's job (a crash resumes from its cursor).
 *
 * @example mountSegmentSend(http, host)
 */
export function mountSegmentSend(http: Hono, host: PluginHost): void {
  http.post(
    "/v1/segments/:name/send",
    documented({
      summary: "Send to a segment: one delivery per member (a batch webhook's in batches), as one run",
      tags: ["Segments"],
      params: { name: "the segment's name" },
      answers: { 202: { description: "started (or found: the same sendId)", schema: SendAnswer } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND", "HOOKLINE_HTTP_NOT_APPLICABLE"],
    }),
    json(SendBody, "invalid segment send"),
    async (c) => {
      const started = await startSegmentSend(host, c.req.param("name"), c.req.valid("json"));
      return answer(202, started);
    },
  );
}
