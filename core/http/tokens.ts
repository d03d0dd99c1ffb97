import { Hono } from "hono";
import { z } from "zod";
import { ROLES } from "../contracts/tokens.ts";
import { HttpError } from "../errors.ts";
import type { AdminApp } from "./admin-app.ts";
import { reply } from "./respond.ts";
import { documented } from "./route-docs.ts";
import { json } from "./validate.ts";

const Role = z.enum(ROLES as ["admin", "editor", "viewer", "publisher"]);
const Token = z
  .object({
    id: z.string().describe("public: to list and revoke it"),
    name: z.string(),
    role: Role,
    createdAt: z.string(),
    revokedAt: z.string().optional(),
  })
  .strict();
const NewToken = z
  .object({
    name: z.string().min(1).max(200).describe("who or what holds it"),
    role: Role.describe("admin, editor, viewer or publisher"),
  })
  .strict();
const Created = z
  .object({
    token: Token,
    secret: z.string().describe("the bearer token: shown this once, stored only as its SHA-256"),
  })
  .strict();

const tags = ["Tokens"];

/**
 * API tokens (admin only): create one for a role (its secret answered once), list them without
 * their secrets, revoke one. `forget` drops this process's cache of tokens' roles, so that a
 * revocation holds here at once (elsewhere within `TOKEN_CACHE_MS`).
 */
export function tokenRoutes(app: AdminApp, forget: () => void) {
  const r = new Hono();
  r.post(
    "/",
    documented({
      summary: "Create an API token for a role",
      description: "The answer holds the token's secret, this once: only its SHA-256 is stored.",
      tags,
      body: { schema: NewToken },
      answers: { 201: { description: "the token and its secret", schema: Created } },
    }),
    json(NewToken, "invalid token"),
    async (c) => {
      const { name, role } = c.req.valid("json");
      return reply(app, c, 201, await app.store.createToken(name, role));
    },
  );
  r.get(
    "/",
    documented({
      summary: "List API tokens",
      description: "Without their secrets; revoked ones with when.",
      tags,
      answers: { 200: { description: "the tokens", schema: z.object({ tokens: z.array(Token) }).strict() } },
    }),
    async (c) => reply(app, c, 200, { tokens: await app.store.listTokens() }),
  );
  r.delete(
    "/:id",
    documented({
      summary: "Revoke an API token",
      description: "It stops working at once in this process and within 5 s in the others.",
      tags,
      params: { id: "the token's id (not its secret)" },
      answers: { 204: { description: "revoked" } },
      errors: ["HOOKLINE_HTTP_NOT_FOUND"],
    }),
    async (c) => {
      const id = c.req.param("id");
      if (!(await app.store.revokeToken(id)))
        throw new HttpError("HOOKLINE_HTTP_NOT_FOUND", `no live token ${id}`);
      forget();
      return c.body(null, 204);
    },
  );
  return r;
}
