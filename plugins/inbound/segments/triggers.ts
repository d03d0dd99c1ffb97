import { z } from "zod";
import type {
  EventInput,
  HooklineConfig,
  Logger,
  SqlExecutor,
  TriggerInstance,
  TriggerKind,
} from "../../../core/plugin/index.ts";
import { sha256Hex } from "../body.ts";
import { SegmentName } from "../config.ts";
import { readsConsent } from "./audience.ts";
import { segmentFilters } from "./definitions.ts";
import { filterMatcher, type SegmentSubject } from "./evaluate.ts";

// Segment entry and exit (issue 16): a profile change that moves a profile into or out of a segment
// raises `segment.entered` / `segment.exited`, decided in the transaction of the change from the
// profile before and after (filterMatcher), and published with the change's own events through the
// outbox. Only the segments some trigger watches are evaluated; without such a trigger a change costs
// nothing more. Relative times ("within the last 30 days") count from the change: a profile that
// leaves a segment only because time passed raises nothing until it changes again.

/** The event types a crossing raises. */
export const SEGMENT_ENTERED = "segment.entered";
export const SEGMENT_EXITED = "segment.exited";

const CrossingOptions = z.object({ segment: SegmentName }).strict();
type CrossingOptions = z.output<typeof CrossingOptions>;

// The segment each trigger made here watches: the profile updates read it from the app's triggers.
const watching = new WeakMap<TriggerInstance, string>();

const crossing = (kind: "segment-entered" | "segment-exited"): TriggerKind<CrossingOptions> => {
  const type = kind === "segment-entered" ? SEGMENT_ENTERED : SEGMENT_EXITED;
  return {
    kind,
    schema: CrossingOptions,
    create(options, common) {
      const trigger: TriggerInstance = {
        ...common,
        matches: (event) =>
          event.type === type && (event.data as { segment?: unknown }).segment === options.segment,
      };
      watching.set(trigger, options.segment);
      return trigger;
    },
  };
};

/**
 * `segment-entered`: fires its webhooks when a profile change (an inbound profile update, consents set
 * through `PUT /v1/profiles/:id/consents`, a webhook's response mapping) brings a profile into the
 * segment; templates see the profile as `it.customer` and `it.event.data` as
 * `{ segment, profileId, cause }`.
 *
 * @example triggers: [{ kind: segment-entered, segment: vip, webhooks: [welcome-vip] }]
 */
export const segmentEnteredTrigger = crossing("segment-entered");

/**
 * `segment-exited`: fires its webhooks when a profile change takes a profile out of the segment.
 *
 * @example triggers: [{ kind: segment-exited, segment: vip, webhooks: [crm-downgrade] }]
 */
export const segmentExitedTrigger = crossing("segment-exited");

/**
 * The segments the triggers watch for entry or exit.
 *
 * @example watchedSegments(host.catalogue.triggers) // Set { "vip" }
 */
export function watchedSegments(triggers: readonly TriggerInstance[]): Set<string> {
  const names = new Set<string>();
  for (const t of triggers) {
    const name = watching.get(t);
    if (name !== undefined) names.add(name);
  }
  return names;
}

/**
 * The segments a trigger names: the one a segment-entered / -exited trigger watches, and those an
 * event trigger is restricted to (`segments: [...]`).
 */
export function segmentsNamedBy(trigger: TriggerInstance): string[] {
  const watched = watching.get(trigger);
  const restricted = (trigger as { segments?: readonly string[] }).segments ?? [];
  return watched === undefined ? [...restricted] : [watched, ...restricted];
}

/** What a crossing is evaluated with: the app's triggers and segments, and the change's transaction. */
export interface CrossingSource {
  readonly config: Pick<HooklineConfig, "sections">;
  readonly catalogue: { readonly triggers: readonly TriggerInstance[] };
  readonly logger: Logger;
}

/**
 * Segment entry and exit of one profile across a change in a transaction: `begin` before the change is
 * written (the profile as it is), `finish` after (as it became). Undefined — no query made — when no
 * trigger watches a segment.
 *
 * @example
 * const crossing = await beginCrossings(host, tx, { profileId, properties: profile.properties });
 * await writeProfile(tx, …);
 * events.push(...((await crossing?.finish(newProperties, { cause: eventId, via: { type: "profile.changed" } })) ?? []));
 */
export async function beginCrossings(
  source: CrossingSource,
  tx: SqlExecutor,
  profile: { profileId: string; properties: Record<string, unknown> | undefined },
  now: number = Date.now(),
): Promise<
  | {
      finish(
        properties: Record<string, unknown>,
        about: { cause: string; via: Record<string, unknown> },
      ): Promise<EventInput[]>;
    }
  | undefined
> {
  const watched = watchedSegments(source.catalogue.triggers);
  if (watched.size === 0) return undefined;
  const filters = await segmentFilters({ config: source.config, sql: tx }, watched);
  for (const name of watched)
    if (!filters.has(name))
      source.logger.log("warn", "segments.unknown_segment", {
        segment: name,
        reason: "a segment trigger names it; no segment has that name",
      });
  const matchers = [...filters].map(([name, filter]) => [name, filterMatcher(filter, { now })] as const);
  const consents = [...filters.values()].some(readsConsent);
  const subject = async (properties: Record<string, unknown>): Promise<SegmentSubject> =>
    consents ? { properties, consents: await grantedConsents(tx, profile.profileId) } : { properties };
  // A profile made by this change was in no segment before it.
  const before = profile.properties && (await subject(profile.properties));
  const was = new Map(matchers.map(([name, inSegment]) => [name, before !== undefined && inSegment(before)]));
  return {
    async finish(properties, about) {
      const after = await subject(properties);
      const events: EventInput[] = [];
      for (const [name, inSegment] of matchers) {
        const is = inSegment(after);
        if (was.get(name) === is) continue;
        events.push({
          id: eventId(about.cause, is ? "entered" : "exited", name),
          type: is ? SEGMENT_ENTERED : SEGMENT_EXITED,
          customer: { ...properties, id: profile.profileId },
          data: { segment: name, profileId: profile.profileId, cause: about.via },
        });
      }
      return events;
    },
  };
}

/** An event id that a replay of the same change makes again: readable, or hashed past 200 characters. */
function eventId(cause: string, crossed: string, segment: string): string {
  const id = `${cause}.${crossed}.${segment}`;
  return id.length <= 200 ? id : `seg.${crossed}.${sha256Hex(id).slice(0, 40)}`;
}

async function grantedConsents(
  tx: SqlExecutor,
  profileId: string,
): Promise<Record<string, { granted: boolean }>> {
  const rows = await tx.query<{ objective: string; granted: boolean }>(
    "SELECT objective, granted FROM hookline_profile_consents WHERE profile_id = $1",
    [profileId],
  );
  return Object.fromEntries(rows.map((r) => [r.objective, { granted: r.granted }]));
}
