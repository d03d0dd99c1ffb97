import { validator } from "hono/validator";
import type { z } from "zod";
import { HttpError } from "../errors.ts";
import { readJson } from "./respond.ts";
import { describesRequest } from "./route-docs.ts";

/** zod issues as the answers show them: `{ path, message }`, the path dotted, at most 50. */
export const issues = (e: z.ZodError) =>
  e.issues.slice(0, 50).map((i) => ({ path: i.path.join("."), message: i.message }));

/**
 * Checks `value` against `schema`; throws `HOOKLINE_HTTP_INVALID` (400, with the zod issues) when it
 * does not fit. `what` names the thing in the message ("invalid event"). Request bodies and queries
 * go through `json` and `query`; this is for a value a handler puts together itself.
 *
 * @example const event = parseOr(EventInput, { ...sample, ...given }, "invalid sample event")
 */
export function parseOr<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new HttpError("HOOKLINE_HTTP_INVALID", what, { details: { issues: issues(parsed.error) } });
  return parsed.data;
}

/**
 * Route middleware: the JSON body, as `jsonBodies` checked it (content type, size, depth, text the
 * store cannot keep; those run first), validated by `schema`; a body that does not fit is 400
 * `HOOKLINE_HTTP_INVALID` naming `what`, with `issues`. The handler reads it as `c.req.valid("json")`.
 * For a route taking two shapes, pass a function choosing `[schema, what]` from the body: checked
 * against the one shape the body claims, issues name its fields (a union would name none), and the
 * union of the shapes as the second argument, for the OpenAPI document.
 *
 * @example r.put("/:name", json(PolicyConfig, "invalid policy"), (c) => setPolicy(c.req.valid("json")))
 */
export function json<S extends z.ZodType>(schema: S, what: string): Validated<z.output<S>>;
export function json<R extends readonly [z.ZodType, string]>(
  choose: (body: unknown) => R,
  documentedAs: z.ZodType,
): Validated<z.output<R[0]>>;
export function json(
  schema: z.ZodType | ((body: unknown) => readonly [z.ZodType, string]),
  what: string | z.ZodType = "",
) {
  // The OpenAPI document takes the body's schema from here: the one the request is checked against.
  return typeof schema === "function"
    ? describesRequest(jsonWith(schema), { target: "json", schema: what as z.ZodType })
    : describesRequest(
        jsonWith(() => [schema, what as string] as const),
        { target: "json", schema },
      );
}

type Validated<O> = ReturnType<typeof jsonWith<O>>;

const jsonWith = <O>(choose: (body: unknown) => readonly [z.ZodType<O>, string]) => {
  const validate = validator("json", async (_, c): Promise<O> => {
    const body = await readJson(c);
    const [schema, what] = choose(body);
    return parseOr(schema, body, what);
  });
  // `readJson` first: outside the admin API no `jsonBodies` ran, and hono's validator reads the body
  // with `c.req.json()`, which the checks answer with the value they parsed (once, `{}` when empty).
  const checkedFirst: typeof validate = async (c, next) => {
    await readJson(c);
    return validate(c, next);
  };
  return checkedFirst;
};

/**
 * Route middleware: the query string validated by `schema` (a parameter given twice is an array); one
 * that does not fit is 400 `HOOKLINE_HTTP_PARAM` naming `what`, with `issues`. The handler reads it as
 * `c.req.valid("query")`.
 *
 * @example http.get("/v1/deliveries", query(DeliveryQuery, "invalid query"), (c) => list(c.req.valid("query")))
 */
export const query = <S extends z.ZodType>(schema: S, what: string) =>
  describesRequest(
    validator("query", (value): z.output<S> => {
      const parsed = schema.safeParse(value);
      if (!parsed.success)
        throw new HttpError("HOOKLINE_HTTP_PARAM", what, { details: { issues: issues(parsed.error) } });
      return parsed.data;
    }),
    { target: "query", schema },
  );
