/**
 * Runs the edge worker locally in a real workerd (the `workerd` npm binary) with a generated capnp
 * config: text bindings for DATABASE_URL and secrets, outbound TCP allowed to loopback and private
 * networks (Postgres on 127.0.0.1), optional service bindings standing in for Cloudflare's mTLS
 * certificate bindings.
 *
 *   bun scripts/edge-local.ts --config examples/cloudflare-worker-inbound/hookline.yaml \
 *     --database-url postgres://postgres@127.0.0.1:5432/hookline [--port 8787] [--var NAME=value …]
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildEdge } from "./build-edge.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** A service binding to a TLS server that presents a client certificate (Cloudflare's mTLS binding, locally). */
export interface MtlsServiceBinding {
  /** `host:port` of the server. */
  address: string;
  /** The host name the server's certificate is checked against. */
  certificateHost: string;
  cert: string;
  key: string;
  /** CA certificates to trust for the server. */
  ca?: string;
}

export interface EdgeWorkerProcess {
  url: string;
  port: number;
  /** Milliseconds from spawning workerd until it accepted a connection. */
  listeningMs: number;
  /** What workerd printed (the worker's console output included). */
  output: string[];
  stop(): Promise<void>;
}

export interface StartEdgeOptions {
  /** The bundle `buildEdge` wrote. */
  bundle: string;
  /** Text bindings: DATABASE_URL, secrets, HOOKLINE_LOG_LEVEL. */
  vars: Record<string, string>;
  /** Service bindings presenting client certificates, by binding name (`MTLS_BANK`). */
  mtls?: Record<string, MtlsServiceBinding>;
  port?: number;
}

const capnpText = (s: string) => JSON.stringify(s);

/**
 * The capnp config for one worker: its bundle, bindings and a socket.
 *
 * @example await writeFile("config.capnp", workerdConfig({ bundle: "worker.js", vars: {}, port: 8787 }));
 */
export function workerdConfig(o: {
  bundle: string;
  vars: Record<string, string>;
  mtls?: Record<string, MtlsServiceBinding>;
  port: number;
}): string {
  const mtls = Object.entries(o.mtls ?? {});
  const bindings = [
    ...Object.entries(o.vars).map(
      ([name, value]) => `(name = ${capnpText(name)}, text = ${capnpText(value)})`,
    ),
    ...mtls.map(([name], i) => `(name = ${capnpText(name)}, service = "mtls${i}")`),
  ];
  const services = [
    `(name = "main", worker = .edge)`,
    // Local runs reach Postgres on loopback; Cloudflare's own outbound refuses private addresses.
    `(name = "internet", network = (allow = ["public", "private", "local"]))`,
    ...mtls.map(
      ([, m], i) => `(name = "mtls${i}", external = (address = ${capnpText(m.address)}, https = (
        options = (),
        tlsOptions = (keypair = (privateKey = ${capnpText(m.key)}, certificateChain = ${capnpText(m.cert)})${
          m.ca ? `, trustedCertificates = [${capnpText(m.ca)}]` : ""
        }),
        certificateHost = ${capnpText(m.certificateHost)})))`,
    ),
  ];
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ ${services.join(",\n    ")} ],
  sockets = [ (name = "http", address = "127.0.0.1:${o.port}", http = (), service = "main") ],
);
const edge :Workerd.Worker = (
  modules = [ (name = "worker.js", esModule = embed ${capnpText(basename(o.bundle))}) ],
  compatibilityDate = "2025-06-01",
  compatibilityFlags = ["nodejs_compat"],
  bindings = [ ${bindings.join(",\n    ")} ],
  globalOutbound = "internet",
);
`;
}

/**
 * A free TCP port on loopback.
 *
 * @example const port = await freePort();
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/**
 * Starts workerd serving the edge bundle; resolves once it accepts connections.
 *
 * @example const edge = await startEdgeWorker({ bundle: "edge/dist/worker.js", vars: { DATABASE_URL } });
 */
export async function startEdgeWorker(o: StartEdgeOptions): Promise<EdgeWorkerProcess> {
  const port = o.port ?? (await freePort());
  const dir = dirname(resolve(o.bundle));
  const config = join(dir, `workerd-${port}.capnp`);
  await writeFile(config, workerdConfig({ ...o, port }));
  const output: string[] = [];
  const started = performance.now();
  const child: ChildProcess = spawn(
    join(root, "tests", "runtimes", "node_modules", ".bin", "workerd"),
    ["serve", config],
    {
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  for (const stream of [child.stdout, child.stderr])
    stream?.on("data", (chunk: Buffer) => output.push(...chunk.toString().split("\n").filter(Boolean)));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    await rm(config, { force: true });
  };
  for (;;) {
    if (child.exitCode !== null) throw new Error(`workerd exited (${child.exitCode}): ${output.join("\n")}`);
    if (await connects(port)) break;
    if (performance.now() - started > 20_000) {
      await stop();
      throw new Error(`workerd did not listen within 20 s: ${output.join("\n")}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  return { url: `http://127.0.0.1:${port}`, port, listeningMs: performance.now() - started, output, stop };
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(port);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

function options(argv: string[]): {
  config?: string;
  databaseUrl?: string;
  port?: number;
  vars: Record<string, string>;
} {
  const vars: Record<string, string> = {};
  let config: string | undefined;
  let databaseUrl: string | undefined;
  let port: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--config") config = argv[++i];
    else if (a === "--database-url") databaseUrl = argv[++i];
    else if (a === "--port") port = Number(argv[++i]);
    else if (a === "--var") {
      const [k, ...v] = (argv[++i] ?? "").split("=");
      if (k) vars[k] = v.join("=");
    }
  }
  return { config, databaseUrl, port, vars };
}

async function main(argv: string[]): Promise<number> {
  const o = options(argv);
  const databaseUrl = o.databaseUrl ?? process.env.DATABASE_URL;
  if (!o.config || !databaseUrl) {
    console.error(
      "usage: bun scripts/edge-local.ts --config hookline.yaml --database-url postgres://… [--port 8787] [--var NAME=value]",
    );
    return 2;
  }
  const out = await mkdtemp(join(tmpdir(), "hookline-edge-"));
  const built = await buildEdge({ config: o.config, out });
  console.log(
    `built ${built.file}: ${(built.bytes / 1024).toFixed(1)} KB minified, ${(built.gzipBytes / 1024).toFixed(1)} KB gzipped`,
  );
  const edge = await startEdgeWorker({
    bundle: join(out, "worker.js"),
    vars: { ...o.vars, DATABASE_URL: databaseUrl },
    port: o.port ?? 8787,
  });
  console.log(`edge worker (workerd) listening on ${edge.url}/in/<endpoint>; Ctrl-C stops it`);
  let shown = 0;
  const tail = setInterval(() => {
    for (const line of edge.output.slice(shown)) console.log(line);
    shown = edge.output.length;
  }, 200);
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  clearInterval(tail);
  await edge.stop();
  await rm(out, { recursive: true, force: true });
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(`edge-local: ${(e as Error).message}`);
      process.exitCode = 1;
    },
  );
}
