import { packageVersion, runCli } from "../../core/cli.ts";
import { defaultPlugins } from "../../plugins/defaults.ts";
import { denoApi } from "./deno-api.ts";
import { denoRuntime } from "./runtime.ts";

// Deno's fetch reads file: URLs (and the https: ones a remote import runs from).
const readUrl = async (url: URL) => {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return await response.text();
};

/**
 * The `hookline` command on Deno, from source: `deno run -A adapters/deno/cli.ts serve --config hookline.yaml`.
 *
 * @example await main(["validate", "--config", "hookline.yaml"]);
 */
export async function main(argv: string[] = denoApi().args): Promise<void> {
  const deno = denoApi();
  // A synchronous reader lets mTLS check certificates from files when the config loads.
  const code = await runCli(
    denoRuntime(),
    argv,
    defaultPlugins({ readFile: (path) => deno.readTextFileSync(path) }),
    { version: () => packageVersion(readUrl) },
  );
  // Pools, PGlite and a worker that failed to start would hold the process open after serve returns.
  deno.exit(code);
}

if ((import.meta as { main?: boolean }).main) await main();
