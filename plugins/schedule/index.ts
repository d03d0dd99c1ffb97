import { type HttpRoutes, type Plugin, Tokens } from "../../core/plugin/index.ts";
import { schedulesConsole } from "./console.tsx";
import { scheduleMigrations } from "./migrations.ts";
import { type ScheduleTuning, scheduleTrigger } from "./trigger.ts";

export { ScheduleOptions, type ScheduleTuning, scheduleTrigger } from "./trigger.ts";

// The plugin has no admin routes: its only page is the console's "Schedules" (read-only).
const scheduleRoutes: HttpRoutes = { name: "schedule", mount() {}, console: schedulesConsole };

/**
 * Schedule triggers (`kind: schedule`): webhooks fired on a cron expression in a time zone, or once
 * at a time, each tick once across every process sharing the store.
 *
 * @example
 * createHookline({ config, plugins: [...defaultPlugins(), schedule()] })
 * // hookline.yaml:
 * // triggers:
 * //   - { kind: schedule, name: weekday-report, cron: "0 9 * * 1-5", timezone: Europe/Amsterdam, webhooks: [report] }
 */
export const schedule = (tuning: ScheduleTuning = {}): Plugin => ({
  name: "schedule",
  register(c) {
    c.register(Tokens.TriggerKind, { useValue: scheduleTrigger(tuning) });
    c.register(Tokens.Migrations, { useValue: scheduleMigrations });
    c.register(Tokens.HttpRoutes, { useValue: scheduleRoutes });
  },
});
