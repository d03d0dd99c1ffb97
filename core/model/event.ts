import { z } from "zod";
import { JSON_LIMITS, unstorableJson } from "./json-limits.ts";

const EVENT_LIMITS = { depth: JSON_LIMITS.depth, stringLength: Number.POSITIVE_INFINITY };

const idPattern = /^[A-Za-z0-9._:@-]+$/;

/** An event as clients send it to `POST /v1/events` or `app.publish`. */
export const EventInput = z
  .object({
    /** The sender's id for this event; re-sending the same id does not create new deliveries. */
    id: z.string().min(1).max(200).regex(idPattern, "letters, digits and . _ : @ - only").optional(),
    type: z.string().min(1).max(200),
    customer: z
      .looseObject({ id: z.union([z.string().min(1), z.number()]) })
      .optional()
      .describe("the customer (profile) the event is about; any further attributes are kept"),
    data: z.record(z.string(), z.unknown()).default({}),
    timestamp: z.iso.datetime({ offset: true }).optional(),
    /** Events published with one run id form one run (a Bloomreach "chunk"): a halt stops the rest of it. */
    runId: z.string().min(1).max(200).regex(idPattern).optional(),
    /** Template parameters overriding the webhook's and the trigger's. */
    params: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  // What the store cannot keep (nesting past 64 levels, U+0000, a lone surrogate) is an issue at
  // its path here, for the HTTP API and library callers alike, never a store failure after the fact.
  // Strings may be long: a request body's limit bounds them on the API.
  .superRefine((event, ctx) => {
    const problem = unstorableJson(event, EVENT_LIMITS);
    if (problem) ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
  });
export type EventInput = z.input<typeof EventInput>;

/** Several events in one call (one run): up to 1,000. */
export const EventsBatch = z.object({ events: z.array(EventInput).min(1).max(1000) }).strict();

/** The body of `POST /v1/events`: one event, or up to 1,000 in `events`. */
export const EventsBody = z.union([EventInput, EventsBatch]);

/** An event after it was accepted: id and timestamp filled in. */
export interface HooklineEvent {
  id: string;
  type: string;
  customer?: { id: string | number; [key: string]: unknown };
  data: Record<string, unknown>;
  timestamp: string;
  runId?: string;
  params?: Record<string, unknown>;
}
