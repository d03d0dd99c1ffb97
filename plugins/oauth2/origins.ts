import { HooklineError } from "../../core/plugin/index.ts";

/**
 * The base-URL rule for OAuth integrations (Bloomreach's): credentials obtained from a token endpoint
 * go only to webhooks with the same base URL (scheme, host, port), unless `allowedDomains` lists the
 * webhook's base URL.
 *
 * @example
 * const rule = new BaseUrlRule("crm", "https://auth.example.com/token", ["https://api.example.com"]);
 * rule.assertAllowed("https://api.example.com/v1/contacts", "webhook");
 */
export class BaseUrlRule {
  private readonly tokenOrigin: string;
  private readonly allowed: ReadonlySet<string>;

  constructor(
    private readonly integration: string,
    tokenEndpoint: string,
    allowedDomains: readonly string[],
  ) {
    this.tokenOrigin = new URL(tokenEndpoint).origin;
    this.allowed = new Set(allowedDomains.map((d) => new URL(d).origin));
  }

  /** True when credentials from the token endpoint may go to `url`. */
  allows(url: string): boolean {
    const origin = originOf(url);
    return origin !== undefined && (origin === this.tokenOrigin || this.allowed.has(origin));
  }

  /**
   * Throws `HooklineError` `HOOKLINE_OAUTH_BASE_URL` naming both base URLs unless `allows(url)`;
   * `what` says whose URL it is ("endpoint prefix", "webhook").
   */
  assertAllowed(url: string, what: string): void {
    if (this.allows(url)) return;
    const origin = originOf(url) ?? "an invalid URL";
    const fix =
      this.allowed.size === 0
        ? `list ${origin} in allowedDomains to allow it`
        : `allowedDomains lists ${[...this.allowed].join(", ")}, not ${origin}`;
    throw new HooklineError(
      "HOOKLINE_OAUTH_BASE_URL",
      `integration "${this.integration}": the ${what}'s base URL ${origin} differs from the token endpoint's ${this.tokenOrigin}; ${fix}`,
    );
  }
}

function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
