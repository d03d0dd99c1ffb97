import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startSink, type TestPki, testPki } from "../../support/http-sink.ts";
import { env } from "./runtime.ts";

/** The TLS server that requires client certificates, and the PKI to reach it. */
export interface MtlsServer {
  url: string;
  pki: TestPki;
  close(): Promise<void>;
}

/**
 * The one TLS server requiring client certificates that every runtime's leg talks to: the runner
 * (tests/runtimes/run.ts) starts it and names it in HOOKLINE_MTLS_SERVER (a JSON file with `url` and
 * the PKI). Without the runner (`bun test`), this process starts its own. It answers
 * `hello <client certificate CN>`.
 *
 * @example const server = await mtlsServer(); … await server.close();
 */
export async function mtlsServer(): Promise<MtlsServer> {
  const shared = env("HOOKLINE_MTLS_SERVER");
  if (shared) {
    const { url, pki } = JSON.parse(readFileSync(shared, "utf8")) as { url: string; pki: TestPki };
    return { url, pki, close: async () => undefined };
  }
  return startMtlsServer();
}

/**
 * Starts a TLS server on loopback that refuses clients without a certificate from the test CA.
 *
 * @example const server = await startMtlsServer();
 */
export async function startMtlsServer(): Promise<MtlsServer> {
  const pki = testPki();
  const sink = await startSink((r) => ({ body: `hello ${r.clientCert ?? "anonymous"}` }), {
    tls: { ...pki.server, ca: pki.ca, requestCert: true },
  });
  return { url: sink.url, pki, close: () => sink.close() };
}

/**
 * A client identity the test CA never signed (self-signed, CN `stranger`): a server requiring
 * certificates from that CA refuses it.
 *
 * @example const stranger = strangerIdentity();
 */
export function strangerIdentity(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), "hookline-stranger-"));
  try {
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        join(dir, "k.pem"),
        "-out",
        join(dir, "c.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=stranger",
      ],
      { stdio: "pipe" },
    );
    return { cert: readFileSync(join(dir, "c.pem"), "utf8"), key: readFileSync(join(dir, "k.pem"), "utf8") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
