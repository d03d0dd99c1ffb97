import {
  issuePki,
  type Sink,
  type SinkHandler,
  type SinkOptions,
  startSink,
} from "../../support/http-sink.ts";

/**
 * The address that stands in for a public one in the DNS-rebinding tests: a loopback address other
 * than 127.0.0.1 (Linux answers on all of 127.0.0.0/8), admitted with `allowNetworks:
 * ["127.0.0.2/32"]` while the guard's default rules refuse 127.0.0.1 and ::1 as loopback. No test
 * traffic leaves the machine.
 */
export const CHECKED_ADDRESS = "127.0.0.2";

/**
 * A resolver that rebinds, as an attacker's DNS server does: the first lookup of a name answers
 * `first` (what the guard checks), every later one answers `then` (what a second lookup before the
 * connect would find). `calls` counts the lookups.
 *
 * @example const resolve = rebindingResolver("127.0.0.2", "127.0.0.1"); await resolve("localhost") // ["127.0.0.2"]
 */
export function rebindingResolver(
  first: string,
  then: string,
): ((host: string) => Promise<string[]>) & { calls: number } {
  const seen = new Set<string>();
  const resolve = async (host: string): Promise<string[]> => {
    resolve.calls++;
    if (seen.has(host)) return [then];
    seen.add(host);
    return [first];
  };
  resolve.calls = 0;
  return resolve;
}

/** A sink on the checked address and sinks on loopback (127.0.0.1 and, where it exists, ::1) on one port. */
export interface RebindTargets {
  port: number;
  /** The sink on `CHECKED_ADDRESS`, the only one a request may reach. */
  checked: Sink;
  /** Sinks on 127.0.0.1 and ::1 at the same port: where the rebound name points. */
  loopback: Sink[];
  close(): Promise<void>;
}

/**
 * Starts a sink on `CHECKED_ADDRESS` and, on the same port, sinks on 127.0.0.1 and ::1, so that
 * `http://localhost:PORT` reaches the loopback ones whenever the name is looked up again by the
 * system resolver (localhost is 127.0.0.1 and maybe ::1 in the hosts file).
 *
 * @example const t = await rebindTargets(() => ({ body: "checked" }), () => ({ body: "internal" }));
 */
export async function rebindTargets(
  checked: SinkHandler,
  loopback: SinkHandler,
  options: Pick<SinkOptions, "tls"> = {},
): Promise<RebindTargets> {
  for (let attempt = 0; ; attempt++) {
    const first = await startSink(checked, { ...options, host: CHECKED_ADDRESS });
    const others: Sink[] = [];
    try {
      others.push(await startSink(loopback, { ...options, host: "127.0.0.1", port: first.port }));
      // ::1 may not exist (an IPv4-only container): then nothing can connect there either.
      const v6 = await startSink(loopback, { ...options, host: "::1", port: first.port }).catch(
        () => undefined,
      );
      if (v6) others.push(v6);
    } catch (e) {
      await Promise.all([first, ...others].map((s) => s.close()));
      // The port was free on 127.0.0.2 but taken on 127.0.0.1: try another.
      if (attempt < 5) continue;
      throw e;
    }
    return {
      port: first.port,
      checked: first,
      loopback: others,
      close: async () => void (await Promise.all([first, ...others].map((s) => s.close()))),
    };
  }
}

/** PEM material for the name-pinning tests: certificates that name either the host or the address. */
export interface NamePki {
  ca: string;
  /** A server certificate for DNS:localhost only: valid for the name, not for any address. */
  forName: { cert: string; key: string };
  /** A server certificate for IP:127.0.0.2 only: valid for the address connected to, not for the name. */
  forAddress: { cert: string; key: string };
  /** A client certificate (CN `pinning-client`), for a sink that requires one. */
  client: { cert: string; key: string };
}

let pki: NamePki | undefined;

/**
 * Makes (once per process) a throwaway CA and the certificates of `NamePki` with the `openssl`
 * command line.
 *
 * @example const pki = namePki(); await startSink(undefined, { tls: { ...pki.forName, ca: pki.ca, requestCert: true } });
 */
export function namePki(): NamePki {
  pki ??= issuePki("pinning-ca", {
    forName: { cn: "localhost", ext: "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n" },
    forAddress: { cn: "address", ext: `subjectAltName=IP:${CHECKED_ADDRESS}\nextendedKeyUsage=serverAuth\n` },
    client: { cn: "pinning-client", ext: "extendedKeyUsage=clientAuth\n" },
  });
  return pki;
}
