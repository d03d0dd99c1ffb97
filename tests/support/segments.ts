import type { SqlDriver } from "../../core/contracts/store.ts";
import { SqlMigrator } from "../../core/store/migrator.ts";
import { inboundMigrations } from "../../plugins/inbound/migrations.ts";
import { compileFilter } from "../../plugins/inbound/segments/compile.ts";
import type { SegmentSubject } from "../../plugins/inbound/segments/evaluate.ts";
import type { SegmentFilter } from "../../plugins/inbound/segments/filter.ts";

/** A profile as the segment tests write it: an id, properties, consents by objective. */
export interface TestProfile extends SegmentSubject {
  id: string;
}

/** The profiles tables (the core's and the inbound plugin's migrations) on a fresh driver. */
export async function profileTables(driver: SqlDriver): Promise<void> {
  await new SqlMigrator(driver, [inboundMigrations]).migrate();
}

/**
 * Replaces every profile (and consent) in the store by `profiles`, in a few statements.
 *
 * @example await writeProfiles(driver, [{ id: "ada", properties: { tier: "gold" } }]);
 */
export async function writeProfiles(driver: SqlDriver, profiles: readonly TestProfile[]): Promise<void> {
  await driver.transaction(async (tx) => {
    await tx.query("DELETE FROM hookline_profiles");
    for (let i = 0; i < profiles.length; i += 500) {
      const page = profiles.slice(i, i + 500);
      await tx.query(
        `INSERT INTO hookline_profiles (id, properties)
         SELECT x.id, x.properties FROM jsonb_to_recordset($1::text::jsonb) AS x(id text, properties jsonb)`,
        [JSON.stringify(page.map((p) => ({ id: p.id, properties: p.properties })))],
      );
      const consents = page.flatMap((p) =>
        Object.entries(p.consents ?? {}).map(([objective, c]) => ({
          profile_id: p.id,
          objective,
          granted: c.granted,
        })),
      );
      await tx.query(
        `INSERT INTO hookline_profile_consents (profile_id, objective, granted, at, source)
         SELECT x.profile_id, x.objective, x.granted, now(), 'test'
           FROM jsonb_to_recordset($1::text::jsonb) AS x(profile_id text, objective text, granted boolean)`,
        [JSON.stringify(consents)],
      );
    }
  });
}

/**
 * The ids of the stored profiles the compiled filter matches at `now`, sorted. Run in a session on a
 * far time zone (UTC+05:45), as nothing in the compiled SQL may depend on the session's zone.
 *
 * @example await sqlMatches(driver, { property: "tier", equals: "gold" }, now) // ["ada"]
 */
export async function sqlMatches(driver: SqlDriver, filter: SegmentFilter, now: number): Promise<string[]> {
  const { where, params } = compileFilter(filter, { now });
  const rows = await driver.transaction(async (tx) => {
    await tx.query("SET LOCAL TIME ZONE 'Asia/Kathmandu'");
    return tx.query<{ id: string }>(`SELECT p.id FROM hookline_profiles p WHERE ${where}`, params);
  });
  return rows.map((r) => r.id).sort();
}
