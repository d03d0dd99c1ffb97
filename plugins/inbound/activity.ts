import { z } from "zod";
import { canonicalJson } from "../../core/mapping/index.ts";
import { Activity } from "../../core/model/activity.ts";
import type { EventInput } from "../../core/model/event.ts";
import { sha256Hex } from "./body.ts";

export { Activity, ActivityStatus } from "../../core/model/activity.ts";

/**
 * Checks a callback body: a JSON array of activities (eSputnik sends arrays) or one activity, each
 * against the one shape it claims, so that issues name the field (`1.contactId`).
 *
 * @example parseActivities([{ activityStatus: "READ", activityDateTime: "2018-05-15T04:05:53" }], 1000)
 */
export function parseActivities(body: unknown, maxItems: number) {
  if (!Array.isArray(body)) return single.safeParse(body);
  let list = lists.get(maxItems);
  if (!list) {
    list = z.array(Activity).min(1, "an empty array: expected at least one activity").max(maxItems);
    lists.set(maxItems, list);
  }
  return list.safeParse(body);
}

// Schemas are built once: building one costs more than checking a body with it.
const single = Activity.transform((a) => [a]);
const lists = new Map<number, z.ZodType<Activity[]>>();

/**
 * The key an activity is stored once under: the sender's identity fields (message instance or
 * interface id, contact, status, time, clicked link, subscription data) when it has them, else its
 * whole content, hashed (the first 128 bits of SHA-256, in hex).
 *
 * @example activityKey({ messageInstanceId: 1344540, activityStatus: "DELIVERED", activityDateTime: "2018-03-01T13:31:52" })
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
  // 128 bits of the digest: no collision in any realistic number of activities, half the index size.
  return sha256Hex(identity).slice(0, 32);
}

/**
 * The internal event an activity becomes: `activity.<status in lower case>`, its data the activity,
 * its customer the contact (contactId, else email, else sms). The id is derived from the endpoint and
 * the activity key, so publishing it again creates no second delivery.
 *
 * @example activityEvent("esputnik", key, activity, "in.esputnik.abc") // { id: "act.esputnik.<key>", type: "activity.read", … }
 */
export function activityEvent(endpoint: string, key: string, a: Activity, runId: string): EventInput {
  const id = a.contactId ?? (a.email || undefined) ?? (a.sms || undefined);
  const customer =
    id === undefined || id === null
      ? undefined
      : {
          id,
          ...(a.email ? { email: a.email } : {}),
          ...(a.sms ? { sms: a.sms } : {}),
          ...(a.contactId != null ? { contactId: a.contactId } : {}),
        };
  return {
    id: `act.${endpoint}.${key}`,
    type: `activity.${a.activityStatus.toLowerCase()}`,
    ...(customer ? { customer } : {}),
    data: a as Record<string, unknown>,
    runId,
  };
}
