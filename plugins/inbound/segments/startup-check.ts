import { HooklineError, type StartupCheck } from "../../../core/plugin/index.ts";
import { segmentFilters } from "./definitions.ts";
import { segmentsNamedBy } from "./triggers.ts";

// The servers check at start-up that the segments their triggers name exist (the edge worker, which
// runs no start-up checks, is built without this module).

/**
 * At start-up: every segment the config file's triggers name is defined (in `segments:` or through
 * the admin API); else start-up stops naming the trigger and the segment.
 */
export const segmentTriggersCheck: StartupCheck = {
  name: "segment triggers",
  async check(host) {
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
