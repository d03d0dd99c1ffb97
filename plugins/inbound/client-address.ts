import ipaddr from "ipaddr.js";

type IP = ipaddr.IPv4 | ipaddr.IPv6;
type Range = [IP, number];

/**
 * Parses addresses and CIDR ranges ("203.0.113.0/24", "2001:db8::/32", "10.0.0.1").
 *
 * @example allowed("203.0.113.9", parseRanges(["203.0.113.0/24"])) // true
 */
export function parseRanges(list: readonly string[]): Range[] {
  return list.map((s) => {
    const t = s.trim();
    const [ip, bits] = ipaddr.parseCIDR(t.includes("/") ? t : `${t}/${t.includes(":") ? 128 : 32}`);
    return [
      normalize(ip),
      ip.kind() === "ipv6" && normalize(ip).kind() === "ipv4" ? Math.max(0, bits - 96) : bits,
    ];
  });
}

/** IPv4-mapped IPv6 (`::ffff:127.0.0.1`, as dual-stack sockets report) is judged as IPv4. */
function normalize(ip: IP): IP {
  return ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress()
    ? (ip as ipaddr.IPv6).toIPv4Address()
    : ip;
}

function parseIp(text: string | undefined): IP | undefined {
  if (!text) return undefined;
  let t = text.trim();
  // X-Forwarded-For entries are bare addresses, but some proxies add a port or brackets.
  if (t.startsWith("[")) t = t.slice(1, t.indexOf("]") > 0 ? t.indexOf("]") : undefined);
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(t)) t = t.slice(0, t.lastIndexOf(":"));
  try {
    return normalize(ipaddr.parse(t));
  } catch {
    return undefined;
  }
}

const inRanges = (ip: IP, ranges: readonly Range[]) =>
  ranges.some(([net, bits]) => net.kind() === ip.kind() && ip.match(net, bits));

/**
 * The address of the connection a request came in on, from the server's per-request environment
 * (hono's `c.env`): `{ remoteAddress }` (the adapters' convention) or @hono/node-server's
 * `{ incoming: { socket } }`. Undefined when the server does not say.
 *
 * @example socketAddress({ remoteAddress: "203.0.113.7" }) // "203.0.113.7"
 */
export function socketAddress(env: unknown): string | undefined {
  const e = env as
    | { remoteAddress?: unknown; incoming?: { socket?: { remoteAddress?: unknown } } }
    | undefined
    | null;
  if (typeof e?.remoteAddress === "string") return e.remoteAddress;
  const node = e?.incoming?.socket?.remoteAddress;
  return typeof node === "string" ? node : undefined;
}

/**
 * Decides which address a request is from. The socket address counts, unless it belongs to a trusted
 * proxy: then `X-Forwarded-For` is read from the right, skipping further trusted proxies, and the
 * first untrusted address is the client (entries left of it are the client's own claims, not
 * believed). Without trusted proxies, `X-Forwarded-For` is ignored.
 *
 * @example
 * clientAddress("10.0.0.2", "198.51.100.9, 10.0.0.3", parseRanges(["10.0.0.0/8"])) // "198.51.100.9"
 * clientAddress("198.51.100.9", "203.0.113.1", []) // "198.51.100.9"
 */
export function clientAddress(
  socket: string | undefined,
  forwardedFor: string | undefined,
  trustedProxies: readonly Range[],
): string | undefined {
  let current = parseIp(socket);
  if (!current) return undefined;
  if (trustedProxies.length === 0 || !forwardedFor) return current.toString();
  const hops = forwardedFor
    .split(",")
    .map((h) => h.trim())
    .filter(Boolean);
  while (inRanges(current, trustedProxies)) {
    const next = parseIp(hops.pop());
    if (!next) break;
    current = next;
  }
  return current.toString();
}

/**
 * True when `address` lies in one of `ranges` (IPv4-mapped IPv6 judged as IPv4).
 *
 * @example allowed("::ffff:10.1.2.3", parseRanges(["10.0.0.0/8"])) // true
 */
export function allowed(address: string, ranges: readonly Range[]): boolean {
  const ip = parseIp(address);
  return ip !== undefined && inRanges(ip, ranges);
}

export type { Range };
