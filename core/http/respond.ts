import type { Context } from "hono";
import type { z } from "zod";
import type { Hookline } from "../app.ts";

/** A JSON answer with every known secret removed. */
export const reply = (app: Hookline, c: Context, status: number, body: unknown) =>
  c.json(app.redactor.redactDeep(body) as object, status as 200);

export const issues = (e: z.ZodError) =>
  e.issues.map((i) => ({ path: i.path.join("."), message: i.message }));

/** Reads a JSON body; answers 400 naming the problem when it is not JSON. */
export async function readJson(
  c: Context,
): Promise<{ ok: true; value: unknown } | { ok: false; response: Response }> {
  const text = await c.req.text();
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (e) {
    return {
      ok: false,
      response: c.json({ error: `request body is not valid JSON: ${(e as Error).message}` }, 400),
    };
  }
}

export const storeDown = (app: Hookline, c: Context, e: unknown) => {
  app.logger.log("error", "store unavailable", { error: (e as Error).message, path: c.req.path });
  return c.json({ error: "store unavailable; nothing was accepted, try again" }, 503);
};
