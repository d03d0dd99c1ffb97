import type { ConsentCheck } from "../../core/plugin/index.ts";

/**
 * Consent at send time over the stored consents (`hookline_profile_consents`): a customer is the
 * profile whose id is the delivery's customer id (as for `profile-change` events and segment sends),
 * and a question is answered yes when that profile has granted one of its objectives and not since
 * withdrawn it. One statement for all questions, through the table's primary key.
 *
 * @example await consentCheck.granted(sql, [{ customerId: "prof_1", objectives: ["marketing-email", "sms"] }]) // Set {0}
 */
export const consentCheck: ConsentCheck = {
  async granted(sql, questions) {
    if (questions.length === 0) return new Set();
    const rows = await sql.query<{ i: number }>(
      `SELECT q.i FROM jsonb_to_recordset($1::text::jsonb) AS q(i int, c text, o jsonb)
        WHERE EXISTS (SELECT 1 FROM hookline_profile_consents k
                       WHERE k.profile_id = q.c AND k.granted
                         AND k.objective IN (SELECT jsonb_array_elements_text(q.o)))`,
      [JSON.stringify(questions.map((q, i) => ({ i, c: q.customerId, o: q.objectives })))],
    );
    return new Set(rows.map((r) => Number(r.i)));
  },
};
