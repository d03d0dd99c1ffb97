import { z } from "zod";

import { Activity, ActivityStatus, activityKey } from "../../core/plugin/index.ts";

export { Activity, ActivityStatus, activityKey };

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
