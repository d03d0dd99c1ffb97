import { type AuthContext, HooklineError } from "../../core/plugin/index.ts";
import { refresh } from "./authorization-code.ts";
import type { FreshToken } from "./authorization-code-grant.ts";
import { OAuthError, OAuthReauthorizeError } from "./errors.ts";
import type { OAuth2Options } from "./options.ts";
import { refreshTokenForms } from "./token-endpoint.ts";

/** The key, in the integration's sealed state, of the latest refresh token (a `Kept` as JSON). */
export const ROTATED_REFRESH_TOKEN_KEY = "rotated_refresh_token";

/** What the state keeps: the refresh token to present next, or why the server refused it. */
interface Kept {
  /** SHA-256 (hex) of the configured refresh token this entry descends from. */
  configured: string;
  refreshToken?: string;
  /** The server's refusal (`invalid_grant: …`), once it refused. */
  refused?: string;
}

/**
 * SHA-256 of a refresh token, hex: how the state remembers which configured token its entry
 * descends from without keeping the token itself next to it.
 *
 * @example await fingerprint("rt-1") // "a3f…"
 */
export async function fingerprint(token: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The refresh_token grant on its own (RFC 6749 §6; BlueConic's "refresh token-based flow"): an
 * operator pastes a refresh token they hold; hookline exchanges it for access tokens and, when the
 * server rotates it, keeps the new one sealed in the integration's state and presents that from then
 * on — in every process sharing the store, and after restarts. The state entry carries a fingerprint
 * of the configured token it descends from, so that pasting a new token (config or admin API) wins
 * over the rotations of the old one. A refusal (`invalid_grant`) is remembered, and deliveries fail
 * with `HOOKLINE_OAUTH_REAUTHORIZE` without asking the server again until a new token is pasted.
 *
 * @example
 * const grant = new RefreshTokenGrant(options, context);
 * const { accessToken, lifetimeMs } = await grant.token();
 */
export class RefreshTokenGrant {
  private readonly configured: Promise<string>;
  /** The latest entry when storing it failed (no HOOKLINE_SECRET_KEY): this process's only copy. */
  private unsaved?: Kept;

  constructor(
    private readonly o: OAuth2Options,
    private readonly context: AuthContext,
  ) {
    this.configured = fingerprint(o.refreshToken!);
  }

  /** A fresh access token from the latest refresh token, keeping a rotated one sealed. */
  async token(): Promise<FreshToken> {
    const configured = await this.configured;
    if (this.unsaved) await this.keep(this.unsaved);
    let current = await this.current(configured);
    let refusal: OAuthReauthorizeError | undefined;
    for (let tries = 0; tries < 2; tries++) {
      if (current.refused !== undefined) throw this.refused(current.refused);
      try {
        return await this.refreshWith(current.refreshToken!, configured);
      } catch (e) {
        if (!(e instanceof OAuthReauthorizeError)) throw e;
        refusal = e;
      }
      // Another process sharing the store may have rotated it a moment ago: once more with that one.
      const now = await this.current(configured);
      if (now.refreshToken === current.refreshToken || now.refused !== undefined) break;
      current = now;
    }
    const cause = refusal?.cause;
    const why =
      cause instanceof OAuthError && cause.description
        ? `${cause.oauthError}: ${cause.description}`
        : (refusal?.oauthError ?? "invalid_grant");
    await this.keep({ configured, refused: why });
    throw this.refused(why, refusal);
  }

  /** The entry to use: the stored one if it descends from the configured token, else the configured token. */
  private async current(configured: string): Promise<Kept> {
    const kept = this.unsaved ?? parse(await this.context.state.get(ROTATED_REFRESH_TOKEN_KEY));
    if (kept?.configured === configured) {
      if (kept.refreshToken) this.context.addSecrets(refreshTokenForms(kept.refreshToken));
      return kept;
    }
    if (kept) {
      // The operator pasted a new refresh token: what descends from the old one no longer applies.
      await this.context.state.delete(ROTATED_REFRESH_TOKEN_KEY);
      this.context.logger.log("info", "oauth2.refresh_token_replaced", {
        integration: this.context.name,
      });
    }
    return { configured, refreshToken: this.o.refreshToken! };
  }

  private async refreshWith(refreshToken: string, configured: string): Promise<FreshToken> {
    const next = await refresh({
      tokenEndpoint: this.o.tokenEndpoint,
      clientId: this.o.clientId,
      clientSecret: this.o.clientSecret,
      clientAuthentication: this.o.clientAuthentication,
      extraFields: this.o.extraFields,
      fetch: this.context.fetch,
      refreshToken,
    });
    if (next.rotated && next.refreshToken) {
      this.context.addSecrets(refreshTokenForms(next.refreshToken));
      await this.keep({ configured, refreshToken: next.refreshToken });
    }
    return {
      accessToken: next.accessToken,
      lifetimeMs: next.expiresAt === undefined ? undefined : next.expiresAt - Date.now(),
    };
  }

  /**
   * Stores the entry sealed. If that fails, the entry stays in memory (a rotated token is the only
   * valid one: losing it would lose the grant) and the failure is logged as an error.
   */
  private async keep(entry: Kept): Promise<void> {
    this.unsaved = entry;
    try {
      await this.context.state.set(ROTATED_REFRESH_TOKEN_KEY, JSON.stringify(entry));
      this.unsaved = undefined;
    } catch (e) {
      const missingKey = e instanceof HooklineError && e.code === "HOOKLINE_SECRET_KEY_MISSING";
      this.context.logger.log("error", "oauth2.refresh_token_not_stored", {
        integration: this.context.name,
        error: (e as Error).message,
        consequence: missingKey
          ? "after a restart the configured refresh token will have been rotated away: set HOOKLINE_SECRET_KEY, or paste a new refresh token then"
          : "storing it is tried again at the next refresh; a restart before then needs a new refresh token",
      });
    }
  }

  private refused(why: string, cause?: unknown): OAuthReauthorizeError {
    return new OAuthReauthorizeError(
      `integration "${this.context.name}": the token endpoint refused the refresh token (${why}): it was revoked or has expired; paste a new refresh token into refreshToken (the config file, or PUT /v1/integrations/${this.context.name})`,
      { oauthError: "invalid_grant", cause },
    );
  }
}

function parse(raw: string | undefined): Kept | undefined {
  if (raw === undefined) return undefined;
  try {
    const v = JSON.parse(raw) as Kept;
    return typeof v?.configured === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}
