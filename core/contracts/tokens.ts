/**
 * What an API token may do: `admin` everything; `editor` webhooks, templates and tests, and
 * integrations without setting secrets; `viewer` read only; `publisher` only publish events and
 * activities. `HOOKLINE_ADMIN_TOKEN` is the bootstrap admin.
 */
export type Role = "admin" | "editor" | "viewer" | "publisher";
export const ROLES: readonly Role[] = ["admin", "editor", "viewer", "publisher"];

/** A token as listed: never its secret (kept only as a SHA-256). */
export interface ApiToken {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  revokedAt?: string;
}

/**
 * API tokens in the store: created (the secret returned once), listed, revoked, and looked up by
 * the SHA-256 of a presented secret.
 *
 * @example const { token, secret } = await tokens.createToken("ci", "publisher");
 */
export interface TokenStore {
  createToken(name: string, role: Role): Promise<{ token: ApiToken; secret: string }>;
  listTokens(): Promise<ApiToken[]>;
  /** Revokes a token; false when there is none with that id (or it was revoked already). */
  revokeToken(id: string): Promise<boolean>;
  /** The role of the live token whose secret hashes to `hash` (hex SHA-256), if any. */
  roleOfHash(hash: string): Promise<Role | undefined>;
}
