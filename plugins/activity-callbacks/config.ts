import { z } from "zod";
import { Duration, exponentialDelay } from "../../core/plugin/index.ts";
import { ActivityStatus } from "./activity.ts";

export const subscriberName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/, "a name of letters, digits, '.', '_' and '-' (at most 100)");

/** One subscriber: where activity-status callbacks go, with which credentials, which statuses. */
export const SubscriberConfig = z
  .object({
    url: z.url({ protocol: /^https?$/, error: "an absolute http:// or https:// URL" }),
    integration: subscriberName.optional().describe("an authentication integration from integrations:"),
    statuses: z.array(ActivityStatus).min(1).optional().describe("statuses sent; default: all"),
    webhooks: z
      .array(subscriberName)
      .min(1)
      .optional()
      .describe(
        "outbound webhooks whose delivery outcomes become DELIVERED/UNDELIVERED activities for this subscriber",
      ),
    batchSize: z.number().int().min(1).max(1000).default(100).describe("activities per POST, at most"),
    timeout: Duration.default(10_000),
    retry: z
      .object({
        base: Duration.optional().describe("first retry delay (default 1m); then 2x, 4x, 8x …"),
        cap: Duration.optional().describe("longest delay between retries (default 1h)"),
      })
      .strict()
      .optional(),
  })
  .strict();
export type SubscriberConfig = z.output<typeof SubscriberConfig>;

/** The `subscribers:` section of hookline.yaml. */
export const SubscribersSection = z.record(subscriberName, SubscriberConfig).optional();
export type SubscribersSection = z.output<typeof SubscribersSection>;

/**
 * How long a subscriber's batch waits after its `failures`-th failed attempt: the exponential retry
 * policy's delay, `base`·2^(failures−1), at most `cap` (eSputnik: 1, 2, 4, 8 minutes … hourly).
 *
 * @example retryDelay(1, 60_000, 3_600_000) // 60000; retryDelay(4, 60_000, 3_600_000) // 480000; retryDelay(9, 60_000, 3_600_000) // 3600000
 */
export const retryDelay = (failures: number, base: number, cap: number): number =>
  exponentialDelay(failures, base, cap);
