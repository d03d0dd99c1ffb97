import type { Transport } from "../../core/contracts/transport.ts";
import { TransportError } from "../../core/contracts/transport.ts";
import type { AddressGuard } from "../../core/net/address-guard.ts";
import { fetchTransport } from "../../core/transport/fetch-transport.ts";
import type { MtlsBindings } from "./mtls.ts";

export interface WorkerdTransportOptions {
  /** The SSRF guard, applied to IP-literal hosts (workerd has no DNS API to resolve names first). */
  guard: AddressGuard;
  /** Where mTLS identities are presented from (certificate bindings). */
  mtls: MtlsBindings;
}

/**
 * workerd's transport: the portable ky transport over the Worker's fetch. Names are not resolved
 * first: Cloudflare's fetch does not reach private networks, and workerd has no resolver to ask.
 * A request that carries a TLS identity goes through that identity's certificate binding.
 *
 * @example
 * const transport = workerdTransport({ guard, mtls: new MtlsBindings(env) });
 */
export function workerdTransport(options: WorkerdTransportOptions): Transport {
  const transport = fetchTransport({
    guard: options.guard,
    tlsFetch: (identity) => {
      const binding = options.mtls.fetcherFor(identity);
      if (!binding)
        throw new TransportError(
          "tls",
          "workerd: no mTLS certificate binding presents this client certificate; declare one under [[mtls_certificates]]",
        );
      return (input, init) => binding.fetch(input, init);
    },
  });
  return { ...transport, name: "workerd" };
}
