import { Cron } from "croner";
import { z } from "zod";
import { Duration, idleSleep, type TriggerContext, type TriggerKind } from "../../core/plugin/index.ts";
import { ScheduleRepository } from "./repository.ts";

/** How long a process holds a tick it is firing before another may take it over. */
const LEASE_MS = 30_000;

const validZone = (zone: string) => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

const cronIssue = (cron: string, timezone: string): string | undefined => {
  try {
    const next = new Cron(cron, { timezone, paused: true }).nextRun();
    return next ? undefined : "this expression never fires again";
  } catch (e) {
    return (e as Error).message;
  }
};

export const ScheduleOptions = z
  .object({
    name: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, "letters, digits and . _ - only")
      .max(100)
      .optional()
      .describe(
        "the schedule's key in the store (keep it when you change the cron or the webhooks); default: made from cron or at, time zone and webhooks",
      ),
    cron: z
      .string()
      .min(1)
      .optional()
      .describe(
        'a cron expression: minute hour day-of-month month day-of-week ("0 9 * * 1-5"), or 6 fields with seconds first',
      ),
    timezone: z
      .string()
      .default("UTC")
      .refine(validZone, "an IANA time zone such as Europe/Amsterdam")
      .describe("the time zone the cron expression is read in (default UTC)"),
    at: z.iso
      .datetime({ offset: true })
      .optional()
      .describe("a one-off time instead of cron, with its offset"),
    catchUp: z
      .enum(["once", "skip"])
      .default("once")
      .describe(
        "a tick missed while no process ran (found later than lateAfter): fire it once on start, or skip it; missed ticks fire once in all, never one by one",
      ),
    lateAfter: Duration.default(60_000).describe(
      "how late a tick may be found and still count as on time (default 1m)",
    ),
    segment: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, "letters, digits and . _ - only")
      .max(100)
      .optional()
      .describe(
        "send to this segment at each tick: one delivery per member and webhook (the tick's run is the send's run)",
      ),
  })
  .strict()
  .superRefine((o, ctx) => {
    if ((o.cron === undefined) === (o.at === undefined))
      ctx.addIssue({ code: "custom", path: ["cron"], message: "give either cron or at (one of them)" });
    if (o.cron !== undefined) {
      const issue = cronIssue(o.cron, o.timezone);
      if (issue)
        ctx.addIssue({ code: "custom", path: ["cron"], message: `invalid cron expression: ${issue}` });
    }
  });
export type ScheduleOptions = z.output<typeof ScheduleOptions>;

/** What the schedule trigger needs of its surroundings: a clock, and how often to look (tests drive both). */
export interface ScheduleTuning {
  /** The clock ticks are due by (default Date.now). */
  now?: () => number;
  /** The longest wait between looks at the schedule's row, ms (default 5000). */
  checkEvery?: number;
}

// A short, stable text hash (FNV-1a, 52 bits) for a schedule without a name.
const hash = (text: string): string => {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return (h >> 12n).toString(36);
};

/** What a schedule's row was worked out for: its cron and time zone, or its time. */
const scheduleSpec = (options: ScheduleOptions): string =>
  options.cron !== undefined ? `cron ${options.cron} ${options.timezone}` : `at ${options.at}`;

/**
 * A schedule trigger's key in `hookline_schedules`: its name, else one made from its cron or time,
 * time zone and webhooks.
 *
 * @example scheduleKey(ScheduleOptions.parse({ name: "digest", cron: "0 9 * * *" }), ["digest"]) // "digest"
 */
export const scheduleKey = (options: ScheduleOptions, webhooks: readonly string[]): string =>
  options.name ??
  `${options.cron !== undefined ? "cron" : "at"}-${hash(`${scheduleSpec(options)} ${webhooks.join(",")}`)}`;

/**
 * The `schedule` trigger: fires its webhooks at each tick of a cron expression in a time zone, or
 * once at a given time. Every process sharing the store runs it, and each tick fires once across
 * them all: the tick is claimed in the schedule's row (`hookline_schedules`) by one process under a
 * lease. A tick is a run (`schedule.<key>.<tick>`), and its event's id is the same, so a tick fired
 * again after a crash writes nothing twice. Templates see `it.event.type` `schedule` and
 * `it.event.data` `{ schedule, tick, late }`; there is no customer. With `segment: NAME`, a tick is a
 * send to the segment's members instead (`PluginHost.fanOut`: one delivery per member and webhook).
 *
 * @example triggers: [{ kind: schedule, name: daily-digest, cron: "0 9 * * *", timezone: Europe/Amsterdam, webhooks: [digest] }]
 */
