import type { PluginMigrations } from "../../core/plugin/index.ts";

/** The schedule plugin's table. Append only: a released migration is never edited. */
export const scheduleMigrations: PluginMigrations = {
  plugin: "schedule",
  migrations: [
    {
      version: 1,
      name: "schedules: one row per schedule trigger, its next tick claimed under a lease",
      sql: `
-- One row per schedule trigger (its key): the tick it fires next, and the tick a process is firing
-- under a lease. Every process sharing the store races for a due tick with one UPDATE; the winner
-- fires it and moves next_at on, so a tick fires once however many processes run. A winner that dies
-- leaves its tick to whoever finds the lease run out, who fires it again under the same event id (the
-- deliveries' idempotency keys make that a no-op for what was already written).
CREATE TABLE hookline_schedules (
  key text PRIMARY KEY,
  -- What the trigger was when next_at was worked out (cron, time zone or time): a changed trigger
  -- starts again from its next tick.
  spec text NOT NULL,
  next_at timestamptz,
  firing_at timestamptz,
  owner text,
  lease_until timestamptz,
  last_tick timestamptz,
  last_outcome text,
  last_run text,
  updated_at timestamptz NOT NULL DEFAULT now()
)
`,
    },
  ],
};
