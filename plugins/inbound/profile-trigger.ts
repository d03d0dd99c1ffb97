import { z } from "zod";
import type { TriggerKind } from "../../core/plugin/index.ts";

const ProfileChangeOptions = z
  .object({
    properties: z
      .array(z.string().min(1))
      .optional()
      .describe("fire when one of these properties changed value; default: any mapped property"),
    endpoints: z
      .array(z.string().min(1))
      .optional()
      .describe("only changes made through these inbound endpoints"),
  })
  .strict();
export type ProfileChangeOptions = z.output<typeof ProfileChangeOptions>;

/**
 * The `profile-change` trigger (BlueConic's outbound trigger): fires its webhooks when a profile
 * update changed the value of one of the chosen properties. Templates see the profile as
 * `it.customer` and the change as `it.event.data` (`changed`, `previous`, `profileId`).
 *
 * @example triggers: [{ kind: profile-change, properties: [email, tier], webhooks: [crm-sync] }]
 */
export const profileChangeTrigger: TriggerKind<ProfileChangeOptions> = {
  kind: "profile-change",
  schema: ProfileChangeOptions,
  create(options, common) {
    const wanted = options.properties ? new Set(options.properties) : undefined;
    return {
      ...common,
      matches(event) {
        if (event.type !== "profile.changed") return false;
        const data = event.data as { changed?: unknown; endpoint?: unknown };
        if (options.endpoints && !options.endpoints.includes(String(data.endpoint))) return false;
        const changed = Array.isArray(data.changed) ? (data.changed as unknown[]) : [];
        return wanted ? changed.some((p) => wanted.has(String(p))) : changed.length > 0;
      },
    };
  },
};
