/**
 * The part of the `Deno` namespace this adapter uses, typed here so that the adapter type-checks with
 * the project's tsc as well as with `deno check`. Read from `globalThis` when called, never at import,
 * so that importing the adapter elsewhere (a bundle, a test) does not fail.
 */
export interface DenoServeInfo {
  remoteAddr: { hostname: string; port: number };
}

export interface DenoHttpServer {
  readonly addr: { hostname: string; port: number };
  readonly finished: Promise<void>;
  shutdown(): Promise<void>;
}

export interface DenoNamespace {
  readonly version: { deno: string };
  readonly env: { toObject(): Record<string, string> };
  readonly args: string[];
  readonly stdout: { isTerminal(): boolean };
  readTextFile(path: string): Promise<string>;
  readTextFileSync(path: string): string;
  serve(
    options: { hostname: string; port: number; onListen?: (addr: unknown) => void },
    handler: (request: Request, info: DenoServeInfo) => Response | Promise<Response>,
  ): DenoHttpServer;
  addSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  removeSignalListener(signal: "SIGINT" | "SIGTERM", handler: () => void): void;
  exit(code?: number): never;
}

/**
 * The `Deno` global. Throws, naming what is missing, when called outside Deno.
 *
 * @example denoApi().readTextFile("hookline.yaml")
 */
export function denoApi(): DenoNamespace {
  const deno = (globalThis as { Deno?: DenoNamespace }).Deno;
  if (!deno) throw new Error("the deno adapter runs on Deno only: the Deno global is missing");
  return deno;
}
