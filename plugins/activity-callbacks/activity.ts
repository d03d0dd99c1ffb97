import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { z } from "zod";
import { canonicalJson } from "../../core/mapping/index.ts";

// The eSputnik activity format. The inbound plugin checks received activities with the same schema;
// plugins do not import each other, so it is repeated here until it moves to core/model.

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

const int = z.number().int().nullish();
const str = z.string().nullish();

/**
 * One activity in eSputnik's format, as subscribers receive it: the documented fields checked,
 * any other field kept.
 *
 * @example Activity.parse({ activityStatus: "CLICKED", activityDateTime: "2018-05-15T04:45:04", clickEventLink: "https://x.y/" })
 */
export const Activity = z.looseObject({
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
    .looseObject({ subscription: z.looseObject({ subscriptions: z.array(z.string()).nullish() }).nullish() })
    .nullish(),
});
export type Activity = z.output<typeof Activity>;

/**
 * The body of `POST /v1/activities`: one activity, an array of them, or `{ activities: [...] }`
 * (at most 1,000), each checked against the shape it claims so that issues name the field.
 *
 * @example parseActivityInput([{ activityStatus: "READ", activityDateTime: "2018-05-15T04:05:53" }])
 */
export function parseActivityInput(body: unknown) {
  if (Array.isArray(body)) return inputList.safeParse(body);
  if (body && typeof body === "object" && "activities" in body) return inputWrapped.safeParse(body);
  return inputSingle.safeParse(body);
}

const inputList = z.array(Activity).min(1, "expected at least one activity").max(1000);
const inputWrapped = z
  .object({ activities: inputList })
  .strict()
  .transform((b) => b.activities);
const inputSingle = Activity.transform((a) => [a]);

/**
 * The key an activity is queued once under per subscriber: the sender's identity fields (message
 * instance or interface id, contact, status, time, clicked link, subscription data) when present,
 * else the whole activity, hashed.
 *
 * @example activityKey({ messageInstanceId: 1, activityStatus: "READ", activityDateTime: "2018-05-15T04:05:53" })
 */
export function activityKey(a: Activity): string {
  const ref = a.messageInstanceId ?? a.iid;
  const identity =
    ref === undefined || ref === null
      ? canonicalJson(a)
      : canonicalJson([
          ref,
          a.contactId ?? null,
          a.activityStatus,
          a.activityDateTime,
          a.clickEventLink ?? null,
          a.statusData ?? null,
        ]);
  return bytesToHex(sha256(new TextEncoder().encode(identity))).slice(0, 32);
}
