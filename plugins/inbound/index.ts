import { type ConfigSection, type Plugin, Tokens } from "../../core/plugin/index.ts";
import type { GroupCommitTuning } from "./activity-status.ts";
import { builtinAuthKinds } from "./auth.ts";
import { compileAuthKinds } from "./auth-kinds.ts";
import { type InboundSchemas, inboundSchemas, SegmentsSection } from "./config.ts";
import { consentCheck } from "./consent-check.ts";
import { inboundMigrations } from "./migrations.ts";
import { profileReader } from "./profile-reader.ts";
import { profileChangeTrigger } from "./profile-trigger.ts";
import { responseMapping } from "./response-mapping.ts";
import { inboundJanitor } from "./retention.ts";
import { inboundRoutes } from "./routes.ts";
import { audienceCheck } from "./segments/audience.ts";
import { segmentMembers } from "./segments/send.ts";
import { segmentTriggersCheck } from "./segments/startup-check.ts";
import { segmentEnteredTrigger, segmentExitedTrigger } from "./segments/triggers.ts";

export { Activity, ActivityStatus, activityEvent, activityKey } from "./activity.ts";
export type { GroupCommitTuning } from "./activity-status.ts";
export {
  apiKeyAuth,
  authenticator,
  basicAuth,
  bearerAuth,
  builtinAuthKinds,
  hmacAuth,
  noAuth,
  standardWebhooksAuth,
} from "./auth.ts";
export { type AuthKinds, compileAuthKinds } from "./auth-kinds.ts";
export { clientAddress, socketAddress } from "./client-address.ts";
export {
  InboundAuth,
  InboundEndpoint,
  InboundSection,
  inboundSchemas,
  SegmentDefinition,
  SegmentsSection,
} from "./config.ts";
export { findProfileId, type Profile, readProfile, readTimeline } from "./profile-repository.ts";
export { profileChangeTrigger } from "./profile-trigger.ts";
export { buildTimeline } from "./profile-update.ts";
export { type InboundRetention, sweepInbound } from "./repository.ts";
export { responseMapping } from "./response-mapping.ts";
export { inboundJanitor } from "./retention.ts";
export { type DefinedSegment, segmentFilter, segmentFilters } from "./segments/definitions.ts";
export { segmentEnteredTrigger, segmentExitedTrigger } from "./segments/triggers.ts";
export { verifyHmac, verifyStandardWebhook } from "./signatures.ts";

export interface InboundOptions {
  /** Receipts (the replay memory) older than this are deleted, in ms (default 7 days; 0 keeps them). */
  receiptRetention?: number;
  /** Stored activities older than this are deleted, in ms (default 30 days; 0 keeps them). */
  activityRetention?: number;
  /** How activity-status writes are grouped into transactions. */
  groupCommit?: GroupCommitTuning;
}

/**
 * Inbound webhooks: the `inbound:` config section, receivers at `/in/<path>` for activity-status
 * callbacks (eSputnik) and profile updates (BlueConic's "requests sent to"), their admin API, the
 * profiles store with `GET /v1/profiles/:id`, the `profile-change` trigger kind, and response
 * mapping (a webhook's `response.mapping` writes its responses into profiles). A janitor deletes
 * receipts and stored activities past their retention (at start, then hourly).
 *
 * Endpoints authenticate with the kinds registered under `Tokens.InboundAuth`: the built-in apiKey,
 * basic, bearer, hmac, standardWebhooks and none, and any a plugin adds (`InboundAuthKind`).
 *
 * @example
 * createHookline({ config, plugins: [...defaultPlugins(), inbound()] })
 * // hookline.yaml:
 * // inbound:
 * //   endpoints:
 * //     esputnik: { kind: activity-status, auth: { kind: apiKey, keys: ["${ESPUTNIK_KEY}"] } }
 */
export const inbound = (options: InboundOptions = {}): Plugin => ({
  name: "inbound",
  register(c) {
    for (const kind of builtinAuthKinds) c.register(Tokens.InboundAuth, { useValue: kind });
    // Compiled on first use (the config load), once every plugin has registered its kinds.
    let compiled: InboundSchemas | undefined;
    const schemas = () => {
      compiled ??= inboundSchemas(compileAuthKinds(c.resolveAll(Tokens.InboundAuth)));
      return compiled;
    };
    const section: ConfigSection = {
      key: "inbound",
      get schema() {
        return schemas().InboundSection;
      },
    };
    c.register(Tokens.ConfigSection, { useValue: section });
    c.register(Tokens.Migrations, { useValue: inboundMigrations });
    c.register(Tokens.ConfigSection, { useValue: { key: "segments", schema: SegmentsSection } });
    c.register(Tokens.TriggerKind, { useValue: profileChangeTrigger });
    c.register(Tokens.ConsentCheck, { useValue: consentCheck });
    c.register(Tokens.TriggerKind, { useValue: segmentEnteredTrigger });
    c.register(Tokens.TriggerKind, { useValue: segmentExitedTrigger });
    c.register(Tokens.Service, { useValue: segmentTriggersCheck });
    c.register(Tokens.AudienceCheck, { useValue: audienceCheck });
    c.register(Tokens.DeliveryObserver, { useValue: responseMapping });
    c.register(Tokens.ProfileReader, { useValue: profileReader });
    c.register(Tokens.SegmentMembers, { useValue: segmentMembers });
    c.register(Tokens.HttpRoutes, { useValue: inboundRoutes(schemas, options.groupCommit) });
    c.register(Tokens.Service, {
      useValue: inboundJanitor({
        receipts: options.receiptRetention ?? 7 * 86_400_000,
        activities: options.activityRetention ?? 30 * 86_400_000,
      }),
    });
  },
});
