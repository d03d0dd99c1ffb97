import { z } from "zod";
import type { DeliveryFilter } from "../contracts/delivery-log.ts";
import type { RetryFilter } from "../contracts/runs.ts";
import { DeliveryStatus } from "../http/answer-schemas.ts";
import { BASE } from "./layout.tsx";

/** A delivery's statuses, as the API names them (the list's status filter). */
export const STATUSES = DeliveryStatus.options;

/** The time windows the list offers, back from now. */
export const WINDOWS = { hour: 3_600_000, day: 86_400_000, week: 604_800_000 } as const;
export type Window = keyof typeof WINDOWS;

/** The statuses a bulk retry sends again when the filter names none: those that ended badly. */
export const RETRY_DEFAULT: NonNullable<RetryFilter["statuses"]> = ["failed", "halted", "aborted"];
// Skipped (no consent) only when asked for by name: consent is checked again when they are sent.
const RETRYABLE = new Set<string>(["failed", "halted", "aborted", "succeeded", "skipped"]);

// An empty field of the filter form is no filter: browsers send every field, filled or not.
const blank = (v: unknown) => (v === "" ? undefined : v);
// A datetime-local field sends no offset ("2026-12-07T14:30"): the form says it is UTC.
const LOCAL = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/;
const instant = z.preprocess(
  (v) => (typeof v === "string" && LOCAL.test(v) ? `${v.length === 16 ? `${v}:00` : v}Z` : blank(v)),
  z.iso.datetime({ offset: true, error: "a date and time (UTC), e.g. 2026-12-07T14:30" }).optional(),
);

/** The list's filter, as the form's query string carries it. */
export const DeliveryFilterQuery = z.object({
  webhook: z.preprocess(blank, z.string().max(200).optional()),
  status: z.preprocess(blank, z.enum(STATUSES, { error: `one of ${STATUSES.join(", ")}` }).optional()),
  run: z.preprocess(blank, z.string().max(200).optional()),
  customer: z.preprocess(blank, z.string().max(200).optional()),
  window: z.preprocess(blank, z.enum(["hour", "day", "week"], { error: "hour, day or week" }).optional()),
  from: instant,
  to: instant,
  before: z.preprocess(blank, z.uuid("a delivery id (UUID) from the previous page").optional()),
});
export type DeliveryFilterQuery = z.infer<typeof DeliveryFilterQuery>;

/** Whether a filter narrows the list at all (paging aside). */
export const filtering = (f: DeliveryFilterQuery) =>
  Boolean(f.webhook || f.status || f.run || f.customer || f.window || f.from || f.to);

/**
 * The store's filter for a form's: a window ("last day") becomes a `since` from `now`, the later of
 * it and `from` when both are given.
 *
 * @example storeFilter({ window: "hour", customer: "c-1" }) // { customer: "c-1", since: "…" }
 */
export function storeFilter(f: DeliveryFilterQuery, now = Date.now()): DeliveryFilter {
  const windowStart = f.window ? now - WINDOWS[f.window] : undefined;
  const from = f.from ? Date.parse(f.from) : undefined;
  const since = Math.max(windowStart ?? -Infinity, from ?? -Infinity);
  return {
    ...(f.webhook ? { webhook: f.webhook } : {}),
    ...(f.status ? { status: f.status } : {}),
    ...(f.run ? { run: f.run } : {}),
    ...(f.customer ? { customer: f.customer } : {}),
    ...(Number.isFinite(since) ? { since: new Date(since).toISOString() } : {}),
    ...(f.to ? { until: new Date(Date.parse(f.to)).toISOString() } : {}),
    ...(f.before ? { before: f.before } : {}),
  };
}

/**
 * The bulk retry a list's filter stands for (its time window fixed at `now`), or undefined when the
 * filter selects deliveries that have not ended (only ended ones can be retried).
 */
export function retryFilterOf(f: DeliveryFilterQuery, now = Date.now()): RetryFilter | undefined {
  if (f.status && !RETRYABLE.has(f.status)) return undefined;
  const { status: _status, before: _before, limit: _limit, ...rest } = storeFilter(f, now);
  return {
    statuses: f.status ? [f.status as (typeof RETRY_DEFAULT)[number]] : RETRY_DEFAULT,
    ...rest,
  };
}

/** A link to the list with these form fields (empty ones left out). */
export function listUrl(q: Record<string, string | undefined>, path = "/deliveries"): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v) p.set(k, v);
  const s = p.toString();
  return `${BASE}${path}${s ? `?${s}` : ""}`;
}

/** A filter in words, for a confirmation: "status failed, customer c-42, created since …". */
export function describeFilter(f: RetryFilter): string[] {
  return [
    `status ${(f.statuses ?? ["failed"]).join(" or ")}`,
    ...(f.webhook ? [`webhook ${f.webhook}`] : []),
    ...(f.run ? [`run ${f.run}`] : []),
    ...(f.customer ? [`customer ${f.customer}`] : []),
    ...(f.since ? [`created at or after ${f.since}`] : []),
    ...(f.until ? [`created before ${f.until}`] : []),
  ];
}
