import type { z } from "zod";
import { utf8Length } from "../util/body-hash.ts";

// The receiving-endpoint contract (what `/in/<path>` answers senders): JSON, and on refusal
// `{ success: false, errors: [{ code, description }] }` with the status saying whether to retry.

/**
 * A JSON answer in the receiving-endpoint contract's shape, stating its size (the access line's `bytes`).
 *
 * @example answer(200, { success: true, result: { stored: 8 } })
 */
export function answer(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  const text = JSON.stringify(body);
  return new Response(text, {
    status,
    headers: {
      "content-type": "application/json; charset=utf-8",
      "content-length": String(utf8Length(text)),
      ...headers,
    },
  });
}

/**
 * A refusal: `{ success: false, errors: [{ code, description }] }` plus any extra fields (`issues`).
 *
 * @example refusal(401, "HOOKLINE_INBOUND_API_KEY", "wrong API key")
 */
export function refusal(
  status: number,
  code: string,
  description: string,
  extra: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Response {
  return answer(status, { success: false, errors: [{ code, description }], ...extra }, headers);
}

/**
 * zod issues as `{ path, message }`, the path dotted (`0.contactId`), at most 50 of them.
 *
 * @example refusal(400, "HOOKLINE_INBOUND_INVALID", "invalid activity", { issues: zodIssues(parsed.error) })
 */
export const zodIssues = (e: z.ZodError) =>
  e.issues.slice(0, 50).map((i) => ({ path: i.path.join("."), message: i.message }));

/**
 * 500: the store could not take the request; the sender should retry.
 *
 * @example catch { return storeUnavailable() }
 */
export const storeUnavailable = () =>
  refusal(
    500,
    "HOOKLINE_STORE_UNAVAILABLE",
    "the store could not take this request; nothing was accepted, retry later",
  );

/**
 * 400: the request carries data the store cannot keep (found by the checks, or refused by the store
 * itself with SQLSTATE class 22, named in the description); nothing of it was stored. A retry would
 * fail the same way, so this is never a 500.
 *
 * @example return unstorable([{ path: "0.partner", message: "nested deeper than 64 levels" }])
 */
export const unstorable = (issues: Array<{ path: string; message: string }>, sqlState?: string) =>
  refusal(
    400,
    "HOOKLINE_INBOUND_UNSTORABLE",
    sqlState
      ? `the store refused this request's data (SQLSTATE ${sqlState}); nothing was stored, and a retry would fail the same way`
      : "this request carries data the store cannot keep; nothing was stored",
    issues.length > 0 ? { issues } : {},
  );
