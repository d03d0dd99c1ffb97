import { z } from "zod";
import type { TriggerKind } from "../contracts/trigger.ts";

const EventTriggerOptions = z
  .object({
    events: z
      .array(z.string().min(1))
      .min(1)
      .describe('event types that fire the webhooks; "*" matches any run of characters ("cart.*")'),
  })
  .strict();

const globToRegExp = (glob: string) =>
  new RegExp(
    `^${glob
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );

/**
 * The built-in `event` trigger: fires its webhooks for events published through `POST /v1/events` or
 * `app.publish` whose type matches one of `events`.
 *
 * @example triggers: [{ kind: event, events: ["purchase", "cart.*"], webhooks: [crm-sync] }]
 */
export const eventTrigger: TriggerKind<z.output<typeof EventTriggerOptions>> = {
  kind: "event",
  schema: EventTriggerOptions,
  create(options, common) {
    const patterns = options.events.map(globToRegExp);
    return { ...common, matches: (event) => patterns.some((p) => p.test(event.type)) };
  },
};
