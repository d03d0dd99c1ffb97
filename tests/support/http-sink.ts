import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createNetServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createTlsServer, type TLSSocket, type Server as TlsServer } from "node:tls";

/** One request as the sink received it. */
export interface SinkRequest {
  method: string;
  /** Path and query, as sent. */
  url: string;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: string;
  /** The common name of the TLS client certificate, when one was presented. */
  clientCert?: string;
  /** The server name the TLS client sent (SNI), when it sent one. */
  serverName?: string;
  /** When the request arrived (performance.now(), ms). */
  at: number;
}

/** How the sink answers one request; every field is optional (default: 200, empty body). */
export interface SinkReply {
  status?: number;
  headers?: Record<string, string | string[]>;
  body?: string | Uint8Array;
  /** Wait this long before answering. */
  delayMs?: number;
  /** Send the body in these pieces after the headers, `intervalMs` apart (a slow or trickling body). */
  chunks?: (string | Uint8Array)[];
  intervalMs?: number;
  /** Never answer; the connection stays open until the sink closes. */
  hang?: boolean;
  /** Destroy the socket instead of answering (a peer that dies mid-request). */
  destroy?: boolean;
}

/** Decides the answer to each request; `index` counts requests from 0. */
export type SinkHandler = (
  request: SinkRequest,
  index: number,
) => SinkReply | undefined | Promise<SinkReply | undefined>;

export interface SinkOptions {
  /** Address to listen on (default 127.0.0.1; `::1` for IPv6 loopback). */
  host?: string;
  /** Port to listen on (default: a free one). */
  port?: number;
  /** Serve HTTPS with this identity; `requestCert` asks clients for a certificate signed by `ca`. */
  tls?: { key: string; cert: string; ca?: string; requestCert?: boolean };
}