export const scheduleTrigger = (tuning: ScheduleTuning = {}): TriggerKind<ScheduleOptions> => ({
  kind: "schedule",
  schema: ScheduleOptions,
  create(options, common) {
    const now = tuning.now ?? Date.now;
    const checkEvery = tuning.checkEvery ?? 5_000;
    const spec = scheduleSpec(options);
    const key = scheduleKey(options, common.webhooks);
    const cron =
      options.cron !== undefined
        ? new Cron(options.cron, { timezone: options.timezone, paused: true })
        : undefined;
    /** The first tick strictly after `t` (null: none, a one-off). */
    const after = (t: Date): Date | null => (cron ? cron.nextRun(t) : null);
    const owner = `schedule-${crypto.randomUUID()}`;
    let loop: Promise<void> | undefined;

    const run = async (ctx: TriggerContext) => {
      const repo = new ScheduleRepository(ctx.host.sql);
      const { logger } = ctx.host;
      const first = cron ? cron.nextRun(new Date(now())) : new Date(options.at!);
      await repo.ensure(key, spec, first);
      while (!ctx.signal.aborted) {
        const claimed = await repo.claim(key, owner, new Date(now()), LEASE_MS);
        if (claimed) {
          const { tick } = claimed;
          const at = new Date(now());
          const late = at.getTime() - tick.getTime() > options.lateAfter;
          const next = after(at);
          if (late && options.catchUp === "skip") {
            await repo.finish(key, owner, tick, next, "skipped", null);
            logger.log("warn", "schedule.skipped", {
              schedule: key,
              tick: tick.toISOString(),
              next: next?.toISOString(),
            });
            continue;
          }
          const id = `schedule.${key}.${tick.toISOString()}`;
          try {
            // A segment send: its job writes the members' deliveries in pages (the send's id is the
            // tick's, so a tick fired again after a crash finds its send and starts nothing new).
            if (options.segment !== undefined)
              await ctx.host.fanOut({
                segment: options.segment,
                webhooks: common.webhooks,
                sendId: id,
                runId: id,
                ...(common.params ? { params: common.params } : {}),
                ...(common.consent ? { consent: common.consent } : {}),
              });
            else
              await ctx.fire(
                common.webhooks,
                {
                  id,
                  type: "schedule",
                  data: { schedule: key, tick: tick.toISOString(), late },
                  timestamp: at.toISOString(),
                  runId: id,
                },
                common.params,
                // A tick is a bulk run: claimed after events' deliveries (engine.bulkMaxWait).
                { bulk: true },
              );
          } catch (e) {
            // The claim stays: its lease runs out and a process fires the tick again (same event id).
            logger.log("error", "schedule.fire_failed", {
              schedule: key,
              tick: tick.toISOString(),
              error: (e as Error).message,
            });
            await idleSleep(checkEvery, ctx.signal);
            continue;
          }
          await repo.finish(key, owner, tick, next, "fired", id);
          logger.log("info", "schedule.fired", {
            schedule: key,
            tick: tick.toISOString(),
            run: id,
            late,
            ...(claimed.reclaimed ? { reclaimed: true } : {}),
            next: next?.toISOString(),
          });
          continue;
        }
        const row = await repo.get(key);
        const until = row?.nextAt ? row.nextAt.getTime() - now() : checkEvery;
        await idleSleep(Math.max(10, Math.min(checkEvery, until)), ctx.signal);
      }
    };

    return {
      ...common,
      start(ctx) {
        loop = (async () => {
          for (let failures = 0; !ctx.signal.aborted; failures++) {
            try {
              await run(ctx);
            } catch (e) {
              // The store was away: look again, backing off up to a minute.
              ctx.host.logger.log("error", "schedule.failed", {
                schedule: key,
                error: (e as Error).message,
                failures: failures + 1,
              });
              await idleSleep(Math.min(60_000, 500 * 2 ** failures), ctx.signal);
            }
          }
        })();
      },
      async stop() {
        await loop;
      },
    };
  },
});
