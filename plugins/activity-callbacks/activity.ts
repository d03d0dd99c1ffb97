import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { z } from "zod";
import { canonicalJson } from "../../core/mapping/index.ts";

import { Activity, ActivityStatus } from "../../core/model/activity.ts";

export { Activity, ActivityStatus };

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