export interface Sink {
  /** `http://127.0.0.1:PORT` (no trailing slash): append the path. */
  url: string;
  host: string;
  port: number;
  /** Every request received, in order. */
  requests: SinkRequest[];
  /** TCP connections accepted so far (a request refused before connecting leaves this at 0). */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * Starts a recording HTTP(S) server on a free loopback port. Without a handler every request gets an
 * empty 200.
 *
 * @example
 * const sink = await startSink((req) => (req.method === "POST" ? { status: 503 } : { body: "ok" }));
 * await fetch(`${sink.url}/hook`, { method: "POST" });
 * expect(sink.requests[0]?.method).toBe("POST");
 * await sink.close();
 */
export async function startSink(handler?: SinkHandler, options: SinkOptions = {}): Promise<Sink> {
  const host = options.host ?? "127.0.0.1";
  const requests: SinkRequest[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;

  const onRequest = async (req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    for await (const chunk of req) parts.push(chunk as Buffer);
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const peer = (req.socket as Partial<TLSSocket>).getPeerCertificate?.();
    const serverName = (req.socket as Partial<TLSSocket>).servername;
    const recorded: SinkRequest = {
      method: req.method ?? "",
      url: req.url ?? "",
      headers,
      body: Buffer.concat(parts).toString("utf8"),
      ...(peer?.subject?.CN ? { clientCert: String(peer.subject.CN) } : {}),
      ...(typeof serverName === "string" ? { serverName } : {}),
      at: performance.now(),
    };
    const index = requests.push(recorded) - 1;
    let reply: SinkReply;
    try {
      reply = (await handler?.(recorded, index)) ?? {};
    } catch (e) {
      reply = { status: 500, body: `sink handler failed: ${(e as Error).message}` };
    }
    if (reply.delayMs) await sleep(reply.delayMs);
    if (reply.hang) return;
    if (reply.destroy) {
      req.socket.destroy();
      return;
    }
    res.writeHead(reply.status ?? 200, reply.headers);
    if (reply.chunks) {
      res.flushHeaders();
      for (const chunk of reply.chunks) {
        if (res.destroyed) return;
        res.write(chunk);
        if (reply.intervalMs) await sleep(reply.intervalMs);
      }
    }
    res.end(reply.body);
  };

  const http = createHttpServer((req, res) => void onRequest(req, res));
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  };
  // Answer garbage (a TLS hello sent to a plain port) the way Node does, rather than with a reset.
  http.on("clientError", (_e: Error, socket: Socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
    else socket.destroy();
  });
  let server: Server | TlsServer = http;
  if (options.tls) {
    const { key, cert, ca, requestCert = false } = options.tls;
    // TLS in front of the plain HTTP server: node:https under Bun hides the client certificate.
    server = createTlsServer(
      { key, cert, ...(ca ? { ca } : {}), requestCert, rejectUnauthorized: requestCert },
      (socket) => {
        track(socket);
        http.emit("connection", socket);
      },
    );
    // A client that gives up mid-handshake (a refused certificate, a probe) is not a sink failure.
    server.on("tlsClientError", () => undefined);
  }
  server.on("connection", (socket: Socket) => {
    connections++;
    track(socket);
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return {
    url: `${options.tls ? "https" : "http"}://${urlHost}:${port}`,
    host,
    port,
    requests,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
        http.close();
      }),
  };
}

/**
 * A port on `host` with nothing listening (bound, then released): connecting to it is refused.
 *
 * @example const url = `http://127.0.0.1:${await unusedPort()}/`;
 */
export async function unusedPort(host = "127.0.0.1"): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, host, () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** PEM material for TLS tests: a CA, a server identity for 127.0.0.1 and localhost, a client identity. */
export interface TestPki {
  ca: string;
  server: { cert: string; key: string };
  client: { cert: string; key: string };
}

let pki: TestPki | undefined;

/** A certificate to issue: its subject CN and its OpenSSL extensions (subjectAltName, key usage). */
export interface CertSpec {
  cn: string;
  ext: string;
}

/**
 * Makes a throwaway CA named `caName` and issues one certificate per entry of `certs` with the
 * `openssl` command line (EC P-256, two days).
 *
 * @example const { ca, server } = issuePki("my-ca", { server: { cn: "localhost", ext: "subjectAltName=DNS:localhost\n" } });
 */
export function issuePki<K extends string>(
  caName: string,
  certs: Record<K, CertSpec>,
): { ca: string } & Record<K, { cert: string; key: string }> {
  const dir = mkdtempSync(join(tmpdir(), "hookline-pki-"));
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  try {
    openssl(
      "req",
      "-x509",
      ...ec,
      "-keyout",
      at("ca.key"),
      "-out",
      at("ca.crt"),
      "-days",
      "2",
      "-subj",
      `/CN=${caName}`,
    );
    const issued: Record<string, { cert: string; key: string }> = {};
    for (const [name, { cn, ext }] of Object.entries(certs) as Array<[string, CertSpec]>) {
      writeFileSync(at(`${name}.ext`), ext);
      openssl("req", ...ec, "-keyout", at(`${name}.key`), "-out", at(`${name}.csr`), "-subj", `/CN=${cn}`);
      openssl(
        "x509",
        "-req",
        "-in",
        at(`${name}.csr`),
        "-CA",
        at("ca.crt"),
        "-CAkey",
        at("ca.key"),
        "-CAcreateserial",
        "-out",
        at(`${name}.crt`),
        "-days",
        "2",
        "-extfile",
        at(`${name}.ext`),
      );
      issued[name] = {
        cert: readFileSync(at(`${name}.crt`), "utf8"),
        key: readFileSync(at(`${name}.key`), "utf8"),
      };
    }
    return { ca: readFileSync(at("ca.crt"), "utf8"), ...issued } as { ca: string } & Record<
      K,
      { cert: string; key: string }
    >;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Makes (once per process) a throwaway CA with a server and a client certificate, using the
 * `openssl` command line. The client certificate's CN is `hookline-test-client`.
 *
 * @example
 * const pki = testPki();
 * const sink = await startSink(undefined, { tls: { ...pki.server, ca: pki.ca, requestCert: true } });
 */
export function testPki(): TestPki {
  pki ??= issuePki("hookline-test-ca", {
    server: {
      cn: "localhost",
      ext: "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    },
    client: { cn: "hookline-test-client", ext: "extendedKeyUsage=clientAuth\n" },
  });
  return pki;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
