import type { SqlExecutor } from "../../core/plugin/index.ts";

/** A schedule's row as the trigger reads it. */
export interface ScheduleRow {
  key: string;
  nextAt: Date | null;
  lastTick: Date | null;
  lastOutcome: string | null;
  /** The run of the last tick fired (read by `rows`). */
  lastRun?: string | null;
}

/** A tick a process has claimed: fire it, then `finish`. */
export interface ClaimedTick {
  tick: Date;
  /** Claimed again after another process's lease ran out (it may have written some deliveries). */
  reclaimed: boolean;
}

const at = (v: unknown): Date | null => (v == null ? null : new Date(v as string));

/**
 * The schedule plugin's SQL: the row of each schedule trigger, a due tick claimed under a lease by
 * one process at a time, and moved on once fired. All times are the trigger's clock (`now`), so a
 * test's clock drives them.
 */
export class ScheduleRepository {
  constructor(private readonly sql: SqlExecutor) {}

  /**
   * Makes sure the schedule's row exists with `first` as its next tick; a row made for another spec
   * (the trigger's cron or time changed) starts again from `first`.
   */
  async ensure(key: string, spec: string, first: Date | null): Promise<ScheduleRow> {
    const rows = await this.sql.query<Record<string, unknown>>(
      `INSERT INTO hookline_schedules (key, spec, next_at) VALUES ($1, $2, $3)
       ON CONFLICT (key) DO UPDATE SET spec = excluded.spec, next_at = excluded.next_at, updated_at = now()
         WHERE hookline_schedules.spec <> excluded.spec AND hookline_schedules.firing_at IS NULL
       RETURNING key, next_at, last_tick, last_outcome`,
      [key, spec, first?.toISOString() ?? null],
    );
    if (rows[0]) return rowOf(rows[0]);
    return (await this.get(key))!;
  }

  async get(key: string): Promise<ScheduleRow | undefined> {
    const rows = await this.sql.query<Record<string, unknown>>(
      "SELECT key, next_at, last_tick, last_outcome FROM hookline_schedules WHERE key = $1",
      [key],
    );
    return rows[0] ? rowOf(rows[0]) : undefined;
  }

  /**
   * The rows of the schedules `keys` by key, with each one's last run (the console's view).
   *
   * @example (await repo.rows(["daily-digest"])).get("daily-digest")?.nextAt
   */
  async rows(keys: readonly string[]): Promise<Map<string, ScheduleRow>> {
    const rows = await this.sql.query<Record<string, unknown>>(
      "SELECT key, next_at, last_tick, last_outcome, last_run FROM hookline_schedules WHERE key = ANY($1::text[])",
      [keys],
    );
    return new Map(
      rows.map((r) => [String(r.key), { ...rowOf(r), lastRun: (r.last_run as string | null) ?? null }]),
    );
  }

  /**
   * Claims the schedule's due tick for `owner` until `now + leaseMs`: its next tick once it is due
   * and no one fires it, or the tick another process was firing when its lease ran out. One process
   * wins a tick; the others get undefined.
   */
  async claim(key: string, owner: string, now: Date, leaseMs: number): Promise<ClaimedTick | undefined> {
    const rows = await this.sql.query<{ tick: unknown; reclaimed: boolean }>(
      `WITH old AS (SELECT key, firing_at AS was FROM hookline_schedules WHERE key = $1 FOR UPDATE)
       UPDATE hookline_schedules s
          SET firing_at = coalesce(s.firing_at, s.next_at), owner = $2,
              lease_until = $3::timestamptz + $4 * interval '1 millisecond', updated_at = now()
         FROM old
        WHERE s.key = old.key
          AND ((s.firing_at IS NULL AND s.next_at <= $3::timestamptz) OR s.lease_until < $3::timestamptz)
        RETURNING s.firing_at AS tick, old.was IS NOT NULL AS reclaimed`,
      [key, owner, now.toISOString(), leaseMs],
    );
    const row = rows[0];
    return row ? { tick: at(row.tick)!, reclaimed: row.reclaimed } : undefined;
  }

  /**
   * Ends the claim on `tick`: notes what was done with it and sets the next tick (null: none, a
   * one-off that has fired). False if the claim was lost (the lease ran out and another took it).
   */
  async finish(
    key: string,
    owner: string,
    tick: Date,
    next: Date | null,
    outcome: "fired" | "skipped",
    run: string | null,
  ): Promise<boolean> {
    const rows = await this.sql.query(
      `UPDATE hookline_schedules
          SET next_at = $4, firing_at = NULL, owner = NULL, lease_until = NULL, last_tick = $3,
              last_outcome = $5, last_run = coalesce($6, last_run), updated_at = now()
        WHERE key = $1 AND owner = $2 AND firing_at = $3
        RETURNING key`,
      [key, owner, tick.toISOString(), next?.toISOString() ?? null, outcome, run],
    );
    return rows.length > 0;
  }
}

const rowOf = (r: Record<string, unknown>): ScheduleRow => ({
  key: String(r.key),
  nextAt: at(r.next_at),
  lastTick: at(r.last_tick),
  lastOutcome: (r.last_outcome as string | null) ?? null,
});
