import type { Plugin } from "../../core/contracts/plugin.ts";
import { Tokens } from "../../core/tokens.ts";
import type { GroupCommitTuning } from "./activity-status.ts";
import { InboundSection } from "./config.ts";
import { inboundMigrations } from "./migrations.ts";
import { profileChangeTrigger } from "./profile-trigger.ts";
import { responseMapping } from "./response-mapping.ts";
import { inboundJanitor } from "./retention.ts";
import { inboundRoutes } from "./routes.ts";

export { Activity, ActivityStatus, activityEvent, activityKey } from "./activity.ts";
export type { GroupCommitTuning } from "./activity-status.ts";
export { authenticator } from "./auth.ts";
export { clientAddress, socketAddress } from "./client-address.ts";
export { InboundAuth, InboundEndpoint, InboundSection } from "./config.ts";
export { profileChangeTrigger } from "./profile-trigger.ts";
export { buildTimeline } from "./profile-update.ts";
export { findProfileId, type Profile, readProfile, readTimeline } from "./profiles.ts";
export { responseMapping } from "./response-mapping.ts";
export { type InboundRetention, inboundJanitor, sweepInbound } from "./retention.ts";
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
    c.register(Tokens.ConfigSection, { useValue: { key: "inbound", schema: InboundSection } });
    c.register(Tokens.Migrations, { useValue: inboundMigrations });
    c.register(Tokens.TriggerKind, { useValue: profileChangeTrigger });
    c.register(Tokens.DeliveryObserver, { useValue: responseMapping });
    c.register(Tokens.HttpRoutes, { useValue: inboundRoutes(options.groupCommit) });
    c.register(Tokens.Service, {
      useValue: inboundJanitor({
        receipts: options.receiptRetention ?? 7 * 86_400_000,
        activities: options.activityRetention ?? 30 * 86_400_000,
      }),
    });
  },
});
