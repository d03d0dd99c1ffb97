import type { EngineConfig, RetryPolicyConfig, WebhookConfig } from "../config/schema.ts";
import type { RetryPolicy } from "../contracts/retry.ts";
import { exponentialRetry, retryContract } from "./retry.ts";
import { DEFAULT_RETRY_POLICY } from "./retry-names.ts";

/**
 * The app's named retry policies, each webhook choosing one with `retry:` as it chooses a throughput
 * policy: `bloomreach` (the platforms' contract, `engine.retry`'s delays; the default), `exponential`
 * (eSputnik's 1, 2, 4, 8 … minutes capped hourly, until delivered), the config's `retryPolicies:`,
 * and policies plugins register under `Tokens.RetryPolicy` by name (a plugin's policy named
 * `bloomreach` replaces the default for every webhook).
 *
 * @example
 * const retry = new RetryPolicies(config.engine, config.retryPolicies, pluginPolicies);
 * retry.of(hook.config).decide({ kind: "response", status: 503, headers: {} }, { number: 1, maxAttempts: 4 })
 */
export class RetryPolicies {
  private readonly byName = new Map<string, RetryPolicy>();

  constructor(
    engine: Pick<EngineConfig, "retry">,
    declared: Readonly<Record<string, RetryPolicyConfig>> = {},
    registered: readonly RetryPolicy[] = [],
  ) {
    const r = engine.retry;
    this.byName.set("bloomreach", retryContract(r));
    this.byName.set(
      "exponential",
      exponentialRetry({ base: 60_000, cap: 3_600_000, scale: r.scale, maxRetryAfter: r.maxRetryAfter }),
    );
    for (const [name, p] of Object.entries(declared)) this.byName.set(name, fromConfig(p, r));
    for (const p of registered) this.byName.set(p.name === "contract" ? "bloomreach" : p.name, p);
  }

  /**
   * A webhook's policy: its own (a plugin's webhook), else the one its config names, else the
   * default (also when the named one is gone).
   */
  of(webhook: { config: Pick<WebhookConfig, "retry">; retryPolicy?: RetryPolicy } | undefined): RetryPolicy {
    if (webhook?.retryPolicy) return webhook.retryPolicy;
    return (
      this.byName.get(webhook?.config.retry ?? DEFAULT_RETRY_POLICY) ?? this.byName.get(DEFAULT_RETRY_POLICY)!
    );
  }

  /** Whether a policy of this name exists (the admin API checks webhooks against it). */
  has(name: string): boolean {
    return this.byName.has(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }
}

function fromConfig(p: RetryPolicyConfig, r: EngineConfig["retry"]): RetryPolicy {
  switch (p.kind) {
    case "bloomreach": {
      const contract = retryContract({ ...r, delays: p.delays ?? r.delays });
      if (p.attempts === undefined) return contract;
      const attempts = p.attempts;
      return { ...contract, maxAttempts: () => attempts };
    }
    case "exponential":
      return exponentialRetry({ ...p, scale: r.scale, maxRetryAfter: r.maxRetryAfter });
    case "delays": {
      const contract = retryContract({ ...r, delays: p.delays, jitter: 0 });
      const attempts = p.delays.length + 1;
      return { ...contract, name: "delays", maxAttempts: () => attempts };
    }
  }
}
