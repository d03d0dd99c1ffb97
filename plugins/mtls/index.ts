import type { X509Certificate } from "@peculiar/x509";
import { z } from "zod";
import {
  type AuthContext,
  type AuthIntegration,
  type AuthProvider,
  type Plugin,
  type TlsIdentity,
  Tokens,
  TransportError,
} from "../../core/plugin/index.ts";
import { type KeyVerdict, keyMatchesCertificate, keyVerdict } from "./key-match.ts";
import { assertValidAt, type KeyFormat, MtlsError, parseCertificates, privateKeyBlock } from "./pem.ts";
import { PemSource, type ReadFile, resolveSource } from "./sources.ts";

export { MtlsError } from "./pem.ts";
export { PemSource, type ReadFile } from "./sources.ts";

export const MtlsOptions = z
  .object({
    certificate: PemSource.describe("the client certificate (PEM), optionally followed by its chain"),
    privateKey: PemSource.describe("its unencrypted private key (PEM): secret, never shown or exported"),
    ca: PemSource.optional().describe("CA certificates (PEM) to trust for the server, besides the runtime's"),
  })
  .strict();
export type MtlsOptions = z.output<typeof MtlsOptions>;

export interface MtlsPluginOptions {
  /** Reads `{ file }` sources; runtime adapters pass theirs. A synchronous reader lets load-time checks cover files. */
  readFile?: ReadFile;
}

/** What the certificate says about itself (safe to show). */
export interface CertificateSummary {
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
}

/** An mTLS integration: the usual contract plus `ready()` and `certificate()` for listings. */
export interface MtlsIntegration extends AuthIntegration {
  /** Resolves once file and URL sources are loaded and checked; rejects with the reason if unusable. */
  ready(): Promise<void>;
  certificate(): CertificateSummary | undefined;
}

interface Material {
  identity: TlsIdentity;
  leaf: X509Certificate;
}

interface Inspected {
  material: Material;
  verdict: KeyVerdict;
  key: { der: Uint8Array<ArrayBuffer>; format: KeyFormat };
  secrets: string[];
}

function createMtls(o: MtlsOptions, context: AuthContext, plugin: MtlsPluginOptions): MtlsIntegration {
  const field = (f: string) => `integrations.${context.name}.${f}`;
  const io = { readFile: plugin.readFile, fetch: context.fetch };
  const secrets: string[] = [];
  let material: Material | undefined;
  let loading: Promise<Material> | undefined;

  const inspect = (certPem: string, keyPem: string, caPem: string | undefined): Inspected => {
    const cert = parseCertificates(certPem, field("certificate"));
    const leaf = cert.certificates[0]!;
    assertValidAt(leaf, new Date(), field("certificate"));
    const { format, block } = privateKeyBlock(keyPem, field("privateKey"));
    const keyText = [keyPem, block.lines.join(""), ...block.lines.filter((l) => l.length >= 16)];
    if (caPem !== undefined) parseCertificates(caPem, field("ca"));
    const verdict = keyVerdict(leaf, block.der, format, field("privateKey"));
    if (verdict === "mismatch") throw mismatch(leaf);
    return {
      material: { identity: { cert: certPem, key: keyPem, ...(caPem ? { ca: caPem } : {}) }, leaf },
      verdict,
      key: { der: block.der, format },
      secrets: [...keyText, certPem, ...cert.blocks.flatMap((b) => b.lines.filter((l) => l.length >= 16))],
    };
  };
  const mismatch = (leaf: X509Certificate) =>
    new MtlsError(
      "HOOKLINE_MTLS_KEY_MISMATCH",
      field("privateKey"),
      `the private key does not belong to the certificate "${leaf.subject}" (their public keys differ)`,
    );
  const confirm = async (r: Inspected): Promise<Material> => {
    if (
      r.verdict === "unknown" &&
      !(await keyMatchesCertificate(r.material.leaf, r.key.der, r.key.format, field("privateKey")))
    )
      throw mismatch(r.material.leaf);
    material = r.material;
    return r.material;
  };
  const sources = () => [
    resolveSource(o.certificate, field("certificate"), io),
    resolveSource(o.privateKey, field("privateKey"), io),
    o.ca === undefined ? undefined : resolveSource(o.ca, field("ca"), io),
  ];
  const loadAsync = (started?: ReturnType<typeof sources>): Promise<Material> => {
    loading = Promise.resolve()
      .then(() => Promise.all(started ?? sources()))
      .then(([c, k, a]) => {
        const r = inspect(c!, k!, a);
        secrets.push(...r.secrets);
        return confirm(r);
      })
      .catch((e: unknown) => {
        // A URL that got no answer may answer later: the next request tries again.
        if (e instanceof TransportError) loading = undefined;
        throw e;
      });
    loading.catch((e: unknown) =>
      context.logger.log("error", "mtls.not_usable", {
        integration: context.name,
        reason: (e as Error).message,
      }),
    );
    return loading;
  };

  // Inline text (and files from a synchronous reader) is checked now, so that a bad certificate
  // stops the app from loading; URLs and asynchronous readers are checked as soon as they answer.
  const now = sources();
  if (now.every((s) => typeof s === "string" || s === undefined)) {
    const r = inspect(now[0] as string, now[1] as string, now[2] as string | undefined);
    secrets.push(...r.secrets);
    if (r.verdict === "match") material = r.material;
    else {
      loading = confirm(r);
      loading.catch(() => undefined);
    }
  } else {
    loadAsync(now);
  }
  const usable = async (): Promise<Material> => material ?? (await (loading ?? loadAsync()));

  return {
    secrets: () => secrets,
    async authorize(request) {
      const m = await usable();
      // A certificate valid at load may expire while the app runs.
      assertValidAt(m.leaf, new Date(), field("certificate"));
      return request;
    },
    tlsIdentity: () => material?.identity,
    ready: async () => void (await usable()),
    certificate: () =>
      material && {
        subject: material.leaf.subject,
        issuer: material.leaf.issuer,
        notBefore: material.leaf.notBefore.toISOString(),
        notAfter: material.leaf.notAfter.toISOString(),
      },
  };
}

/**
 * mTLS as an authentication kind: a PEM client certificate and unencrypted key (inline, a file or
 * an https URL), checked when the app loads (parse, validity dates, key belongs to certificate),
 * handed to the transport as the TLS client identity.
 *
 * @example
 * const provider = mtlsProvider({ readFile: (p) => readFileSync(p, "utf8") });
 */
export function mtlsProvider(plugin: MtlsPluginOptions = {}): AuthProvider<MtlsOptions> {
  return {
    kind: "mtls",
    schema: MtlsOptions,
    secretFields: ["privateKey"],
    // A new certificate needs its key again (Bloomreach asks for both on every change).
    secretsRequiredOnChange: ["certificate"],
    create: (o, context) => createMtls(o, context, plugin),
  };
}

/**
 * @example
 * createHookline({ plugins: [...defaultPlugins(), mtls({ readFile: (p) => readFileSync(p, "utf8") })] })
 */
export const mtls = (options: MtlsPluginOptions = {}): Plugin => ({
  name: "mtls",
  register(container) {
    container.register(Tokens.AuthProvider, { useValue: mtlsProvider(options) });
  },
});
