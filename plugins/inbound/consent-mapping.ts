import { z } from "zod";
import { checkExpression, type MappingSource, select } from "../../core/plugin/index.ts";
import type { Consent } from "./profile-repository.ts";

/**
 * A profile-update mapping rule whose target is a consent: `{ from: "$.newsletter", to: { consent:
 * marketing-email } }` gives or withdraws the objective as the request's value says.
 */
export const ConsentRule = z
  .object({
    from: z
      .string()
      .min(1)
      .superRefine((expr, ctx) => {
        const problem = checkExpression(expr);
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
      .describe(
        "a JSONPath or form field whose value grants (true, yes, 1, on…) or withdraws (false, no, 0, off…)",
      ),
    to: z
      .object({
        consent: z
          .string()
          .regex(
            /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/,
            "expected an objective name of letters, digits, '.', '_', ':' and '-' (at most 100)",
          )
          .describe("the consent objective set"),
      })
      .strict(),
  })
  .strict();
export type ConsentRule = z.output<typeof ConsentRule>;

const GRANT = new Set(["true", "yes", "y", "1", "on", "granted", "grant", "opt-in", "optin", "subscribed"]);
const WITHDRAW = new Set([
  "false",
  "no",
  "n",
  "0",
  "off",
  "withdrawn",
  "withdraw",
  "opt-out",
  "optout",
  "unsubscribed",
]);

/** Granted (true), withdrawn (false), or undefined for a value that says neither. */
function decision(v: unknown): boolean | undefined {
  if (typeof v === "boolean") return v;
  if (v === 1 || v === 0) return v === 1;
  if (typeof v !== "string") return undefined;
  const s = v.trim().toLowerCase();
  return GRANT.has(s) ? true : WITHDRAW.has(s) ? false : undefined;
}

/**
 * The consents a profile update's rules set, dated `at` (the update's time) and sourced from the
 * endpoint. A rule that selects nothing sets nothing; one whose value is neither a yes nor a no
 * sets nothing and is reported (`HOOKLINE_MAPPING_NOT_A_CONSENT`). Pure.
 *
 * @example consentChanges(jsonSource({ news: "yes" }), [{ from: "$.news", to: { consent: "marketing-email" } }], at, "crm")
 * // { changes: [{ objective: "marketing-email", granted: true, at, source: "crm" }], errors: [] }
 */
export function consentChanges(
  source: MappingSource,
  rules: readonly ConsentRule[],
  at: string,
  endpoint: string,
): { changes: Array<Consent & { objective: string }>; errors: Array<{ code: string; description: string }> } {
  const changes = new Map<string, Consent & { objective: string }>();
  const errors: Array<{ code: string; description: string }> = [];
  for (const rule of rules) {
    const values = select(source, rule.from).filter((v) => v !== null && v !== undefined);
    if (values.length === 0) continue;
    const granted = values.length === 1 ? decision(values[0]) : undefined;
    const objective = rule.to.consent;
    if (granted === undefined) {
      errors.push({
        code: "HOOKLINE_MAPPING_NOT_A_CONSENT",
        description: `consent "${objective}": ${rule.from} gave ${JSON.stringify(values.length === 1 ? values[0] : values).slice(0, 60)}, expected one yes or no (true/false, yes/no, 1/0, on/off)`,
      });
      continue;
    }
    // The last rule for an objective wins, as the last `set` of a property does.
    changes.set(objective, { objective, granted, at, source: endpoint });
  }
  return { changes: [...changes.values()], errors };
}

/** Whether a mapping rule targets a consent rather than a property. */
export const isConsentRule = (rule: object): rule is ConsentRule =>
  typeof (rule as { to?: unknown }).to === "object";
