import "reflect-metadata";
import { ECPrivateKey } from "@peculiar/asn1-ecc";
import { PrivateKeyInfo } from "@peculiar/asn1-pkcs8";
import { RSAPrivateKey, RSAPublicKey } from "@peculiar/asn1-rsa";
import { AsnConvert } from "@peculiar/asn1-schema";
import { SubjectPublicKeyInfo } from "@peculiar/asn1-x509";
import type { X509Certificate } from "@peculiar/x509";
import { type KeyFormat, MtlsError } from "./pem.ts";

const RSA = "1.2.840.113549.1.1.1";
const EC = "1.2.840.10045.2.1";

/** Whether a private key belongs to a certificate, as far as can be told without a crypto call. */
export type KeyVerdict = "match" | "mismatch" | "unknown";

const bytes = (b: ArrayBuffer | ArrayBufferView) =>
  b instanceof ArrayBuffer ? new Uint8Array(b) : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

/** Big-endian integers compared without their leading zero octets. */
function sameInteger(a: ArrayBuffer, b: ArrayBuffer): boolean {
  const strip = (x: Uint8Array) => {
    let i = 0;
    while (i < x.length && x[i] === 0) i++;
    return x.subarray(i);
  };
  return sameBytes(strip(bytes(a)), strip(bytes(b)));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function parseKey(der: Uint8Array, format: KeyFormat): { oid: string; inner: Uint8Array } {
  if (format !== "pkcs8") return { oid: format === "pkcs1" ? RSA : EC, inner: der };
  const info = AsnConvert.parse(der, PrivateKeyInfo);
  return { oid: info.privateKeyAlgorithm.algorithm, inner: bytes(info.privateKey.buffer) };
}

/**
 * Compares the public half of a private key with the certificate's, synchronously: RSA by modulus
 * and exponent, EC by the public point the key carries (OpenSSL writes it). Other keys (Ed25519, an
 * EC key without its point) are "unknown" and go to `keyMatchesCertificate`. A key that does not
 * parse throws `HOOKLINE_MTLS_PEM`.
 *
 * @example if (keyVerdict(leaf, keyDer, "pkcs8", "privateKey") === "mismatch") refuse()
 */
export function keyVerdict(
  certificate: X509Certificate,
  der: Uint8Array<ArrayBuffer>,
  format: KeyFormat,
  field: string,
): KeyVerdict {
  let key: { oid: string; inner: Uint8Array };
  try {
    key = parseKey(der, format);
  } catch (e) {
    throw new MtlsError(
      "HOOKLINE_MTLS_PEM",
      field,
      `the private key does not parse (${(e as Error).message})`,
      {
        cause: e,
      },
    );
  }
  const spki = AsnConvert.parse(certificate.publicKey.rawData, SubjectPublicKeyInfo);
  const certOid = spki.algorithm.algorithm;
  if (key.oid !== certOid) return "mismatch";
  try {
    if (certOid === RSA && key.oid === RSA) {
      const priv = AsnConvert.parse(key.inner, RSAPrivateKey);
      const pub = AsnConvert.parse(spki.subjectPublicKey, RSAPublicKey);
      return sameInteger(priv.modulus, pub.modulus) && sameInteger(priv.publicExponent, pub.publicExponent)
        ? "match"
        : "mismatch";
    }
    if (certOid === EC && key.oid === EC) {
      const priv = AsnConvert.parse(key.inner, ECPrivateKey);
      if (!priv.publicKey) return "unknown";
      const a = bytes(priv.publicKey);
      const b = bytes(spki.subjectPublicKey);
      // Same point in another encoding (compressed vs uncompressed) is for WebCrypto to judge.
      if (a.length !== b.length) return "unknown";
      return sameBytes(a, b) ? "match" : "mismatch";
    }
  } catch (e) {
    throw new MtlsError(
      "HOOKLINE_MTLS_PEM",
      field,
      `the private key does not parse (${(e as Error).message})`,
      {
        cause: e,
      },
    );
  }
  return "unknown";
}

/**
 * Compares key and certificate with WebCrypto: imports both, exports them as JWK and compares the
 * public members (`n`/`e`, `crv`/`x`/`y`). Only PKCS#8 keys can be imported; others throw.
 *
 * @example if (!(await keyMatchesCertificate(leaf, keyDer, "pkcs8", "privateKey"))) refuse()
 */
export async function keyMatchesCertificate(
  certificate: X509Certificate,
  der: Uint8Array<ArrayBuffer>,
  format: KeyFormat,
  field: string,
): Promise<boolean> {
  if (format !== "pkcs8")
    throw new MtlsError(
      "HOOKLINE_MTLS_KEY",
      field,
      `cannot confirm that this ${format.toUpperCase()} key belongs to the certificate; convert it to PKCS#8 (openssl pkcs8 -topk8 -nocrypt)`,
    );
  const base = certificate.publicKey.algorithm as { name: string; namedCurve?: string };
  const algorithm = base.name.startsWith("RSA") ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" } : base;
  let pub: JsonWebKey;
  let priv: JsonWebKey;
  try {
    const imported = await crypto.subtle.importKey("pkcs8", der, algorithm, true, ["sign"]);
    priv = await crypto.subtle.exportKey("jwk", imported);
    const spki = certificate.publicKey.rawData;
    pub = await crypto.subtle.exportKey(
      "jwk",
      await crypto.subtle.importKey("spki", spki, algorithm, true, ["verify"]),
    );
  } catch (e) {
    throw new MtlsError(
      "HOOKLINE_MTLS_KEY",
      field,
      `the private key cannot be used with a ${base.name} certificate (${(e as Error).message})`,
      { cause: e },
    );
  }
  return (["kty", "crv", "n", "e", "x", "y"] as const).every((k) => pub[k] === priv[k]);
}
