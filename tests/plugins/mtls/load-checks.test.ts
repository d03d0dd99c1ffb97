import { afterAll, beforeAll, describe, expect, it } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AuthContext } from "../../../core/contracts/auth.ts";
import { HooklineError } from "../../../core/errors.ts";
import { type MtlsIntegration, MtlsOptions, mtls, mtlsProvider } from "../../../plugins/mtls/index.ts";
import { testApp } from "../../support/app.ts";
import { storeKinds } from "../../support/db.ts";
import { testPki } from "../../support/http-sink.ts";
import { type Identity, selfSigned, yamlBlock } from "./certs.ts";

type Driver = Awaited<ReturnType<(typeof storeKinds)[number]["open"]>>;

const logs: string[] = [];
const context: AuthContext = {
  name: "bank",
  endpointPrefix: "https://bank.example.com/api",
  logger: { log: (level, message, fields) => logs.push(JSON.stringify({ level, message, ...fields })) },
  fetch: () => Promise.reject(new Error("no fetch in this test")),
  state: { get: async () => undefined, set: async () => undefined, delete: async () => undefined },
};
const create = (options: Record<string, unknown>, plugin = {}) =>
  mtlsProvider(plugin).create(MtlsOptions.parse(options), context) as MtlsIntegration;
const failure = (f: () => unknown): HooklineError => {
  try {
    f();
  } catch (e) {
    return e as HooklineError;
  }
  throw new Error("expected an error");
};

