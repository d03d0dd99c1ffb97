import { z } from "zod";
import { Activity, type EventInput } from "../../core/plugin/index.ts";

export { Activity, ActivityStatus, activityKey } from "../../core/plugin/index.ts";

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
