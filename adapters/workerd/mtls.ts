import type { Catalogue } from "../../core/contracts/catalogue.ts";
import type { TlsIdentity } from "../../core/contracts/http.ts";
import { HooklineError } from "../../core/errors.ts";
import { type Fetcher, isFetcher, type WorkerEnv } from "./bindings.ts";

/**
 * The binding an mTLS integration's requests go through unless named otherwise: `MTLS_` and the
 * integration's name in upper case, other characters as `_` (`bank-api` → `MTLS_BANK_API`).
 *
 * @example mtlsBindingName("bank-api") // "MTLS_BANK_API"
 */
export function mtlsBindingName(integration: string): string {
  return `MTLS_${integration.toUpperCase().replace(/[^A-Z0-9]/g, "_")}`;
}

/**
 * Client certificates on workerd: a Worker cannot hand fetch a PEM key; Cloudflare presents a
 * certificate uploaded with `wrangler mtls-certificate upload` through the binding that
 * `[[mtls_certificates]]` declares. This maps each TLS identity the app's integrations present to
 * its binding, found when the app starts.
 *
 * @example
 * const mtls = new MtlsBindings(env, { bank: "BANK_CERT" });
 * mtls.bind(app.host); // throws HOOKLINE_RUNTIME_CAPABILITY naming a missing binding
 * mtls.fetcherFor(identity)?.fetch("https://bank.example/v2/ping");
 */
export class MtlsBindings {
  private readonly byCertificate = new Map<string, Fetcher>();

  constructor(
    private readonly env: WorkerEnv,
    /** Integration name → binding name, for bindings not named by `mtlsBindingName`. */
    private readonly names: Readonly<Record<string, string>> = {},
  ) {}

  /**
   * Binds every integration that presents a TLS identity to its certificate binding. Throws
   * `HOOKLINE_RUNTIME_CAPABILITY`, naming the runtime, each integration and the binding it lacks,
   * so that a Worker without them fails at start-up rather than at its first delivery.
   *
   * It reads only the catalogue's integrations: a `PluginHost` (a `Service` or `StartupCheck`) or
   * `{ catalogue: { integrations } }` will do.
   *
   * @example new MtlsBindings(env).bind(app.host) // after createHookline, before serving
   */
  bind(host: { readonly catalogue: Pick<Catalogue, "integrations"> }): void {
    const missing: string[] = [];
    for (const integration of host.catalogue.integrations.values()) {
      const identity = integration.instance.tlsIdentity?.();
      if (!identity) continue;
      const name = this.names[integration.name] ?? mtlsBindingName(integration.name);
      const binding = this.env[name];
      if (isFetcher(binding)) this.byCertificate.set(identity.cert, binding);
      else missing.push(`integration "${integration.name}" needs the mTLS certificate binding ${name}`);
    }
    if (missing.length > 0)
      throw new HooklineError(
        "HOOKLINE_RUNTIME_CAPABILITY",
        `workerd: ${missing.join("; ")} — declare it under [[mtls_certificates]] in wrangler.toml (binding = "…", certificate_id = "…" from \`wrangler mtls-certificate upload\`)`,
      );
  }

  /** The binding that presents `identity`, if `bind` found one. */
  fetcherFor(identity: TlsIdentity): Fetcher | undefined {
    return this.byCertificate.get(identity.cert);
  }
}
