import {
  applyMapping,
  type DeliveryObserver,
  type DeliveryOutcome,
  type EventInput,
  jsonSource,
  type ObserverContext,
  type SqlExecutor,
} from "../../core/plugin/index.ts";
import { findOrCreate, type LockedProfile, lockProfile, writeProfile } from "./profile-repository.ts";
import { beginCrossings } from "./segments/triggers.ts";

/**
 * Response mapping (Bloomreach's "map the response into customer attributes"): after a delivery of a
 * webhook with `response.mapping` succeeded, its JSONPath rules copy values from the response into
 * the customer's profile with the modes set, set-if-empty, add-to-list and sum — in the transaction
 * that records the success, so a mapping is applied exactly once. The profile is the one whose id is
 * the customer id (`response.profile.match: id`, the default) or whose identifier property (e.g.
 * `email`) has the customer's value; `create: true` makes it when there is none. A property that
 * changed value fires `profile.changed` (the `profile-change` trigger), a change that brings the
 * profile into or out of a segment a trigger watches fires `segment.entered` / `segment.exited`, and
 * each mapping leaves a `webhook.response` timeline event with what changed and any rule that could
 * not apply.
 *
 * Not mapped, with a warning: a text or unparsable or truncated response, a batch request (one
 * response for many customers), a customer without the identifying value, no matching profile.
 *
 * @example
 * # hookline.yaml
 * webhooks:
 *   crm-create:
 *     url: https://crm.example.com/contacts
 *     body: '{ "email": <%~ JSON.stringify(it.customer.email) %> }'
 *     response: { profile: { match: email }, mapping: [{ from: "$.id", to: crm_id }] }
 */
export const responseMapping: DeliveryObserver = {
  name: "response-mapping",
  provides: ["profiles"],
  accepts: (outcome, context) =>
    outcome.status === "succeeded" &&
    outcome.attempt !== undefined &&
    context.webhook(outcome.delivery.webhook)?.response.mapping !== undefined,
  async observe(tx, outcomes, context) {
    for (const outcome of outcomes) {
      const config = context.webhook(outcome.delivery.webhook);
      if (config?.response.mapping) await mapOne(tx, outcome, config.response, context);
    }
  },
};

type ResponseConfig = NonNullable<ReturnType<ObserverContext["webhook"]>>["response"];

async function mapOne(
  tx: SqlExecutor,
  outcome: DeliveryOutcome,
  response: ResponseConfig,
  context: ObserverContext,
): Promise<void> {
  const { delivery, attempt } = outcome;
  const skip = (why: string) =>
    context.logger.log("warn", "response_mapping.skipped", {
      webhook: delivery.webhook,
      delivery: delivery.id,
      reason: why,
    });
  if (attempt!.request.batch) return skip("a batch request's response is not one customer's");
  if (attempt!.responseTruncated) return skip("the response was truncated (engine.maxResponseBytes)");
  let body: unknown;
  if (response.format === "text") body = { data: attempt!.responseBody ?? "" };
  else {
    try {
      body = JSON.parse(attempt!.responseBody ?? "");
    } catch {
      return skip("the response is not JSON (set response.format: text to map it as `$.data`)");
    }
  }
  const customer = ((delivery.context as { customer?: Record<string, unknown> }).customer ?? {}) as Record<
    string,
    unknown
  >;
  const { match, create } = response.profile;
  const key = match === "id" ? (delivery.customerId ?? customer.id) : customer[match];
  if (typeof key !== "string" && typeof key !== "number")
    return skip(`the customer has no ${match} to find the profile by`);
  let profile: LockedProfile | undefined;
  if (match === "id") {
    profile = await lockProfile(tx, String(key));
    // A customer id that is not a profile id may still be an identifier (`id`) of a profile.
    profile ??= await findOrCreate(tx, { property: "id", value: String(key) }, create);
  } else profile = await findOrCreate(tx, { property: match, value: String(key) }, create);
  if (!profile) return skip(`no profile has ${match} = ${JSON.stringify(String(key))}`);

  // Segment entry and exit this change causes (only when a trigger watches a segment).
  const crossing = await beginCrossings(
    { config: context.config, catalogue: context, logger: context.logger },
    tx,
    { profileId: profile.id, properties: profile.created ? undefined : profile.properties },
  );
  // As with inbound updates, a profile made now counts every property as changed (from nothing).
  const before = profile.created ? {} : profile.properties;
  const mapped = applyMapping(profile.properties, jsonSource(body), response.mapping!);
  const changed = profile.created ? Object.keys(mapped.properties) : mapped.changed;
  const at = new Date().toISOString();
  await writeProfile(
    tx,
    profile.id,
    changed.length > 0 || profile.created ? mapped.properties : undefined,
    [
      {
        type: "webhook.response",
        at,
        data: {
          webhook: delivery.webhook,
          deliveryId: delivery.id,
          changed,
          ...(mapped.errors.length > 0 ? { errors: mapped.errors } : {}),
        },
      },
    ],
    `webhook:${delivery.webhook}`,
  );
  for (const e of mapped.errors)
    context.logger.log("warn", "response_mapping.failed", {
      webhook: delivery.webhook,
      delivery: delivery.id,
      code: e.code,
      reason: e.description,
    });
  if (changed.length === 0) return;
  const cause = `resp.${delivery.id}`;
  const event: EventInput = {
    id: cause,
    type: "profile.changed",
    customer: { ...mapped.properties, id: profile.id },
    data: {
      profileId: profile.id,
      webhook: delivery.webhook,
      deliveryId: delivery.id,
      created: profile.created,
      changed,
      previous: Object.fromEntries(changed.map((k) => [k, (before as Record<string, unknown>)[k] ?? null])),
      properties: mapped.properties,
    },
  };
  const crossed =
    (await crossing?.finish(mapped.properties, {
      cause,
      via: { type: "webhook.response", webhook: delivery.webhook },
    })) ?? [];
  await context.publish(tx, [event, ...crossed]);
}
