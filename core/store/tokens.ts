import type { SqlDriver } from "../contracts/sql.ts";
import type { ApiToken, Role, TokenStore } from "../contracts/tokens.ts";
import { tokenHash } from "../security/token-hash.ts";
import { iso } from "./rows.ts";
import { run } from "./unavailable.ts";

type TokenRow = { id: string; name: string; role: Role; created_at: unknown; revoked_at: unknown };

const toToken = (r: TokenRow): ApiToken => ({
  id: r.id,
  name: r.name,
  role: r.role,
  createdAt: iso(r.created_at)!,
  ...(r.revoked_at ? { revokedAt: iso(r.revoked_at)! } : {}),
});

/** 32 random bytes as base64url: the secret part of a token. */
function randomSecret(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/**
 * API tokens in SQL (migration 12): the secret is `hl_<role>_<32 random bytes>`, shown once; only its
 * SHA-256 is stored, so the table gives no one a usable token.
 *
 * @example const { secret } = await new SqlTokenStore(db).createToken("ci", "publisher");
 */
export class SqlTokenStore implements TokenStore {
  constructor(private readonly db: SqlDriver) {}

  async createToken(name: string, role: Role): Promise<{ token: ApiToken; secret: string }> {
    const secret = `hl_${role}_${randomSecret()}`;
    const id = `tok_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`;
    const [row] = await run(this.db, "create a token", () =>
      this.db.query<TokenRow>(
        `INSERT INTO hookline_tokens (id, name, role, hash) VALUES ($1, $2, $3, $4)
         RETURNING id, name, role, created_at, revoked_at`,
        [id, name, role, tokenHash(secret)],
      ),
    );
    return { token: toToken(row!), secret };
  }

  async listTokens(): Promise<ApiToken[]> {
    const rows = await run(this.db, "list tokens", () =>
      this.db.query<TokenRow>(
        "SELECT id, name, role, created_at, revoked_at FROM hookline_tokens ORDER BY created_at, id",
      ),
    );
    return rows.map(toToken);
  }

  async revokeToken(id: string): Promise<boolean> {
    const rows = await run(this.db, "revoke a token", () =>
      this.db.query(
        "UPDATE hookline_tokens SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL RETURNING id",
        [id],
      ),
    );
    return rows.length > 0;
  }

  async roleOfHash(hash: string): Promise<Role | undefined> {
    const [row] = await run(this.db, "look up a token", () =>
      this.db.query<{ role: Role }>(
        "SELECT role FROM hookline_tokens WHERE hash = $1 AND revoked_at IS NULL",
        [hash],
      ),
    );
    return row?.role;
  }
}
