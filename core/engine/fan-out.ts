import type { HooklineConfig } from "../config/schema.ts";
import type { Catalogue } from "../contracts/catalogue.ts";
import type {
  FanOutJob,
  FanOutSend,
  FanOutStarted,
  FanOutStore,
  SegmentMembers,
} from "../contracts/fan-out.ts";
import type { SqlExecutor } from "../contracts/sql.ts";
import { HttpError } from "../errors.ts";
import { traceparentOf } from "../telemetry/traceparent.ts";
import type { RetryPolicies } from "./retry-policies.ts";

/** What a send id may hold: it goes into every member's idempotency key. */
export const SEND_ID = /^[A-Za-z0-9._:-]{1,200}$/;

/** What starting a send needs of the app. */
export interface FanOutDeps {
  store: Partial<FanOutStore>;
  catalogue: Pick<Catalogue, "webhooks">;
  retry: RetryPolicies;
  /** Where segments are read from (the config file's, then the store's). */
  config: Pick<HooklineConfig, "sections">;
  sql: SqlExecutor;
  /** The plugin's segments (`Tokens.SegmentMembers`), for a send that names a segment only. */
  segments?: SegmentMembers;
  /** Wakes this process's job runner (the send's pages are worked there, or by any other process). */
  wakeJobs(): void;
}

/**
 * Starts a send to a segment's members: checks the webhooks, fixes each one's delivery settings as
 * the outbox would (`buildDelivery`: attempts, a batch webhook's linger, its throughput policy, its
 * params under the send's), and writes the run with its job; the job runner writes the deliveries
 * page by page. The same send id again finds the run and writes nothing.
 *
 * @example const { runId } = await startFanOut(deps, { segment: "vip", members, webhooks: ["crm"] });
 */
export async function startFanOut(deps: FanOutDeps, send: FanOutSend): Promise<FanOutStarted> {
  if (!deps.store.startFanOut)
    throw new HttpError("HOOKLINE_HTTP_NOT_APPLICABLE", "this store does not run segment sends");
  const sendId = send.sendId ?? crypto.randomUUID();
  if (!SEND_ID.test(sendId))
    throw new HttpError(
      "HOOKLINE_HTTP_INVALID",
      `sendId: expected 1 to 200 letters, digits or . _ : -, got ${JSON.stringify(sendId.slice(0, 120))}`,
    );
  const names = [...new Set(send.webhooks)];
  if (names.length === 0)
    throw new HttpError("HOOKLINE_HTTP_INVALID", `segment send to "${send.segment}": no webhook named`);
  const webhooks = names.map((name) => {
    const hook = deps.catalogue.webhooks.get(name);
    if (!hook) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no webhook "${name}"`);
    // An ordering key is rendered per delivery from its context; the send writes its pages in SQL.
    if (hook.orderingKey)
      throw new HttpError(
        "HOOKLINE_HTTP_NOT_APPLICABLE",
        `webhook "${name}" has an orderingKey: segment sends do not write ordered streams`,
      );
    return {
      webhook: name,
      maxAttempts: deps.retry.of(hook).maxAttempts({ batchSize: hook.config.batch?.size }),
      delayMs: hook.config.batch?.linger ?? 0,
      policy: hook.config.policy ?? null,
      params: { ...hook.config.params, ...send.params },
    };
  });
  const now = new Date();
  const members = send.members ?? (await deps.segments?.members(deps, send.segment, { now }));
  if (!members) throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no segment "${send.segment}"`);
  const job: FanOutJob = {
    runId: send.runId ?? `send_${sendId}`,
    sendId,
    segment: send.segment,
    members,
    webhooks,
    at: now.toISOString(),
    traceparent: traceparentOf(undefined),
    ...(send.consent?.length ? { consent: send.consent } : {}),
  };
  const { created } = await deps.store.startFanOut(job);
  if (created) deps.wakeJobs();
  return { runId: job.runId, sendId, created };
}
