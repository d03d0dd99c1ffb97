import { z } from "zod";
import { WebhookConfig } from "../config/schema.ts";
import type { AuthIntegration } from "../contracts/auth.ts";
import { HooklineError } from "../errors.ts";

/** A refusal of the admin API, with the HTTP status it answers and the issues found. */
export class ManagedError extends HooklineError {
  constructor(
    readonly status: number,
    message: string,
    readonly issues?: Array<{ path: string; message: string }>,
  ) {
    super("HOOKLINE_MANAGED", message);
  }
}

/**
 * zod issues as `{ path, message }`, under `prefix` when given.
 *
 * @example issuesOf(parsed.error, "integrations.crm") // [{ path: "integrations.crm.endpointPrefix", message: "…" }]
 */
export const issuesOf = (e: z.ZodError, prefix = "") =>
  e.issues.map((i) => ({
    path: [prefix, ...i.path.map(String)].filter(Boolean).join("."),
    message: i.message,
  }));

/** A webhook as the admin API takes it: the config's fields, plus the event types that fire it. */
export const ManagedWebhook = WebhookConfig.extend({
  events: z.array(z.string().min(1)).optional(),
}).strict();
export type ManagedWebhook = z.output<typeof ManagedWebhook>;

/** The fields of an integration the core owns; the rest are its kind's options. */
export const BASE_KEYS = ["kind", "endpointPrefix", "test"];

/**
 * An object's fields split by whether `keys` names them.
 *
 * @example split({ kind: "basic", username: "u" }, ["kind"]) // [{ kind: "basic" }, { username: "u" }]
 */
export const split = (o: Record<string, unknown>, keys: readonly string[]) => {
  const inside: Record<string, unknown> = {};
  const outside: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) (keys.includes(k) ? inside : outside)[k] = v;
  return [inside, outside] as const;
};

/**
 * An integration imported without its secrets: every delivery through it fails, saying what is missing.
 *
 * @example incomplete("crm", ["password"]).authorize(request) // throws HOOKLINE_INTEGRATION_INCOMPLETE
 */
export const incomplete = (name: string, missing: string[]): AuthIntegration => ({
  secrets: () => [],
  authorize() {
    throw new HooklineError(
      "HOOKLINE_INTEGRATION_INCOMPLETE",
      `integration "${name}" needs its secrets re-entered (${missing.join(", ")}): PUT /v1/integrations/${name}`,
    );
  },
});
