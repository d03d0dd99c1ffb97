import ipaddr from "ipaddr.js";
import { HooklineError } from "../errors.ts";
import { remember } from "../util/remember.ts";

type IP = ipaddr.IPv4 | ipaddr.IPv6;
/** The guard's answer for one address; `reason` names the address and the range that refused it. */
export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

export interface AddressGuardOptions {
  /** CIDR networks (IPv4 or IPv6) admitted even where the default rules refuse, e.g. `10.20.0.0/16`. */
  allowNetworks: string[];
}

const RANGE_WORDS: Record<string, string> = {
  unspecified: "unspecified",
  broadcast: "broadcast",
  multicast: "multicast",
  linkLocal: "link-local",
  loopback: "loopback",
  carrierGradeNat: "carrier-grade NAT (100.64.0.0/10)",
  private: "private",
  reserved: "reserved",
  uniqueLocal: "unique-local",
  deprecatedSiteLocal: "site-local",
  teredo: "a Teredo tunnel",
  benchmarking: "benchmarking",
  discard: "discard-only",
};

const ALLOWED: AddressVerdict = Object.freeze({ allowed: true });

// Global unicast (IANA 2000::/3): everything outside it is special-purpose or unassigned.
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR("2000::/3");

/**
 * The SSRF guard: decides whether hookline may connect to an IP address. It refuses loopback,
 * private, link-local (cloud metadata lives at 169.254.169.254), unique-local, unspecified,
 * carrier-grade NAT, multicast, broadcast and reserved addresses, and judges IPv6 forms that carry
 * an IPv4 address (IPv4-mapped, IPv4-translated, NAT64 64:ff9b::/96, 6to4) by that IPv4 address.
 * `allowNetworks` admits chosen networks (an internal CRM, a local test sink).
 *
 * @example
 * const guard = new AddressGuard({ allowNetworks: ["10.20.0.0/16"] });
 * guard.check("169.254.169.254"); // { allowed: false, reason: "169.254.169.254 is link-local" }
 * guard.check("10.20.1.5"); // { allowed: true }
 */
export class AddressGuard {
  private readonly allowed: [IP, number][];
  // Verdicts depend on the address alone (the networks are fixed): a sender connects to a few
  // addresses again and again, and parsing and matching each time costs more than the lookup.
  private readonly verdicts = new Map<string, AddressVerdict>();
  private readonly literals = new Map<string, boolean>();

  constructor(options: AddressGuardOptions) {
    this.allowed = options.allowNetworks.map((cidr) => {
      try {
        return ipaddr.parseCIDR(cidr.trim());
      } catch (e) {
        throw new HooklineError(
          "HOOKLINE_CONFIG_NETWORK",
          `allowNetworks: "${cidr}" is not a CIDR network; expected an address and a prefix length such as 10.0.0.0/8, 192.0.2.7/32 or fd00::/8`,
          { cause: e },
        );
      }
    });
  }

  /**
   * Judges one address (IPv4, IPv6, or IPv6 in brackets as URLs write it).
   *
   * @example guard.check("[::1]") // { allowed: false, reason: "::1 is loopback" }
   */
  check(ip: string): AddressVerdict {
    let verdict = this.verdicts.get(ip);
    if (verdict === undefined) {
      verdict = Object.freeze(this.judge(ip));
      remember(this.verdicts, ip, verdict);
    }
    return verdict;
  }

  private judge(ip: string): AddressVerdict {
    const text = unbracket(ip);
    let address: IP;
    try {
      address = ipaddr.parse(text);
    } catch {
      return { allowed: false, reason: `${JSON.stringify(ip)} is not an IP address` };
    }
    if (this.admits(address)) return ALLOWED;
    const embedded = address.kind() === "ipv6" ? embeddedIPv4(address as ipaddr.IPv6) : undefined;
    if (embedded) {
      if (this.admits(embedded.v4)) return ALLOWED;
      const why = refusal(embedded.v4);
      return why
        ? { allowed: false, reason: `${text} is ${embedded.form} ${embedded.v4}, which is ${why}` }
        : ALLOWED;
    }
    const why = refusal(address);
    return why ? { allowed: false, reason: `${text} is ${why}` } : ALLOWED;
  }

  /**
   * True when `host` (a URL's hostname) is an IP address rather than a name to resolve.
   *
   * @example guard.isIpLiteral("[::1]") // true; guard.isIpLiteral("api.example.com") // false
   */
  isIpLiteral(host: string): boolean {
    let literal = this.literals.get(host);
    if (literal === undefined) {
      literal = ipaddr.isValid(unbracket(host));
      remember(this.literals, host, literal);
    }
    return literal;
  }

  private admits(address: IP): boolean {
    return this.allowed.some(
      ([network, bits]) => network.kind() === address.kind() && address.match(network, bits),
    );
  }
}

function unbracket(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** Why an address is refused by default, or undefined for a global unicast address. */
function refusal(address: IP): string | undefined {
  const range = address.range();
  if (
    range === "unicast" &&
    (address.kind() === "ipv4" || (address as ipaddr.IPv6).match(GLOBAL_UNICAST_V6))
  ) {
    return undefined;
  }
  return (
    RANGE_WORDS[range] ??
    (range === "unicast" ? "outside global unicast (2000::/3)" : `special-purpose (${range})`)
  );
}

/** The IPv4 address inside an IPv6 form that a host or gateway turns into an IPv4 connection. */
function embeddedIPv4(address: ipaddr.IPv6): { v4: ipaddr.IPv4; form: string } | undefined {
  const p = address.parts;
  const v4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  switch (address.range()) {
    case "ipv4Mapped":
      return { v4: v4(p[6]!, p[7]!), form: "IPv4-mapped" };
    case "rfc6145":
      return { v4: v4(p[6]!, p[7]!), form: "IPv4-translated" };
    case "rfc6052":
      // Only the well-known /96 prefix puts the IPv4 address in the last 32 bits; the /48 local-use
      // prefix is refused as not global unicast.
      return p[0] === 0x64 && p[1] === 0xff9b && p[2] === 0
        ? { v4: v4(p[6]!, p[7]!), form: "NAT64" }
        : undefined;
    case "6to4":
      return { v4: v4(p[1]!, p[2]!), form: "6to4" };
    default:
      return undefined;
  }
}
