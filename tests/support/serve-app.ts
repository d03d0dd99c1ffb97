import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import type { Hookline } from "../../core/app.ts";

/** A fetch that takes the server's per-request environment, as hono apps do. */
export type FetchWithEnv = (request: Request, env?: unknown) => Response | Promise<Response>;

export interface ServedApp {
  /** `http://127.0.0.1:PORT` (no trailing slash). */
  url: string;
  close(): Promise<void>;
}

/**
 * Serves an app over real HTTP on a free loopback port with @hono/node-server, handing the hono app
 * the server's per-request environment (`c.env.incoming`: the socket address IP allowlists read).
 *
 * @example const served = await serveApp(app); await fetch(`${served.url}/in/esputnik`, …); await served.close();
 */
export async function serveApp(
  app: Pick<Hookline, "http"> | { http: { fetch: FetchWithEnv } },
): Promise<ServedApp> {
  return new Promise((resolve) => {
    const server = serve(
      // As the Node adapter does: node-server's lightweight Response must not replace the global one
      // in this process, where other tests serve with Bun.serve (which refuses it).
      { fetch: app.http.fetch as FetchWithEnv, hostname: "127.0.0.1", port: 0, overrideGlobalObjects: false },
      (info: AddressInfo) =>
        resolve({
          url: `http://127.0.0.1:${info.port}`,
          close: () =>
            new Promise<void>((done) => {
              (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
              server.close(() => done());
            }),
        }),
    );
  });
}
