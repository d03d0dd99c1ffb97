import type { Plugin } from "./plugin.ts";

/** A running HTTP server. */
export interface ServerHandle {
  port: number;
  close(): Promise<void>;
}

/**
 * What a runtime adapter gives the CLI: the only place where Node, Bun, Deno and workerd differ.
 */
export interface Runtime {
  readonly name: "node" | "bun" | "deno" | "workerd";
  readonly env: Record<string, string | undefined>;
  readFile(path: string): Promise<string>;
  serve(
    fetch: (request: Request) => Response | Promise<Response>,
    options: { host: string; port: number },
  ): Promise<ServerHandle>;
  /** Plugins this runtime adds (its fastest transport, its TLS client). */
  plugins(): Plugin[];
  stdout(line: string): void;
  /** Whether stdout is a terminal (a live progress line is redrawn in place there). */
  stdoutIsTerminal?(): boolean;
  stderr(line: string): void;
  /** Calls `handler` once on SIGINT/SIGTERM (where the runtime has signals). */
  onShutdown(handler: () => Promise<void>): void;
}
