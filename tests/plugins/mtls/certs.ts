import "reflect-metadata";
import * as x509 from "@peculiar/x509";

export interface Identity {
  cert: string;
  key: string;
}

const ALGORITHMS = {
  ec: { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" },
  rsa: {
    name: "RSASSA-PKCS1-v1_5",
    hash: "SHA-256",
    publicExponent: new Uint8Array([1, 0, 1]),
    modulusLength: 2048,
  },
  ed25519: { name: "Ed25519" },
} as const;

/**
 * A self-signed certificate and its PKCS#8 key, made with @peculiar/x509 and WebCrypto, valid from
 * `notBefore` to `notAfter` (so that expired and future certificates need no clock tricks).
 */
export async function selfSigned(
  cn: string,
  options: { kind?: keyof typeof ALGORITHMS; notBefore?: Date; notAfter?: Date } = {},
): Promise<Identity> {
  const alg = ALGORITHMS[options.kind ?? "ec"];
  const keys = (await crypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: `CN=${cn}`,
    notBefore: options.notBefore ?? new Date(Date.now() - 60_000),
    notAfter: options.notAfter ?? new Date(Date.now() + 86_400_000),
    signingAlgorithm: alg,
    keys,
  });
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", keys.privateKey);
  return { cert: cert.toString("pem"), key: x509.PemConverter.encode(pkcs8, "PRIVATE KEY") };
}

/** A PEM text as a YAML block scalar at the given indentation. */
export function yamlBlock(pem: string, indent = 6): string {
  const pad = " ".repeat(indent);
  return `|\n${pem
    .trim()
    .split("\n")
    .map((l) => pad + l)
    .join("\n")}`;
}