describe("mtls load-time checks", () => {
  let driver: Driver;
  let expired: Identity;
  let future: Identity;
  let rsaA: Identity;
  let rsaB: Identity;
  let edA: Identity;
  let edB: Identity;
  const pki = testPki();

  beforeAll(async () => {
    driver = await storeKinds[0]!.open();
    expired = await selfSigned("expired-client", {
      notBefore: new Date("2020-01-01T00:00:00Z"),
      notAfter: new Date("2020-02-01T00:00:00Z"),
    });
    future = await selfSigned("future-client", {
      notBefore: new Date(Date.now() + 86_400_000),
      notAfter: new Date(Date.now() + 2 * 86_400_000),
    });
    [rsaA, rsaB, edA, edB] = await Promise.all([
      selfSigned("rsa-a", { kind: "rsa" }),
      selfSigned("rsa-b", { kind: "rsa" }),
      selfSigned("ed-a", { kind: "ed25519" }),
      selfSigned("ed-b", { kind: "ed25519" }),
    ]);
  });
  afterAll(() => driver.dispose());

  it("refuses an expired certificate when the app loads, with its subject and dates", async () => {
    const error = await testApp(
      `
integrations:
  bank:
    kind: mtls
    endpointPrefix: https://bank.example.com/api
    certificate: ${yamlBlock(expired.cert)}
    privateKey: ${yamlBlock(expired.key)}
`,
      driver,
      { plugins: [mtls()] },
    ).catch((e: unknown) => e as HooklineError);
    expect(error).toBeInstanceOf(HooklineError);
    expect(error.code).toBe("HOOKLINE_MTLS_EXPIRED");
    expect(error.message).toContain("integrations.bank.certificate");
    expect(error.message).toContain("CN=expired-client");
    expect(error.message).toContain("2020-01-01T00:00:00.000Z");
    expect(error.message).toContain("2020-02-01T00:00:00.000Z");
    expect(error.message).not.toContain(expired.key.split("\n")[1]!);
  });

  it("refuses a certificate that is not valid yet", () => {
    const e = failure(() => create({ certificate: future.cert, privateKey: future.key }));
    expect(e.code).toBe("HOOKLINE_MTLS_NOT_YET_VALID");
    expect(e.message).toContain("CN=future-client");
  });

  it("accepts a matching EC key and hands the identity to the transport", async () => {
    const i = create({ certificate: pki.client.cert, privateKey: pki.client.key, ca: { pem: pki.ca } });
    expect(i.tlsIdentity?.()).toEqual({ cert: pki.client.cert, key: pki.client.key, ca: pki.ca });
    expect(i.certificate()?.subject).toBe("CN=hookline-test-client");
    expect(i.secrets()).toContain(pki.client.key);
    await i.ready();
  });

  it("refuses an EC key that belongs to another certificate", () => {
    const e = failure(() => create({ certificate: pki.client.cert, privateKey: pki.server.key }));
    expect(e.code).toBe("HOOKLINE_MTLS_KEY_MISMATCH");
    expect(e.message).toContain("integrations.bank.privateKey");
    expect(e.message).toContain("CN=hookline-test-client");
  });

  it("refuses an RSA key that belongs to another certificate, and accepts its own", () => {
    expect(failure(() => create({ certificate: rsaA.cert, privateKey: rsaB.key })).code).toBe(
      "HOOKLINE_MTLS_KEY_MISMATCH",
    );
    expect(create({ certificate: rsaA.cert, privateKey: rsaA.key }).tlsIdentity?.()?.cert).toBe(rsaA.cert);
  });

  it("refuses a key of another algorithm than the certificate's", () => {
    expect(failure(() => create({ certificate: rsaA.cert, privateKey: pki.client.key })).code).toBe(
      "HOOKLINE_MTLS_KEY_MISMATCH",
    );
  });

  it("checks an Ed25519 key with WebCrypto before first use", async () => {
    await create({ certificate: edA.cert, privateKey: edA.key }).ready();
    const wrong = create({ certificate: edA.cert, privateKey: edB.key });
    const e = await wrong.ready().catch((x: unknown) => x as HooklineError);
    expect(e.code).toBe("HOOKLINE_MTLS_KEY_MISMATCH");
    const request = { method: "GET" as const, url: "https://bank.example.com/api/x", headers: {} };
    expect(
      ((await Promise.resolve(wrong.authorize(request, {})).catch((x: unknown) => x)) as HooklineError).code,
    ).toBe("HOOKLINE_MTLS_KEY_MISMATCH");
    expect(wrong.tlsIdentity?.()).toBeUndefined();
  });

  it("names the field and the reason for malformed PEM", () => {
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ certificate: "hello", privateKey: pki.client.key }, "certificate", /expected PEM text/],
      [
        { certificate: pki.client.key, privateKey: pki.client.key },
        "certificate",
        /found "PRIVATE KEY".*swapped/,
      ],
      [
        { certificate: pki.client.cert, privateKey: pki.client.cert },
        "privateKey",
        /found "CERTIFICATE".*swapped/,
      ],
      [
        {
          certificate: pki.client.cert.replace(/-----END CERTIFICATE-----\s*$/, ""),
          privateKey: pki.client.key,
        },
        "certificate",
        /no matching "-----END CERTIFICATE-----"/,
      ],
      [
        { certificate: pki.client.cert, privateKey: pki.client.key.replace(/\n([A-Za-z0-9])/, "\n!$1") },
        "privateKey",
        /not valid base64/,
      ],
      [
        {
          certificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
          privateKey: pki.client.key,
        },
        "certificate",
        /not a valid X\.509 certificate/,
      ],
      [
        {
          certificate: pki.client.cert,
          privateKey: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        },
        "privateKey",
        /private key does not parse/,
      ],
      [{ certificate: pki.client.cert, privateKey: pki.client.key, ca: "nope" }, "ca", /expected PEM text/],
    ];
    for (const [options, field, why] of cases) {
      const e = failure(() => create(options));
      expect(e.code).toBe("HOOKLINE_MTLS_PEM");
      expect(e.message).toStartWith(`integrations.bank.${field}: `);
      expect(e.message).toMatch(why);
    }
  });

  it("refuses a password-protected key, saying so", () => {
    const dir = mkdtempSync(join(tmpdir(), "hookline-mtls-"));
    try {
      writeFileSync(join(dir, "k.pem"), pki.client.key);
      execFileSync("openssl", [
        "pkcs8",
        "-topk8",
        "-in",
        join(dir, "k.pem"),
        "-out",
        join(dir, "e.pem"),
        "-passout",
        "pass:pw",
      ]);
      const encrypted = readFileSync(join(dir, "e.pem"), "utf8");
      const e = failure(() => create({ certificate: pki.client.cert, privateKey: encrypted }));
      expect(e.code).toBe("HOOKLINE_MTLS_ENCRYPTED_KEY");
      expect(e.message).toContain("integrations.bank.privateKey");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("reads file sources with a synchronous reader at load, so an expired file is refused at once", () => {
    const files: Record<string, string> = { "/c.pem": expired.cert, "/k.pem": expired.key };
    const readFile = (p: string) => files[p] ?? "";
    expect(
      failure(() => create({ certificate: { file: "/c.pem" }, privateKey: { file: "/k.pem" } }, { readFile }))
        .code,
    ).toBe("HOOKLINE_MTLS_EXPIRED");
  });

  it("reads file sources with an asynchronous reader before first use", async () => {
    const files: Record<string, string> = { "/c.pem": pki.client.cert, "/k.pem": pki.client.key };
    const readFile = async (p: string) => new TextEncoder().encode(files[p]);
    const i = create({ certificate: { file: "/c.pem" }, privateKey: { file: "/k.pem" } }, { readFile });
    await i.ready();
    expect(i.tlsIdentity?.()?.key).toBe(pki.client.key);
    const missing = create(
      { certificate: { file: "/c.pem" }, privateKey: { file: "/nope.pem" } },
      {
        readFile: async (p: string) => {
          if (!files[p]) throw new Error(`ENOENT: no such file, open '${p}'`);
          return files[p]!;
        },
      },
    );
    const e = await missing.ready().catch((x: unknown) => x as HooklineError);
    expect(e.code).toBe("HOOKLINE_MTLS_SOURCE");
    expect(e.message).toContain("integrations.bank.privateKey: cannot read /nope.pem");
  });

  it("refuses a file source when the app has no file reader", () => {
    const e = failure(() => create({ certificate: { file: "/c.pem" }, privateKey: pki.client.key }));
    expect(e.code).toBe("HOOKLINE_MTLS_SOURCE");
    expect(e.message).toContain("readFile");
  });
});
