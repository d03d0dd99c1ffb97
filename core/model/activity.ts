import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { z } from "zod";
import { canonicalJson } from "../mapping/index.ts";
import { JSON_LIMITS, unstorableJson } from "./json-limits.ts";

/**
 * An activity travels on as an event's `data`, one level further down, and events nest at most
 * `JSON_LIMITS.depth` levels: one that used every level would be stored, then fail to publish (a 500
 * that the sender retries forever). So an activity nests one level less.
 */
const ACTIVITY_LIMITS = Object.freeze({ ...JSON_LIMITS, depth: JSON_LIMITS.depth - 1 });

// eSputnik's activity-status format, shared by the receivers (plugins/inbound) and the sender
// (plugins/activity-callbacks).

/** eSputnik's activity statuses. */
export const ActivityStatus = z.enum([
  "DELIVERED",
  "UNDELIVERED",
  "READ",
  "CLICKED",
  "UNSUBSCRIBED",
  "SPAM",
  "SUBSCRIPTION_CHANGED",
]);
export type ActivityStatus = z.output<typeof ActivityStatus>;

// Absent fields may come as null from some senders: null reads as absent, a wrong type does not.
const int = z.number().int().nullish();
const str = z.string().nullish();

/**
 * One activity in eSputnik's format. The documented fields are checked; unknown fields are kept as
 * sent. Every value, known or unknown, must be one the store can keep (`unstorableJson`: at most
 * 64 levels deep, strings and keys of at most 65,536 characters, no U+0000, no lone surrogate): a
 * value that cannot be stored is an issue at its path, never a store failure after validation.
 *
 * @example Activity.parse({ activityStatus: "READ", activityDateTime: "2018-05-15T04:05:53", contactId: 1 })
 */
export const Activity = z
  .looseObject({
    broadcastId: int,
    workflowId: int,
    workflowBlockId: str,
    sourceEventKey: str,
    sourceEventTypeKey: str,
    iid: str,
    contactId: int,
    email: str,
    sms: str,
    activityStatus: ActivityStatus,
    mediaType: str,
    messageId: int,
    messageInstanceId: int,
    messageTag: str,
    activityDateTime: z
      .string()
      .regex(
        /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/,
        'a date and time such as "2018-05-15T04:05:53"',
      ),
    statusDescription: str,
    viewMessageLink: str,
    clickEventLink: str,
    hardBounce: z.boolean().nullish(),
    statusData: z
      .looseObject({
        subscription: z.looseObject({ subscriptions: z.array(z.string()).nullish() }).nullish(),
      })
      .nullish(),
  })
  .superRefine((activity, ctx) => {
    const problem = unstorableJson(activity, ACTIVITY_LIMITS);
    if (problem) ctx.addIssue({ code: "custom", path: problem.path, message: problem.message });
  });
export type Activity = z.output<typeof Activity>;

// One encoder for every key: a receiver computes a key per activity.
const encoder = new TextEncoder();

/**
 * The key an activity is kept once under (stored by a receiver, queued per subscriber by a sender): the sender's identity fields (message instance or
 * interface id, contact, status, time, clicked link, subscription data) when it has them, else its
 * whole content, hashed (the first 128 bits of SHA-256, in hex).
 *
 * @example activityKey({ messageInstanceId: 1344540, activityStatus: "DELIVERED", activityDateTime: "2018-03-01T13:31:52" })
 */
export function activityKey(a: Activity): string {
  const ref = a.messageInstanceId ?? a.iid;
  if (ref === undefined || ref === null) return digest(canonicalJson(a));
  const fields = [
    ref,
    a.contactId ?? null,
    a.activityStatus,
    a.activityDateTime,
    a.clickEventLink ?? null,
    a.statusData ?? null,
  ];
  // A list of plain values is written by JSON.stringify exactly as canonicalJson writes it (it only
  // sorts objects' keys), without canonicalJson's work list: the usual case, no statusData.
  return digest(fields.every(isPlain) ? JSON.stringify(fields) : canonicalJson(fields));
}

const isPlain = (v: unknown) => v === null || typeof v !== "object";

function digest(identity: string): string {
  // 128 bits of the digest: no collision in any realistic number of activities, half the index size.
  return bytesToHex(sha256(encoder.encode(identity)).subarray(0, 16));
}
