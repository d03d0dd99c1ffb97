import { HooklineError, type Service } from "../../../core/plugin/index.ts";
import { segmentFilters } from "./definitions.ts";
import { segmentsNamedBy } from "./triggers.ts";

// A server checks when it starts that the segments its triggers name exist. A service, not a
// `StartupCheck`: commands that load the config without serving (`hookline render`) never open the
// store for it. The edge worker, which starts no services, is built without this module.

/**
 * When the app starts: every segment the config file's triggers name is defined (in `segments:` or
 * through the admin API); else the start fails, naming the trigger and the segment.
 *
 * @example c.register(Tokens.Service, { useValue: segmentTriggersCheck })
 */
export const segmentTriggersCheck: Service = {
  name: "segment triggers",
  async start(host) {
    const triggers = host.catalogue.triggers.slice(0, host.config.triggers.length);
    const named = new Set(triggers.flatMap(segmentsNamedBy));
    if (named.size === 0) return;
    const defined = await segmentFilters(host, named);
    const problems = triggers.flatMap((t, i) =>
      segmentsNamedBy(t)
        .filter((name) => !defined.has(name))
        .map((name) => `triggers[${i}] names segment "${name}", which is neither in segments: nor stored`),
    );
    if (problems.length > 0)
      throw new HooklineError(
        "HOOKLINE_CONFIG",
        `${problems.join("; ")} (define it in the config file's segments:, or PUT /v1/segments/:name)`,
      );
  },
};
