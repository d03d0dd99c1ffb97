// @peculiar/x509 resolves its helpers through tsyringe, which needs the Reflect metadata polyfill.
import "reflect-metadata";
import { X509Certificate } from "@peculiar/x509";
import { type ErrorCode, HooklineError } from "../../core/plugin/index.ts";

/** An mTLS integration's material could not be used; `field` names the config field at fault. */
export class MtlsError extends HooklineError {
  readonly field: string;
  constructor(
    code: Extract<ErrorCode, `HOOKLINE_MTLS_${string}`>,
    field: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, `${field}: ${message}`, options);
    this.name = "MtlsError";
    this.field = field;
  }
}

/** One `-----BEGIN X-----` … `-----END X-----` block, decoded. */
export interface PemBlock {
  label: string;
  der: Uint8Array<ArrayBuffer>;
  /** The base64 lines as written, for redaction. */
  lines: string[];
}

/**
 * Splits PEM text into its blocks (RFC 7468), refusing what is not PEM with a message that names
 * the field and what was wrong: no block at all, a BEGIN without its END, legacy encryption headers,
 * a body that is not base64. Text between blocks (OpenSSL's "Bag Attributes", comments) is ignored.
 *
 * @example pemBlocks(certificatePem, "certificate")[0].label // "CERTIFICATE"
 */
export function pemBlocks(text: string, field: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;
  for (const m of text.matchAll(re)) {
    const [, label, body, end] = m as unknown as [string, string, string, string];
    if (end !== label)
      throw new MtlsError(
        "HOOKLINE_MTLS_PEM",
        field,
        `the PEM block "BEGIN ${label}" ends with "END ${end}"`,
      );
    if (/Proc-Type:\s*4,ENCRYPTED/i.test(body))
      throw new MtlsError(
        "HOOKLINE_MTLS_ENCRYPTED_KEY",
        field,
        "the key is password-protected (Proc-Type: 4,ENCRYPTED); give an unencrypted key",
      );
    const lines = body
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.includes(":"));
    const b64 = lines.join("");
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0)
      throw new MtlsError(
        "HOOKLINE_MTLS_PEM",
        field,
        `the body of the PEM block "${label}" is not valid base64`,
      );
    blocks.push({ label, der: Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)), lines });
  }
  if (blocks.length === 0) {
    const begin = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text);
    throw new MtlsError(
      "HOOKLINE_MTLS_PEM",
      field,
      begin
        ? `the PEM block "BEGIN ${begin[1]}" has no matching "-----END ${begin[1]}-----" line`
        : 'expected PEM text (a "-----BEGIN …-----" line); to read a file or a URL write { file: path } or { url: https://… }',
    );
  }
  return blocks;
}

/**
 * Parses every CERTIFICATE block of a PEM field (a chain or a CA bundle); the first is the leaf.
 *
 * @example const [leaf] = parseCertificates(pem, "certificate");
 */
export function parseCertificates(
  text: string,
  field: string,
): { certificates: X509Certificate[]; blocks: PemBlock[] } {
  const blocks = pemBlocks(text, field);
  const certificates = blocks.map((b, i) => {
    if (b.label !== "CERTIFICATE")
      throw new MtlsError(
        "HOOKLINE_MTLS_PEM",
        field,
        `expected CERTIFICATE blocks, found "${b.label}"${b.label.includes("PRIVATE KEY") ? " (are certificate and privateKey swapped?)" : ""}`,
      );
    try {
      return new X509Certificate(b.der);
    } catch (e) {
      throw new MtlsError(
        "HOOKLINE_MTLS_PEM",
        field,
        `certificate block ${i + 1} is not a valid X.509 certificate (${(e as Error).message})`,
        { cause: e },
      );
    }
  });
  return { certificates, blocks };
}

/** The private key formats Node, Bun and Deno accept for a TLS client. */
export type KeyFormat = "pkcs8" | "pkcs1" | "sec1";

/**
 * Finds the one unencrypted private key block of the privateKey field: PKCS#8 (`PRIVATE KEY`),
 * PKCS#1 (`RSA PRIVATE KEY`) or SEC1 (`EC PRIVATE KEY`).
 *
 * @example const { format, block } = privateKeyBlock(pem, "privateKey");
 */
export function privateKeyBlock(text: string, field: string): { format: KeyFormat; block: PemBlock } {
  const blocks = pemBlocks(text, field);
  const formats: Record<string, KeyFormat> = {
    "PRIVATE KEY": "pkcs8",
    "RSA PRIVATE KEY": "pkcs1",
    "EC PRIVATE KEY": "sec1",
  };
  if (blocks.some((b) => b.label === "ENCRYPTED PRIVATE KEY"))
    throw new MtlsError(
      "HOOKLINE_MTLS_ENCRYPTED_KEY",
      field,
      "the key is password-protected (ENCRYPTED PRIVATE KEY); give an unencrypted key (openssl pkcs8 -topk8 -nocrypt)",
    );
  const keys = blocks.filter((b) => formats[b.label]);
  if (keys.length !== 1) {
    const found = blocks.map((b) => `"${b.label}"`).join(", ");
    throw new MtlsError(
      "HOOKLINE_MTLS_PEM",
      field,
      keys.length === 0
        ? `expected a PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block, found ${found}${found.includes("CERTIFICATE") ? " (are certificate and privateKey swapped?)" : ""}`
        : `expected one private key, found ${keys.length}`,
    );
  }
  const block = keys[0]!;
  return { format: formats[block.label]!, block };
}

/**
 * Throws `HOOKLINE_MTLS_NOT_YET_VALID` or `HOOKLINE_MTLS_EXPIRED` unless `now` lies within the
 * certificate's validity, with its subject and both dates in the message.
 *
 * @example assertValidAt(leaf, new Date(), "certificate");
 */
export function assertValidAt(certificate: X509Certificate, now: Date, field: string): void {
  const span = `valid from ${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()}, now is ${now.toISOString()}`;
  if (now < certificate.notBefore)
    throw new MtlsError(
      "HOOKLINE_MTLS_NOT_YET_VALID",
      field,
      `the certificate "${certificate.subject}" is not valid yet (${span})`,
    );
  if (now > certificate.notAfter)
    throw new MtlsError(
      "HOOKLINE_MTLS_EXPIRED",
      field,
      `the certificate "${certificate.subject}" has expired (${span})`,
    );
}
