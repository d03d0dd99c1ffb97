// The Node command from source, for tests and measurements that must not depend on a built dist/:
// bundled with esbuild (packages external) into tests/runtimes/dist/node-cli.mjs by nodeCli().
import { main } from "../../adapters/node/cli.ts";

await main();
