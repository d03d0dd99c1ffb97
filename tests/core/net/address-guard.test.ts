import { describe, expect, it } from "bun:test";
import { HooklineError } from "../../../core/errors.ts";
import { AddressGuard } from "../../../core/net/address-guard.ts";

const guard = new AddressGuard({ allowNetworks: [] });
const refused = (ip: string, g = guard) => {
  const verdict = g.check(ip);
  return verdict.allowed ? undefined : verdict.reason;
};

describe("AddressGuard", () => {
  it.each([
    ["10.0.0.1", "private"],
    ["172.16.5.4", "private"],
    ["192.168.1.1", "private"],
    ["169.254.169.254", "link-local"],
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["::1", "loopback"],
    ["[::1]", "loopback"],
    ["::ffff:127.0.0.1", "loopback"],
    ["[::ffff:7f00:1]", "loopback"],
    ["::ffff:169.254.169.254", "link-local"],
    ["fd00::1", "unique-local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["::", "unspecified"],
    ["100.64.0.1", "carrier-grade NAT"],
    ["224.0.0.1", "multicast"],
    ["ff02::1", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["192.0.2.1", "reserved"],
    ["2001:db8::1", "reserved"],
    ["64:ff9b::a9fe:a9fe", "link-local"],
    ["2002:7f00:1::1", "loopback"],
    ["::7f00:1", "outside global unicast"],
    ["4000::1", "outside global unicast"],
    ["::127.0.0.1", "loopback"],
  ])("refuses %s (%s)", (ip, why) => {
    expect(refused(ip)).toContain(why);
  });

  it("names the IPv4 address inside an IPv4-mapped one", () => {
    expect(refused("::ffff:127.0.0.1")).toBe("::ffff:127.0.0.1 is IPv4-mapped 127.0.0.1, which is loopback");
  });

  it.each([
    "8.8.8.8",
    "1.1.1.1",
    "2001:4860::8888",
    "[2606:4700:4700::1111]",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
  ])("admits the public address %s", (ip) => {
    expect(guard.check(ip)).toEqual({ allowed: true });
  });

  it("refuses what is not an address", () => {
    expect(refused("example.com")).toContain("not an IP address");
    expect(refused("")).toContain("not an IP address");
  });

  it("admits allowNetworks matches only: 127.0.0.1/32 admits 127.0.0.1, not 127.0.0.2", () => {
    const g = new AddressGuard({ allowNetworks: ["127.0.0.1/32"] });
    expect(g.check("127.0.0.1")).toEqual({ allowed: true });
    expect(g.check("::ffff:127.0.0.1")).toEqual({ allowed: true });
    expect(refused("127.0.0.2", g)).toContain("loopback");
    expect(refused("::1", g)).toContain("loopback");
  });

  it("takes IPv6 networks in allowNetworks", () => {
    const g = new AddressGuard({ allowNetworks: ["fd00:1234::/32", "::1/128", "10.20.0.0/16"] });
    expect(g.check("fd00:1234::7")).toEqual({ allowed: true });
    expect(g.check("[::1]")).toEqual({ allowed: true });
    expect(g.check("10.20.255.1")).toEqual({ allowed: true });
    expect(refused("fd00:1235::7", g)).toContain("unique-local");
    expect(refused("10.21.0.1", g)).toContain("private");
  });

  it.each(["10.0.0.0", "10.0.0.0/33", "not-a-network", "::1/129"])(
    "throws HOOKLINE_CONFIG_NETWORK naming the invalid CIDR %s",
    (cidr) => {
      let error: unknown;
      try {
        new AddressGuard({ allowNetworks: ["127.0.0.1/32", cidr] });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(HooklineError);
      expect((error as HooklineError).code).toBe("HOOKLINE_CONFIG_NETWORK");
      expect((error as HooklineError).message).toContain(`"${cidr}"`);
    },
  );

  it("tells IP literals from names", () => {
    expect(guard.isIpLiteral("10.0.0.1")).toBe(true);
    expect(guard.isIpLiteral("[::1]")).toBe(true);
    expect(guard.isIpLiteral("::1")).toBe(true);
    expect(guard.isIpLiteral("localhost")).toBe(false);
    expect(guard.isIpLiteral("api.example.com")).toBe(false);
    expect(guard.isIpLiteral("xn--bcher-kva.de")).toBe(false);
  });
});
